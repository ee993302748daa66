"""Exercises of notebook 04 (network policies): a default deny, an allow from a namespace, the AND/OR trap.

The verdict comes from **real packets**: ``observe_matrix`` runs ``labkit.probe``, which connects
every pod of the exercise's namespaces to every other one, as upstream's e2e tests do; the pure
``judge_*`` compare the observed cells with what the exercise asks for. The policies themselves are
read only to give a better hint (no policy yet, a policy that selects too few pods), never to decide.

The enforcer applies a policy a moment after the API accepted it, so the checks probe again until
the observed matrix equals what the policies predict (or a few seconds passed) before judging.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import i18n
from . import Result, failed, passed
from .judges import misplaced
from .services import WAIT_SECONDS, lab_name, poll

NAMESPACES = ("nb04", "nb04-front", "nb04-ops")
PROBE_TIMEOUT = 1.0        # seconds per connection: pods are on this machine, an answer takes ms
MAX_LISTED = 4             # pairs listed in a reason before "and N more"

MESSAGES = {
    "ex.pol.still_reaches": {
        "en": "{src} still reaches {dst} on port {port} (seen with real packets)",
        "fr": "{src} joint encore {dst} sur le port {port} (constaté avec de vrais paquets)"},
    "ex.pol.more": {"en": "… and {count} more connections like these",
                    "fr": "… et {count} autres connexions du même genre"},
    "ex.pol.more_one": {"en": "… and 1 more connection like these", "fr": "… et 1 autre connexion du même genre"},
    "ex.pol.no_policy": {
        "en": "there is no NetworkPolicy in namespace {namespace} yet",
        "fr": "il n'y a pas encore de NetworkPolicy dans le namespace {namespace}"},
    "ex.pol.not_selected": {
        "en": "no policy selects {pod} for ingress: a default deny selects every pod (`podSelector: {{}}`)",
        "fr": "aucune politique ne sélectionne {pod} en entrée : un refus par défaut sélectionne tous les pods "
              "(`podSelector: {{}}`)"},
    "ex.pol.egress_blocked": {
        "en": "{src} can no longer connect out to {dst}: this exercise denies incoming traffic only "
              "(`policyTypes: [Ingress]`)",
        "fr": "{src} ne peut plus se connecter vers {dst} : l'exercice ne refuse que le trafic entrant "
              "(`policyTypes: [Ingress]`)"},
    "ex.pol.deny_ok": {
        "en": "no pod reaches the pods of {namespace} any more ({count} connections refused), and they can "
              "still connect out.",
        "fr": "plus aucun pod ne joint les pods de {namespace} ({count} connexions refusées), et eux peuvent "
              "toujours se connecter vers l'extérieur."},
    "ex.pol.cannot_reach": {
        "en": "{src} cannot reach {dst} on port {port} yet",
        "fr": "{src} ne joint pas encore {dst} sur le port {port}"},
    "ex.pol.only_from": {
        "en": "{src} reaches {dst} on port {port}, but only pods of namespace {namespace} should",
        "fr": "{src} joint {dst} sur le port {port}, alors que seuls les pods du namespace {namespace} "
              "devraient le joindre"},
    "ex.pol.other_port": {
        "en": "{src} also reaches {dst} on port {port}: allow port {allowed} only",
        "fr": "{src} joint aussi {dst} sur le port {port} : n'autorisez que le port {allowed}"},
    "ex.pol.from_ok": {
        "en": "only the pods of {namespace} reach {dst}, and only on port {port}.",
        "fr": "seuls les pods de {namespace} joignent {dst}, et seulement sur le port {port}."},
    "ex.pol.leak_pod_selector": {
        "en": "{src} reaches {dst}: a peer with only `podSelector` selects pods of the policy's own namespace "
              "({namespace}), whatever the other peers say",
        "fr": "{src} joint {dst} : un pair avec seulement `podSelector` désigne des pods du namespace de la "
              "politique ({namespace}), quoi que disent les autres pairs"},
    "ex.pol.leak_namespace_selector": {
        "en": "{src} reaches {dst}: a peer with only `namespaceSelector` lets every pod of {namespace} in",
        "fr": "{src} joint {dst} : un pair avec seulement `namespaceSelector` laisse entrer tous les pods de "
              "{namespace}"},
    "ex.pol.open_to_all": {
        "en": "no policy selects {dst} for ingress: every pod reaches it",
        "fr": "aucune politique ne sélectionne {dst} en entrée : tous les pods le joignent"},
    "ex.pol.and_ok": {
        "en": "only {allowed} reaches {dst}: both selectors are in one peer, so they must both match (AND).",
        "fr": "seul {allowed} joint {dst} : les deux sélecteurs sont dans le même pair, ils doivent donc "
              "correspondre tous les deux (ET)."},
}


def settled_probe(lab: Any, port: int = 80, namespaces: str | Iterable[str] = NAMESPACES,
                  seconds: float = WAIT_SECONDS):
    """``labkit.probe`` again until observed = predicted (the enforcer caught up) or ``seconds`` pass."""
    from ..netpol.handle import split_namespaces
    from ..netpol.probe import probe

    names = split_namespaces(namespaces)
    return poll(lambda: probe(lab_name(lab), port=port, namespaces=names, timeout=PROBE_TIMEOUT, retries=1),
                lambda r: r.ok, seconds)


def connects(cluster: Any, src: str, dst_ip: str, port: int) -> bool:
    """One TCP connection from pod ``src`` (``ns/name``) to ``dst_ip:port``, through the API's exec (no
    root needed): did the handshake complete?"""
    from .pods import pod_exec

    namespace, _, name = src.partition("/")
    try:
        pod_exec(cluster, namespace, name, ["nc", "-z", "-w", str(int(PROBE_TIMEOUT)), dst_ip, str(port)], timeout=15)
        return True
    except Exception:  # noqa: BLE001 - refused, dropped or timed out: no connection
        return False


def _listed(lines: list[str], lang: str) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return lines[:MAX_LISTED] + [i18n.t("ex.pol.more" if len(lines) - MAX_LISTED > 1 else "ex.pol.more_one", lang,
                                          count=len(lines) - MAX_LISTED)]


def _namespace(key: str) -> str:
    return key.split("/", 1)[0]


# --- observe: real packets, and the policies only for the hints --------------------------------------
def observe_matrix(cluster: Any, namespaces: str | Iterable[str] = NAMESPACES, port: int = 80,
                   dst: str | None = None, from_namespace: str | None = None, other_port: int | None = None,
                   namespace: str | None = None, expected: Iterable[str] = ()) -> dict:
    """Who reaches whom on ``port`` (the probe, settled), which namespaces have policies, which pods
    are isolated for ingress; with ``other_port``, which pods of ``from_namespace`` reach ``dst`` there.
    The exercise's own terms (``namespace``, ``dst``, ``from_namespace``, ``expected``) ride along."""
    from ..netpol.handle import engine

    lab = cluster if isinstance(cluster, str) else (getattr(cluster, "lab", None) or getattr(cluster, "name", None))
    result = settled_probe(lab, port, namespaces)
    eng = engine(lab_name(lab))
    facts = {"port": port, "pods": list(result.pods),
             "allowed": [[s, d] for s in result.pods for d in result.pods if s != d and result.allowed(s, d)],
             "policy_namespaces": sorted({p.namespace for p in eng.policies}),
             "policies": sorted(p.key for p in eng.policies),
             "isolated": sorted(eng.isolated("Ingress")), "other_port": other_port, "other_port_open": [],
             "namespace": namespace, "dst": dst, "from_namespace": from_namespace, "expected": sorted(expected)}
    if other_port is not None and dst is not None:
        from kubernetes import client

        namespace_, _, name = dst.partition("/")
        ip = client.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace_).status.pod_ip
        facts["other_port_open"] = [s for s in result.pods if _namespace(s) == from_namespace
                                    and connects(cluster, s, ip, other_port)]
    return facts


