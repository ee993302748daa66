"""Exercises of notebook 03 (pod-to-service): expose a deployment, a NodePort on a given port.

``observe_*`` read the cluster the way an instructor would look over a learner's shoulder: the
Service and its EndpointSlices through the Kubernetes API, and real HTTP requests through the
ClusterIP or the NodePort, sent from a pod through the API's exec (kind and the embedded lab
alike). ``judge_*`` are pure. ``svc_chain_rules`` reads a KUBE-SVC chain's probabilities for the
prediction of exercise 03.2 (:mod:`.observe`). Small API readers (``read``, ``ready_endpoints``,
``poll``) are shared with the other exercises.

kube-proxy programs rules a moment after the API changed (it is debounced), so the observers that
send packets retry for a few seconds before they report what they saw.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from .. import i18n
from . import Result, failed, passed
from .judges import look_alike

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
        "en": "the selector of Service {service} ({selector}) matches none of the pods of {deployment}, whose "
              "labels are {labels}",
        "fr": "le sélecteur du Service {service} ({selector}) ne correspond à aucun pod de {deployment}, dont "
              "les étiquettes sont {labels}"},
    "ex.svc.endpoints": {
        "en": "the EndpointSlices of {service} list {count} ready endpoint(s), expected {expected}",
        "fr": "les EndpointSlices de {service} listent {count} endpoint(s) prêt(s), on en attend {expected}"},
    "ex.svc.not_nodeport": {
        "en": "Service {service} is of type {type}, not NodePort",
        "fr": "le Service {service} est de type {type}, pas NodePort"},
    "ex.svc.wrong_nodeport": {
        "en": "Service {service} has nodePort(s) {ports}, expected {port} (set `nodePort` in the port)",
        "fr": "le Service {service} a le(s) nodePort(s) {ports}, on attend {port} (renseignez `nodePort` "
              "dans le port)"},
    "ex.svc.no_answer_pod": {
        "en": "a request to {url} got no answer from a pod of {deployment} ({error})",
        "fr": "une requête vers {url} n'a pas eu de réponse d'un pod de {deployment} ({error})"},
    "ex.svc.answered_pod": {
        "en": "{url} answered from pod {pod}: the Service works.",
        "fr": "{url} a répondu depuis le pod {pod} : le Service fonctionne."},
    "ex.svc.nodeport_ok": {
        "en": "port {port} answers on every node ({nodes}).",
        "fr": "le port {port} répond sur chaque nœud ({nodes})."},
}


# --- the lab and its API ------------------------------------------------------------------------------
def lab_name(lab: Any = None) -> str:
    """A lab name from a name, an ``EmbeddedLab``, or ``None`` (``$LABKIT_LAB``, else ``kubenet``)."""
    if lab is None:
        return os.environ.get("LABKIT_LAB", "kubenet")
    return lab if isinstance(lab, str) else lab.name


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


def look_alikes(api, kind: str, namespace: str, name: str) -> dict:
    """Where a missing ``namespace/name`` may be instead: ``elsewhere``, the namespaces that hold a
    ``kind`` named ``name`` (made without ``-n``?), and ``close``, the names of ``namespace`` close to
    ``name`` (a typo?). Only for the hint of a failing check: anything unreadable gives nothing."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    apis = {"service": (client.CoreV1Api, "service"), "pod": (client.CoreV1Api, "pod"),
            "deployment": (client.AppsV1Api, "deployment")}
    cls, plural = apis[kind]
    target = cls(api)
    try:
        everywhere = json.loads(getattr(target, f"list_{plural}_for_all_namespaces")(
            field_selector=f"metadata.name={name}", _preload_content=False).data).get("items") or []
        here = json.loads(getattr(target, f"list_namespaced_{plural}")(namespace, _preload_content=False).data
                          ).get("items") or []
    except (ApiException, OSError, ValueError):
        return {"elsewhere": [], "close": []}
    elsewhere = sorted({o["metadata"]["namespace"] for o in everywhere if o["metadata"]["name"] == name}
                       - {namespace})
    return {"elsewhere": elsewhere, "close": close_names(name, [o["metadata"]["name"] for o in here])}


def close_names(name: str, names: list[str]) -> list[str]:
    """The names that look like ``name`` (a typo, a suffix): at most three, closest first."""
    import difflib

    others = [n for n in names if n != name]
    close = difflib.get_close_matches(name, others, n=3, cutoff=0.7)
    return close + [n for n in others if n not in close and n.startswith(name)][:3 - len(close)]


