"""Checks of notebook 03 (pod-to-service): expose a deployment, read kube-proxy's chains, a NodePort.

Each check reads the running lab the way an instructor would look over a learner's shoulder: the
Service and its EndpointSlices through the Kubernetes API, the rules in a node's namespace
(``iptables-save``), and a real HTTP request through the ClusterIP or the NodePort. It never reads
the learner's code; the one check that takes values (the chain name and probability the learner
found) compares them with the node's real rules.

kube-proxy programs rules a moment after the API changed (it is debounced), so the checks that
send packets retry for a few seconds before they say "not yet".
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

from .. import i18n
from . import Result, recorded

WAIT_SECONDS = 8.0          # how long a check waits for kube-proxy / the enforcer to catch up
POLL_SECONDS = 0.3

MESSAGES = {
    "ex.svc.no_service": {
        "en": "there is no Service {service} in namespace {namespace} yet (`kubectl -n {namespace} expose "
              "deployment ...`)",
        "fr": "il n'y a pas encore de Service {service} dans le namespace {namespace} (`kubectl -n {namespace} "
              "expose deployment ...`)"},
    "ex.svc.no_deployment": {
        "en": "there is no Deployment {deployment} in namespace {namespace} yet (`kubectl -n {namespace} create "
              "deployment ...`)",
        "fr": "il n'y a pas encore de Deployment {deployment} dans le namespace {namespace} (`kubectl -n "
              "{namespace} create deployment ...`)"},
    "ex.svc.replicas": {
        "en": "Deployment {deployment} has {ready} ready pod(s), expected {expected}",
        "fr": "le Deployment {deployment} a {ready} pod(s) prêt(s), on en attend {expected}"},
    "ex.svc.wrong_port": {
        "en": "Service {service} listens on port(s) {ports}, expected {port}",
        "fr": "le Service {service} écoute sur le(s) port(s) {ports}, on attend {port}"},
    "ex.svc.wrong_target": {
        "en": "port {port} of Service {service} forwards to targetPort {target}, but the pods answer on "
              "{expected} (`--target-port`)",
        "fr": "le port {port} du Service {service} renvoie vers le targetPort {target}, mais les pods répondent "
              "sur le {expected} (`--target-port`)"},
    "ex.svc.no_selector": {
        "en": "Service {service} has no selector: nothing tells it which pods to send traffic to",
        "fr": "le Service {service} n'a pas de sélecteur : rien ne lui dit vers quels pods envoyer le trafic"},
    "ex.svc.selects_nothing": {
        "en": "the selector of Service {service} ({selector}) matches none of the pods of {deployment}",
        "fr": "le sélecteur du Service {service} ({selector}) ne correspond à aucun pod de {deployment}"},
    "ex.svc.endpoints": {
        "en": "the EndpointSlices of {service} list {count} ready endpoint(s), expected {expected}",
        "fr": "les EndpointSlices de {service} listent {count} endpoint(s) prêt(s), on en attend {expected}"},
    "ex.svc.no_answer": {
        "en": "a request to {url} from node {node} got no answer from a pod of {deployment} ({error})",
        "fr": "une requête vers {url} depuis le nœud {node} n'a pas eu de réponse d'un pod de {deployment} "
              "({error})"},
    "ex.svc.answered": {
        "en": "{url} answered from pod {pod} (node {node}): the Service works.",
        "fr": "{url} a répondu depuis le pod {pod} (nœud {node}) : le Service fonctionne."},
    "ex.svc.not_iptables": {
        "en": "kube-proxy runs in {mode} mode on this lab: there are no KUBE-SVC chains to find (start a lab "
              "with `--proxy-mode iptables`)",
        "fr": "kube-proxy tourne en mode {mode} sur ce lab : il n'y a pas de chaîne KUBE-SVC à trouver (lancez "
              "un lab avec `--proxy-mode iptables`)"},
    "ex.svc.no_rules": {
        "en": "node {node} has no kube-proxy rules for {service} yet: does the Service exist and have endpoints?",
        "fr": "le nœud {node} n'a pas encore de règles kube-proxy pour {service} : le Service existe-t-il, "
              "a-t-il des endpoints ?"},
    "ex.svc.chain_missing": {
        "en": "`chain` is not set: assign the name of the KUBE-SVC-… chain of {service} (a string)",
        "fr": "`chain` n'est pas renseignée : donnez-lui le nom de la chaîne KUBE-SVC-… de {service} "
              "(une chaîne de caractères)"},
    "ex.svc.chain_is_sep": {
        "en": "{chain} is an endpoint chain (KUBE-SEP): look for the chain that KUBE-SERVICES jumps to for "
              "{service}",
        "fr": "{chain} est une chaîne d'endpoint (KUBE-SEP) : cherchez la chaîne vers laquelle KUBE-SERVICES "
              "saute pour {service}"},
    "ex.svc.chain_wrong": {
        "en": "{chain} is not the KUBE-SVC chain of {service} on node {node} (grep the comment \"{service}\" "
              "in `iptables-save`)",
        "fr": "{chain} n'est pas la chaîne KUBE-SVC de {service} sur le nœud {node} (cherchez le commentaire "
              "\"{service}\" dans `iptables-save`)"},
    "ex.svc.probability_missing": {
        "en": "`probability` is not set: assign the number after --probability in the first rule of the chain",
        "fr": "`probability` n'est pas renseignée : donnez-lui le nombre qui suit --probability dans la "
              "première règle de la chaîne"},
    "ex.svc.probability_wrong": {
        "en": "{value} is not the probability of the first rule of {chain} (with {count} endpoints, the first "
              "rule takes one new connection in {count})",
        "fr": "{value} n'est pas la probabilité de la première règle de {chain} (avec {count} endpoints, la "
              "première règle prend une nouvelle connexion sur {count})"},
    "ex.svc.chain_ok": {
        "en": "{chain} sends 1 new connection in {count} to its first endpoint (probability {probability}), "
              "then 1 in {rest} of the rest…",
        "fr": "{chain} envoie 1 nouvelle connexion sur {count} à son premier endpoint (probabilité "
              "{probability}), puis 1 sur {rest} du reste…"},
    "ex.svc.not_nodeport": {
        "en": "Service {service} is of type {type}, not NodePort",
        "fr": "le Service {service} est de type {type}, pas NodePort"},
    "ex.svc.wrong_nodeport": {
        "en": "Service {service} has nodePort(s) {ports}, expected {port} (set `nodePort` in the port)",
        "fr": "le Service {service} a le(s) nodePort(s) {ports}, on attend {port} (renseignez `nodePort` "
              "dans le port)"},
    "ex.svc.nodeport_ok": {
        "en": "port {port} answers on every node ({nodes}).",
        "fr": "le port {port} répond sur chaque nœud ({nodes})."},
}
i18n.register(MESSAGES)


# --- the lab and its API ------------------------------------------------------------------------------
def lab_name(lab: Any = None) -> str:
    """A lab name from a name, an ``EmbeddedLab``, or ``None`` (``$LABKIT_LAB``, else ``kubenet``)."""
    if lab is None:
        return os.environ.get("LABKIT_LAB", "kubenet")
    return lab if isinstance(lab, str) else lab.name


def embedded(lab: Any = None):
    from ..embedded.client import EmbeddedLab

    return EmbeddedLab(lab_name(lab))


def api_client(lab: Any = None):
    """The official client's ``ApiClient`` for the lab (its kubeconfig)."""
    from kubernetes import config

    from ..embedded.paths import kubeconfig_file

    return config.new_client_from_config(config_file=str(kubeconfig_file(lab_name(lab))))