def _allowed(facts: dict) -> set[tuple[str, str]]:
    return {(s, d) for s, d in facts["allowed"]}


# --- exercise 1: default deny -------------------------------------------------------------------------
def judge_default_deny(facts: dict, answer: Any, lang: str) -> Result:
    """No pod (but itself) reaches a pod of ``namespace``, and its pods still connect out."""
    namespace = facts.get("namespace") or "nb04"
    allowed, pods, port = _allowed(facts), facts["pods"], facts["port"]
    inside = [p for p in pods if _namespace(p) == namespace]
    leaks = [(s, d) for d in inside for s in pods if s != d and (s, d) in allowed]
    reasons = _listed([i18n.t("ex.pol.still_reaches", lang, src=s, dst=d, port=port) for s, d in leaks], lang)
    if leaks:
        if namespace not in facts["policy_namespaces"]:
            reasons[:0] = [i18n.t("ex.pol.no_policy", lang, namespace=namespace), *misplaced(facts, namespace, lang)]
        else:
            reasons += [i18n.t("ex.pol.not_selected", lang, pod=d)
                        for d in dict.fromkeys(d for _, d in leaks) if d not in facts["isolated"]]
    outside = [p for p in pods if _namespace(p) != namespace]
    blocked = [(s, d) for s in inside for d in outside[:1] if (s, d) not in allowed]
    reasons += [i18n.t("ex.pol.egress_blocked", lang, src=s, dst=d) for s, d in blocked[:1]]
    if reasons:
        return failed(*reasons)
    refused = sum(1 for d in inside for s in pods if s != d)
    return passed(i18n.t("ex.pol.deny_ok", lang, namespace=namespace, count=refused))