def matches(selector: dict, labels: dict) -> bool:
    """A Service-style selector (equality only) against a pod's labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def running(pods: list[dict]) -> list[dict]:
    return [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
            and (p.get("status") or {}).get("podIP") and not p["metadata"].get("deletionTimestamp")]


def ready_endpoints(slices: list[dict], service: str) -> set[str]:
    """The ready addresses the EndpointSlices of ``service`` list."""
    out: set[str] = set()
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


# --- observe: the objects, the EndpointSlices, and real requests from a pod -----------------------------
def _from_pod(cluster: Any, client_pod: str, url: str) -> tuple[dict | None, str]:
    from .observe import _request

    return _request(cluster, client_pod, url)


def _deployment_facts(api, namespace: str, deployment: str) -> dict:
    dep = read(api, "deployment", namespace, deployment)
    if dep is None:
        return {"deployment_exists": False, "labels": {}, "pods": [],
                "deployment_look": look_alikes(api, "deployment", namespace, deployment)}
    labels = ((dep.get("spec", {}).get("template", {}).get("metadata") or {}).get("labels")) or {}
    selector = _selector_text(dep["spec"]["selector"].get("matchLabels") or {})
    return {"deployment_exists": True, "labels": labels,
            "pods": sorted(p["metadata"]["name"] for p in running(read(api, "pod", namespace, selector=selector)))}


def observe_exposed(cluster: Any, namespace: str = "nb03", deployment: str = "hello", service: str = "hello",
                    port: int = 8080, target_port: int = 80, replicas: int = 2,
                    client_pod: str = "nb03/client") -> dict:
    """The Deployment's running pods, the Service's ports and selector, its ready endpoints, and the
    pod that answered a request to ``ClusterIP:port`` sent from ``client_pod``."""
    api = cluster.api
    facts = dict(_deployment_facts(api, namespace, deployment), namespace=namespace, deployment=deployment,
                 service=service, port=port, target_port=target_port, replicas=replicas, service_exists=False,
                 ports=[], selector={}, endpoints=[], url=None, answered_by=None, error="")
    svc = read(api, "service", namespace, service)
    if svc is None:
        return dict(facts, service_look=look_alikes(api, "service", namespace, service))
    selector = svc["spec"].get("selector") or {}
    facts.update(service_exists=True, selector=selector,
                 ports=[{"port": p.get("port"), "targetPort": p.get("targetPort", p.get("port"))}
                        for p in svc["spec"].get("ports") or []])
    if selector and matches(selector, facts["labels"]):
        count = len(facts["pods"])
        facts["endpoints"] = sorted(poll(lambda: ready_endpoints(read(api, "endpointslice", namespace), service),
                                         lambda eps: len(eps) >= count))
        facts["url"] = f"http://{svc['spec'].get('clusterIP')}:{port}/"
        answer, facts["error"] = poll(lambda: _from_pod(cluster, client_pod, facts["url"]),
                                      lambda r: (r[0] or {}).get("pod") in facts["pods"])
        facts["answered_by"] = (answer or {}).get("pod")
    return facts


def judge_exposed(facts: dict, answer: Any, lang: str) -> Result:
    """``replicas`` pods run, the Service sends ``port`` to their ``target_port``, its EndpointSlices
    list them, and a real request through the ClusterIP is answered by one of them."""
    ns, dep, svc = facts["namespace"], facts["deployment"], facts["service"]
    reasons = []
    if not facts["deployment_exists"]:
        reasons.append(look_alike("Deployment", f"{ns}/{dep}", facts.get("deployment_look") or {}, lang)
                       or i18n.t("ex.svc.no_deployment", lang, deployment=dep, namespace=ns))
    elif len(facts["pods"]) != facts["replicas"]:
        reasons.append(i18n.t("ex.svc.replicas", lang, deployment=dep, ready=len(facts["pods"]),
                              expected=facts["replicas"]))
    if not facts["service_exists"]:
        return failed(*reasons, _no_service(facts, lang))
    port, target = facts["port"], facts["target_port"]
    mine = next((p for p in facts["ports"] if p["port"] == port), None)
    if mine is None:
        reasons.append(i18n.t("ex.svc.wrong_port", lang, service=svc, port=port,
                              ports=", ".join(str(p["port"]) for p in facts["ports"]) or "-"))
    elif str(mine["targetPort"]) != str(target):
        reasons.append(i18n.t("ex.svc.wrong_target", lang, service=svc, port=port, target=mine["targetPort"],
                              expected=target))
    if not facts["selector"]:
        reasons.append(i18n.t("ex.svc.no_selector", lang, service=svc))
    elif facts["deployment_exists"] and not matches(facts["selector"], facts["labels"]):
        reasons.append(_selects_nothing(facts, lang))
    if reasons:
        return failed(*reasons)
    if len(facts["endpoints"]) != facts["replicas"]:
        return failed(i18n.t("ex.svc.endpoints", lang, service=svc, count=len(facts["endpoints"]),
                             expected=facts["replicas"]))
    if facts["answered_by"] not in facts["pods"]:
        return failed(i18n.t("ex.svc.no_answer_pod", lang, url=facts["url"], deployment=dep,
                             error=facts["error"] or facts["answered_by"] or "-"))
    return passed(i18n.t("ex.svc.answered_pod", lang, url=facts["url"], pod=facts["answered_by"]))


def _no_service(facts: dict, lang: str) -> str:
    """No Service of that name in the namespace: where one like it is, if anywhere."""
    ns, svc = facts["namespace"], facts["service"]
    return (look_alike("Service", f"{ns}/{svc}", facts.get("service_look") or {}, lang)
            or i18n.t("ex.svc.no_service", lang, service=svc, namespace=ns))


def _selects_nothing(facts: dict, lang: str) -> str:
    return i18n.t("ex.svc.selects_nothing", lang, service=facts["service"], selector=_selector_text(facts["selector"]),
                  deployment=facts["deployment"], labels=_selector_text(facts["labels"]) or "-")


def _selector_text(selector: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


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


# --- exercise 3: a NodePort on a given port -----------------------------------------------------------
def observe_node_port(cluster: Any, namespace: str = "nb03", service: str = "web-np", node_port: int = 30080,
                      deployment: str = "web", client_pod: str = "nb03/client") -> dict:
    """The Service's type, nodePorts and selector, and which pod answered on every node's IP:node_port."""
    from kubernetes import client

    api = cluster.api
    facts = dict(_deployment_facts(api, namespace, deployment), namespace=namespace, service=service,
                 node_port=node_port, deployment=deployment, service_exists=False, type=None, node_ports=[],
                 selector={}, answers={}, errors={})
    svc = read(api, "service", namespace, service)
    if svc is None:
        return dict(facts, service_look=look_alikes(api, "service", namespace, service))
    spec = svc["spec"]
    facts.update(service_exists=True, type=spec.get("type", "ClusterIP"), selector=spec.get("selector") or {},
                 node_ports=[p.get("nodePort") for p in spec.get("ports") or [] if p.get("nodePort")])
    if node_port in facts["node_ports"] and facts["selector"] and matches(facts["selector"], facts["labels"]):
        for n in client.CoreV1Api(api).list_node().items:
            ip = next((a.address for a in n.status.addresses or [] if a.type == "InternalIP"), None)
            answer, error = poll(partial(_from_pod, cluster, client_pod, f"http://{ip}:{node_port}/"),
                                 lambda r: (r[0] or {}).get("pod") in facts["pods"])
            facts["answers"][ip] = (answer or {}).get("pod")
            facts["errors"][ip] = error
    return facts


def judge_node_port(facts: dict, answer: Any, lang: str) -> Result:
    """A NodePort on ``node_port`` that selects the Deployment's pods, answered on every node's IP."""
    svc, port = facts["service"], facts["node_port"]
    if not facts["service_exists"]:
        return failed(_no_service(facts, lang))
    reasons = []
    if facts["type"] != "NodePort":
        reasons.append(i18n.t("ex.svc.not_nodeport", lang, service=svc, type=facts["type"]))
    if port not in facts["node_ports"]:
        reasons.append(i18n.t("ex.svc.wrong_nodeport", lang, service=svc, port=port,
                              ports=", ".join(map(str, facts["node_ports"])) or "-"))
    if not facts["selector"]:
        reasons.append(i18n.t("ex.svc.no_selector", lang, service=svc))
    elif facts["deployment_exists"] and not matches(facts["selector"], facts["labels"]):
        reasons.append(_selects_nothing(facts, lang))
    if reasons:
        return failed(*reasons)
    for ip, pod in facts["answers"].items():
        if pod not in facts["pods"]:
            return failed(i18n.t("ex.svc.no_answer_pod", lang, url=f"http://{ip}:{port}/",
                                 deployment=facts["deployment"], error=facts["errors"].get(ip) or pod or "-"))
    return passed(i18n.t("ex.svc.nodeport_ok", lang, port=port, nodes=", ".join(facts["answers"])))


__all__ = ["observe_exposed", "judge_exposed", "observe_node_port", "judge_node_port", "svc_chain_rules"]