def read(api, kind: str, namespace: str, name: str | None = None, selector: str | None = None) -> Any:
    """One object (``name``) or a list's items as plain JSON dicts; ``None`` when the object is absent.

    ``kind`` is ``service``, ``deployment``, ``pod``, ``endpointslice`` or ``networkpolicy``."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    apis = {"service": (client.CoreV1Api, "namespaced_service"), "pod": (client.CoreV1Api, "namespaced_pod"),
            "deployment": (client.AppsV1Api, "namespaced_deployment"),
            "endpointslice": (client.DiscoveryV1Api, "namespaced_endpoint_slice"),
            "networkpolicy": (client.NetworkingV1Api, "namespaced_network_policy")}
    cls, suffix = apis[kind]
    target = cls(api)
    try:
        if name is not None:
            resp = getattr(target, f"read_{suffix}")(name, namespace, _preload_content=False)
            return json.loads(resp.data)
        kwargs = {"label_selector": selector} if selector else {}
        resp = getattr(target, f"list_{suffix}")(namespace, _preload_content=False, **kwargs)
        return json.loads(resp.data).get("items") or []
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def matches(selector: dict, labels: dict) -> bool:
    """A Service-style selector (equality only) against a pod's labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def running(pods: list[dict]) -> list[dict]:
    return [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
            and (p.get("status") or {}).get("podIP") and not p["metadata"].get("deletionTimestamp")]