# --- exercise 2: allow one namespace to one pod on one port ------------------------------------------
def judge_allow_from_namespace(facts: dict, answer: Any, lang: str) -> Result:
    """Pods of ``from_namespace`` reach ``dst`` on the port, no other pod does, and the other port
    (which ``dst`` also serves) stays closed to them."""
    dst, from_namespace = facts.get("dst") or "nb04/web", facts.get("from_namespace") or "nb04-front"
    allowed, port = _allowed(facts), facts["port"]
    missing, extra = [], []
    for src in facts["pods"]:
        if src == dst:
            continue
        wanted, seen = _namespace(src) == from_namespace, (src, dst) in allowed
        if wanted and not seen:
            missing.append(i18n.t("ex.pol.cannot_reach", lang, src=src, dst=dst, port=port))
        elif seen and not wanted:
            extra.append(i18n.t("ex.pol.only_from", lang, src=src, dst=dst, port=port, namespace=from_namespace))
    reasons = _listed(missing, lang) + _listed(extra, lang)
    if not reasons:
        reasons = [i18n.t("ex.pol.other_port", lang, src=s, dst=dst, port=facts["other_port"], allowed=port)
                   for s in facts.get("other_port_open") or []]
    if reasons:
        reasons += misplaced(facts, _namespace(dst), lang)
    if reasons:
        return failed(*reasons)
    return passed(i18n.t("ex.pol.from_ok", lang, namespace=from_namespace, dst=dst, port=port))


# --- exercise 4: the AND/OR trap ----------------------------------------------------------------------
def judge_and_or(facts: dict, answer: Any, lang: str) -> Result:
    """Exactly the ``expected`` pods (and the pod itself) reach ``dst``."""
    dst, expected = facts.get("dst") or "nb04/api", set(facts.get("expected") or ["nb04-ops/prometheus"])
    allowed, port = _allowed(facts), facts["port"]
    missing, leaks = [], []
    for src in facts["pods"]:
        if src == dst:
            continue
        seen = (src, dst) in allowed
        if src in expected and not seen:
            missing.append(i18n.t("ex.pol.cannot_reach", lang, src=src, dst=dst, port=port))
        elif seen and src not in expected:
            key = "ex.pol.leak_pod_selector" if _namespace(src) == _namespace(dst) else "ex.pol.leak_namespace_selector"
            leaks.append(i18n.t(key, lang, src=src, dst=dst, namespace=_namespace(src)))
    if leaks and dst not in facts["isolated"]:
        leaks = [i18n.t("ex.pol.open_to_all", lang, dst=dst)]
    reasons = _listed(missing, lang) + _listed(leaks, lang)
    if reasons:
        return failed(*reasons, *misplaced(facts, _namespace(dst), lang))
    return passed(i18n.t("ex.pol.and_ok", lang, allowed=", ".join(sorted(expected)), dst=dst))


__all__ = ["observe_matrix", "judge_default_deny", "judge_allow_from_namespace", "judge_and_or", "settled_probe"]