def ready_endpoints(slices: list[dict], service: str) -> set[str]:
    """The ready addresses the EndpointSlices of ``service`` list."""
    out = set()
    for sl in slices:
        if (sl["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != service:
            continue
        for ep in sl.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready", True):
                out.update(ep.get("addresses") or [])
    return out


def poll(attempt: Callable[[], Any], done: Callable[[Any], bool], seconds: float = WAIT_SECONDS) -> Any:
    """Call ``attempt`` until ``done(value)`` or the deadline; the last value either way."""
    deadline = time.monotonic() + seconds
    while True:
        value = attempt()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(POLL_SECONDS)


def http_from_node(lab, node: str, url: str) -> tuple[dict | None, str]:
    """GET ``url`` from a node's namespace: (the echo responder's JSON or None, an error text)."""
    proc = lab.node_exec(node, ["curl", "-s", "-m", "2", url], timeout=10)
    text = proc.stdout.strip()
    if proc.returncode == 0 and text.startswith("{"):
        try:
            return json.loads(text), ""
        except ValueError:
            pass
    return None, f"curl exit {proc.returncode}" if proc.returncode else text[:60] or "empty answer"


# --- exercise 1: expose a deployment ------------------------------------------------------------------
@recorded
def check_exposed(namespace: str = "nb03", deployment: str = "hello", service: str = "hello", port: int = 8080,
                  target_port: int = 80, replicas: int = 2, lab: Any = None, lang: str | None = None) -> Result:
    """Deployment ``deployment`` runs ``replicas`` pods and Service ``service`` sends ``port`` to
    their ``target_port``: checked on the objects, the EndpointSlices and with a real request."""
    lang = lang or i18n.get_language()
    api = api_client(lab)
    reasons = _deployment_reasons(api, namespace, deployment, replicas, lang)
    svc = read(api, "service", namespace, service)
    if svc is None:
        return Result(False, reasons + [i18n.t("ex.svc.no_service", lang, service=service, namespace=namespace)],
                      lang)
    reasons += _service_reasons(api, svc, deployment, port, target_port, lang)
    if reasons:
        return Result(False, reasons, lang)
    count = len(running(read(api, "pod", namespace, selector=_selector_text(svc["spec"]["selector"]))))
    slices = poll(lambda: ready_endpoints(read(api, "endpointslice", namespace), service),
                  lambda eps: len(eps) == count)
    if len(slices) != replicas:
        return Result(False, [i18n.t("ex.svc.endpoints", lang, service=service, count=len(slices),
                                     expected=replicas)], lang)
    url = f"http://{svc['spec']['clusterIP']}:{port}/"
    return _answered(embedded(lab), url, deployment, {p["metadata"]["name"] for p in running(
        read(api, "pod", namespace, selector=_selector_text(svc["spec"]["selector"])))}, lang)


def _deployment_reasons(api, namespace: str, deployment: str, replicas: int, lang: str) -> list[str]:
    dep = read(api, "deployment", namespace, deployment)
    if dep is None:
        return [i18n.t("ex.svc.no_deployment", lang, deployment=deployment, namespace=namespace)]
    ready = len(running(read(api, "pod", namespace,
                             selector=_selector_text(dep["spec"]["selector"].get("matchLabels") or {}))))
    if ready != replicas:
        return [i18n.t("ex.svc.replicas", lang, deployment=deployment, ready=ready, expected=replicas)]
    return []


def _service_reasons(api, svc: dict, deployment: str, port: int, target_port: int, lang: str) -> list[str]:
    name, spec = svc["metadata"]["name"], svc["spec"]
    ports = spec.get("ports") or []
    mine = next((p for p in ports if p.get("port") == port), None)
    reasons = []
    if mine is None:
        reasons.append(i18n.t("ex.svc.wrong_port", lang, service=name, ports=", ".join(
            str(p.get("port")) for p in ports) or "-", port=port))
    elif str(mine.get("targetPort", port)) != str(target_port):
        reasons.append(i18n.t("ex.svc.wrong_target", lang, service=name, port=port, target=mine.get("targetPort"),
                              expected=target_port))
    selector = spec.get("selector") or {}
    if not selector:
        reasons.append(i18n.t("ex.svc.no_selector", lang, service=name))
        return reasons
    dep = read(api, "deployment", svc["metadata"]["namespace"], deployment)
    labels = ((dep or {}).get("spec", {}).get("template", {}).get("metadata") or {}).get("labels") or {}
    if dep is not None and not matches(selector, labels):
        reasons.append(i18n.t("ex.svc.selects_nothing", lang, service=name, selector=_selector_text(selector),
                              deployment=deployment))
    return reasons


def _selector_text(selector: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _answered(lab, url: str, deployment: str, pods: set[str], lang: str, node: str | None = None) -> Result:
    node = node or lab.spec.node_plans()[1 if len(lab.spec.node_plans()) > 1 else 0].name
    answer, error = poll(lambda: http_from_node(lab, node, url), lambda r: r[0] is not None and r[0].get("pod") in pods)
    if answer is None or answer.get("pod") not in pods:
        return Result(False, [i18n.t("ex.svc.no_answer", lang, url=url, node=node, deployment=deployment,
                                     error=error or (answer or {}).get("pod"))], lang)
    return Result(True, [i18n.t("ex.svc.answered", lang, url=url, pod=answer["pod"], node=answer.get("node"))], lang)


# --- exercise 2: find the KUBE-SVC chain and the probability of its first rule ------------------------
def svc_chain_rules(iptables_save: str, service: str) -> tuple[str | None, list[float]]:
    """The KUBE-SVC chain of ``service`` (``ns/name``) in ``iptables-save`` output and the
    ``--probability`` of each of its rules towards an endpoint (1.0 for the last, unconditional one)."""
    from ..kubeproxy import read_service_map

    entry = next((s for s in read_service_map(iptables_save, "iptables-save").services
                  if s.service == service or s.service.startswith(service + ":")), None)
    chain = next((c for c in (entry.chains if entry else []) if c.startswith("KUBE-SVC-")), None)
    if chain is None:
        return None, []
    probabilities = []
    for line in iptables_save.splitlines():
        words = line.split()
        if line.startswith(f"-A {chain} ") and "KUBE-SEP-" in words[-1]:
            probabilities.append(float(words[words.index("--probability") + 1]) if "--probability" in words else 1.0)
    return chain, probabilities


@recorded
def check_service_chain(chain: Any, probability: Any, namespace: str = "nb03", service: str = "web",
                        node: str = "worker", lab: Any = None, lang: str | None = None) -> Result:
    """``chain`` is the KUBE-SVC chain of ``namespace/service`` on ``node`` and ``probability`` the
    ``--probability`` of its first rule, as ``iptables-save`` shows them on the node right now."""
    lang = lang or i18n.get_language()
    lab = embedded(lab)
    key = f"{namespace}/{service}"
    if lab.spec.proxy_mode != "iptables":
        return Result(False, [i18n.t("ex.svc.not_iptables", lang, mode=lab.spec.proxy_mode)], lang)
    plan = lab.spec.node(node) if node in {n.name for n in lab.spec.node_plans()} else next(
        n for n in lab.spec.node_plans() if n.name.endswith(f"-{node}"))
    real, probabilities = svc_chain_rules(lab.node_exec(plan.name, ["iptables-save"]).stdout, key)
    if real is None:
        return Result(False, [i18n.t("ex.svc.no_rules", lang, node=plan.name, service=key)], lang)
    if not isinstance(chain, str) or not chain.strip() or chain.strip() in ("KUBE-SVC-", "KUBE-SVC-..."):
        return Result(False, [i18n.t("ex.svc.chain_missing", lang, service=key)], lang)
    chain = chain.strip()
    if chain != real:
        msg = "ex.svc.chain_is_sep" if chain.startswith("KUBE-SEP-") else "ex.svc.chain_wrong"
        return Result(False, [i18n.t(msg, lang, chain=chain, service=key, node=plan.name)], lang)
    count = len(probabilities)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)):
        return Result(False, [i18n.t("ex.svc.probability_missing", lang)], lang)
    if abs(float(probability) - probabilities[0]) > 1e-3:
        return Result(False, [i18n.t("ex.svc.probability_wrong", lang, value=probability, chain=chain,
                                     count=count)], lang)
    return Result(True, [i18n.t("ex.svc.chain_ok", lang, chain=chain, count=count, rest=max(count - 1, 1),
                                probability=f"{probabilities[0]:.11f}")], lang)


# --- exercise 3: a NodePort on a given port -----------------------------------------------------------
@recorded
def check_node_port(namespace: str = "nb03", service: str = "web-np", node_port: int = 30080,
                    deployment: str = "web", lab: Any = None, lang: str | None = None) -> Result:
    """Service ``service`` is a NodePort on ``node_port`` and a request to every node's IP on that
    port is answered by a pod of ``deployment`` (sent from the control-plane node's namespace)."""
    lang = lang or i18n.get_language()
    api = api_client(lab)
    svc = read(api, "service", namespace, service)
    if svc is None:
        return Result(False, [i18n.t("ex.svc.no_service", lang, service=service, namespace=namespace)], lang)
    spec = svc["spec"]
    reasons = []
    if spec.get("type") != "NodePort":
        reasons.append(i18n.t("ex.svc.not_nodeport", lang, service=service, type=spec.get("type", "ClusterIP")))
    ports = [p.get("nodePort") for p in spec.get("ports") or [] if p.get("nodePort")]
    if node_port not in ports:
        reasons.append(i18n.t("ex.svc.wrong_nodeport", lang, service=service,
                              ports=", ".join(map(str, ports)) or "-", port=node_port))
    dep = read(api, "deployment", namespace, deployment)
    labels = ((dep or {}).get("spec", {}).get("template", {}).get("metadata") or {}).get("labels") or {}
    if not spec.get("selector"):
        reasons.append(i18n.t("ex.svc.no_selector", lang, service=service))
    elif dep is not None and not matches(spec["selector"], labels):
        reasons.append(i18n.t("ex.svc.selects_nothing", lang, service=service,
                              selector=_selector_text(spec["selector"]), deployment=deployment))
    if reasons:
        return Result(False, reasons, lang)
    lab = embedded(lab)
    pods = {p["metadata"]["name"] for p in running(read(api, "pod", namespace, selector=_selector_text(labels)))}
    plans = lab.spec.node_plans()
    for plan in plans:
        result = _answered(lab, f"http://{plan.ip}:{node_port}/", deployment, pods, lang, node=plans[0].name)
        if not result.ok:
            return result
    return Result(True, [i18n.t("ex.svc.nodeport_ok", lang, port=node_port,
                                nodes=", ".join(p.ip for p in plans))], lang)


__all__ = ["check_exposed", "check_service_chain", "check_node_port", "svc_chain_rules"]
