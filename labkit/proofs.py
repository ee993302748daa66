"""Live proofs of the network model's claims, each a short experiment on a running embedded lab.

- ``pod_to_pod``: a pod calls a web server in another pod that reports the client address it saw
  (``jpetazzo/color``'s ``client_ip``); it is the caller's own pod IP (no NAT).
- ``node_to_node``: a node connects to another; the other sees the first node's own address (no NAT).
- ``node_to_pod``: a node connects to a pod; the pod sees the node's own address.
- ``pod_to_node``: a pod connects to a node. To its own node, the node sees the pod's IP; to another
  node, the kindnet flavor SNATs it to the pod's node address, as kindnetd's masquerade rule does
  (traffic from the pod CIDR to anything outside the pod CIDRs); other flavors may differ.
- ``service_is_l4``: ``ping`` a pod IP answers, ``ping`` a ClusterIP does not (kube-proxy translates
  TCP/UDP/SCTP ports only); the Service's port connects, and a port the pod itself serves but the
  Service does not expose connects to the pod and not to the ClusterIP.
- ``service_port_range_refused``: a Service whose port is a range (``"8000-8100"``) is refused by the
  API server (a ``Status``: ``ServicePort.port`` is one ``int32``), and no Service is created.
- ``service_ip_survives``: a Service's ClusterIP stays while its pods are deleted and replaced.

Each returns a ``Proof``: the facts observed, whether the claim held, and a line in EN or FR.
The node proofs are ``peer`` flows (``labkit.flowreq``): a one-connection listener in the node's or
pod's namespace reports the source address it saw; root runs them in the lab's namespaces, anyone
else asks the lab daemon (``POST …/proxy/labkit/peer``, validated and bounded like traces). The
others go through the lab's API (``kubectl exec``) when the caller is not root. So a learner's
(non-root) notebook kernel runs every proof.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from . import flowreq, i18n
from .errors import BadInput, LabkitError

MESSAGES = {
    "proof.node_to_node": {
        "en": "{src} ({src_ip}) -> {dst}: {dst} saw the connection come from {seen}: {verdict}",
        "fr": "{src} ({src_ip}) -> {dst} : {dst} a vu la connexion venir de {seen} : {verdict}"},
    "proof.pod_to_node": {
        "en": "pod {pod} ({pod_ip}, on {pod_node}) -> node {node}: the node saw {seen} ({how})",
        "fr": "pod {pod} ({pod_ip}, sur {pod_node}) -> nœud {node} : le nœud a vu {seen} ({how})"},
    "proof.node_to_pod": {
        "en": "node {node} ({node_ip}) -> pod {pod} ({pod_ip}): the pod saw {seen} ({how})",
        "fr": "nœud {node} ({node_ip}) -> pod {pod} ({pod_ip}) : le pod a vu {seen} ({how})"},
    "proof.pod_to_pod": {
        "en": "pod {src} ({src_ip}) -> {url}: the server saw the connection come from {seen} ({how})",
        "fr": "pod {src} ({src_ip}) -> {url} : le serveur a vu la connexion venir de {seen} ({how})"},
    "proof.no_nat": {"en": "no NAT", "fr": "sans NAT"},
    "proof.snat": {"en": "SNAT to the pod's node", "fr": "SNAT vers le nœud du pod"},
    "proof.nat": {"en": "address translated", "fr": "adresse traduite"},
    "proof.l4": {
        "en": "from {pod}: ping pod IP {pod_ip}: {ping_pod}; ping ClusterIP {cluster_ip}: {ping_service}; "
              "TCP {cluster_ip}:{port}: {open_port}; TCP {pod_ip}:{other_port} (the pod itself): {pod_other}; "
              "TCP {cluster_ip}:{other_port} (not exposed): {other}",
        "fr": "depuis {pod} : ping de l'IP du pod {pod_ip} : {ping_pod} ; ping de la ClusterIP {cluster_ip} : "
              "{ping_service} ; TCP {cluster_ip}:{port} : {open_port} ; TCP {pod_ip}:{other_port} (le pod "
              "lui-même) : {pod_other} ; TCP {cluster_ip}:{other_port} (non exposé) : {other}"},
    "proof.port_range": {
        "en": "Service {service} with port \"{ports}\": the API server refused it: {error}",
        "fr": "Service {service} avec le port « {ports} » : le serveur d'API l'a refusé : {error}"},
    "proof.answers": {"en": "answers", "fr": "répond"},
    "proof.silent": {"en": "no answer", "fr": "pas de réponse"},
    "proof.survives": {
        "en": "Service {service}: ClusterIP {before} before, {after} after replacing pods {old} with {new}",
        "fr": "Service {service} : ClusterIP {before} avant, {after} après le remplacement des pods {old} "
              "par {new}"},
    "proof.holds": {"en": "claim holds", "fr": "affirmation vérifiée"},
    "proof.fails": {"en": "claim does NOT hold", "fr": "affirmation NON vérifiée"},
    "proof.departure": {"en": "the model's claim does not hold here: a known departure of this CNI (masquerade), "
                              "not a fault",
                        "fr": "l'affirmation du modèle ne tient pas ici : un écart connu de ce CNI "
                              "(masquerading), pas une panne"},
}


@dataclass
class Proof:
    key: str
    holds: bool
    facts: dict[str, Any] = field(default_factory=dict)
    departure: bool = False     # the claim fails the way the CNI is documented to (kindnet's masquerade)

    def render(self, lang: str | None = None) -> str:
        facts = dict(self.facts)
        for k, v in list(facts.items()):
            if isinstance(v, bool):
                facts[k] = i18n.t("proof.answers" if v else "proof.silent", lang)
            elif isinstance(v, (list, tuple)):
                facts[k] = ", ".join(map(str, v)) or "-"
        if "how" in facts:
            facts["how"] = i18n.t(facts["how"], lang)
        verdict = i18n.t("proof.holds" if self.holds else "proof.departure" if self.departure else "proof.fails",
                         lang)
        facts.setdefault("verdict", verdict)
        text = i18n.t(self.key, lang, **facts)
        sep = " : " if (lang or i18n.get_language()) == "fr" else ": "     # French typography
        return text if "{verdict}" in MESSAGES[self.key]["en"] else f"{text}{sep}{verdict}"

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:
        import html
        color = "#1a7f37" if self.holds else "#9a6700" if self.departure else "#cf222e"
        return f'<div style="font-family:monospace;color:{color}">{html.escape(self.render())}</div>'


def _lab(lab: Any):
    from .embedded.client import EmbeddedLab
    return EmbeddedLab(lab) if isinstance(lab, str) else lab


def _setting(handle: Any):
    """(cluster, flow access, {node name: node IP}) of an embedded lab: its namespaces as root, its
    daemon's API otherwise (``labkit.nodes.flow_access``), so a learner's kernel runs the proofs."""
    from .cluster import as_cluster
    from .nodes import flow_access, lab_shape

    cluster = as_cluster(handle, "labkit.proofs")
    if cluster.kind != "embedded":
        raise BadInput("observe.embedded_only")
    return cluster, flow_access(cluster), {n["name"]: n["ip"] for n in lab_shape(cluster)["nodes"]}


def _node(nodes: dict[str, str], name: str) -> str:
    full = name if name in nodes else next((n for n in nodes if n.endswith(f"-{name}")), None)
    if full is None:
        raise LabkitError("cluster.unknown_node", exit_code=2, node=name, name="-", nodes=", ".join(nodes))
    return full


def _pod_info(cluster: Any, key: str) -> tuple[str, str, str]:
    """(``namespace/name``, pod IP, node) from the API."""
    from kubernetes import client

    namespace, _, name = key.rpartition("/")
    pod = client.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace or "default")
    return f"{namespace or 'default'}/{name}", pod.status.pod_ip, pod.spec.node_name


def _seen(access: Any, node: str, pod: str | None, ip: str) -> str | None:
    """One ``peer`` flow from ``pod`` (None: ``node`` itself) to ``ip``: the source address seen there."""
    return access.observe(node, flowreq.peer(pod, ip)).get("seen")


def node_to_node(lab: Any = "kubenet", src: str | None = None, dst: str | None = None) -> Proof:
    """``src`` connects to ``dst`` (default: the first two nodes); ``dst`` sees ``src``'s address."""
    _, access, nodes = _setting(lab)
    names = list(nodes)
    src, dst = _node(nodes, src or names[0]), _node(nodes, dst or names[-1])
    seen = _seen(access, src, None, nodes[dst])
    return Proof("proof.node_to_node", seen == nodes[src], {"src": src, "src_ip": nodes[src], "dst": dst,
                                                            "seen": seen or "-"})


def node_to_pod(lab: Any, node: str, pod: str) -> Proof:
    """Node ``node`` connects to ``pod``; the proof holds when the pod saw the node's own address."""
    cluster, access, nodes = _setting(lab)
    node = _node(nodes, node)
    key, pod_ip, _ = _pod_info(cluster, pod)
    seen = _seen(access, node, None, pod_ip)
    how = "proof.no_nat" if seen == nodes[node] else "proof.nat"
    return Proof("proof.node_to_pod", seen == nodes[node], {"node": node, "node_ip": nodes[node], "pod": key,
                                                            "pod_ip": pod_ip, "seen": seen or "-", "how": how})


def pod_to_node(lab: Any, pod: str, node: str) -> Proof:
    """Pod ``pod`` connects to ``node``; the proof holds when the node saw the pod's own IP (to another
    node, the kindnet flavor SNATs to the pod's node address: ``how`` says ``proof.snat``)."""
    cluster, access, nodes = _setting(lab)
    node = _node(nodes, node)
    key, pod_ip, pod_node = _pod_info(cluster, pod)
    seen = _seen(access, pod_node, key, nodes[node])
    how = "proof.no_nat" if seen == pod_ip else "proof.snat" if seen == nodes.get(pod_node) else "proof.nat"
    return Proof("proof.pod_to_node", seen == pod_ip,
                 {"pod": key, "pod_ip": pod_ip, "pod_node": pod_node, "node": node, "seen": seen or "-", "how": how},
                 departure=how == "proof.snat" and node != pod_node)


def _ok(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode == 0


def _pod_exec(lab: Any):
    """``run(pod, argv)``: the lab's own exec as root, else ``kubectl exec`` through the lab's API."""
    name = lab if isinstance(lab, str) else lab.name
    if os.geteuid() == 0:
        own = _lab(lab)
        return lambda pod, argv: own.exec(pod, argv)

    def run(pod: str, argv: list[str]) -> subprocess.CompletedProcess:
        namespace, _, pod_name = pod.rpartition("/")
        return _kubectl(name, "-n", namespace or "default", "exec", pod_name, "--", *argv, check=False)
    return run


def service_is_l4(lab: Any, pod: str, cluster_ip: str, port: int, pod_ip: str, other_port: int = 81) -> Proof:
    """From ``pod``: ping the pod IP (answers), ping the ClusterIP (silent), connect the Service's
    ``port`` (connects), and ``other_port``, which the backend ``pod_ip`` serves but the Service does
    not expose: to the pod (connects) and to the ClusterIP (does not)."""
    run = _pod_exec(lab)
    facts = {
        "ping_pod": _ok(run(pod, ["ping", "-c", "1", "-W", "2", pod_ip])),
        "ping_service": _ok(run(pod, ["ping", "-c", "1", "-W", "2", cluster_ip])),
        "open_port": _ok(run(pod, ["nc", "-z", "-w", "3", cluster_ip, str(port)])),
        "pod_other": _ok(run(pod, ["nc", "-z", "-w", "3", pod_ip, str(other_port)])),
        "other": _ok(run(pod, ["nc", "-z", "-w", "2", cluster_ip, str(other_port)])),
    }
    holds = (facts["ping_pod"] and not facts["ping_service"] and facts["open_port"] and facts["pod_other"]
             and not facts["other"])
    return Proof("proof.l4", holds, {"pod": pod, "pod_ip": pod_ip, "cluster_ip": cluster_ip, "port": port,
                                     "other_port": other_port, **facts})


def pod_to_pod(lab: Any, pod: str, pod_ip: str, server_ip: str, port: int = 80) -> Proof:
    """``pod`` (whose IP is ``pod_ip``) calls ``http://server_ip:port/``, a server that answers with the
    JSON field ``client_ip`` (``jpetazzo/color``); the proof holds when that is ``pod_ip``. Through the
    lab's API when the caller is not root, so a learner's kernel runs it."""
    url = f"http://{server_ip}:{port}/"
    proc = _pod_exec(lab)(pod, ["curl", "-s", "-m", "5", url])
    try:
        seen = json.loads(proc.stdout).get("client_ip") if proc.returncode == 0 else None
    except ValueError:
        seen = None
    how = "proof.no_nat" if seen == pod_ip else "proof.nat"
    return Proof("proof.pod_to_pod", seen == pod_ip, {"src": pod, "src_ip": pod_ip, "url": url,
                                                      "seen": seen or "-", "how": how})


def _kubectl(name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    from .embedded.userconfig import readable_kubeconfig
    env = dict(os.environ, KUBECONFIG=str(readable_kubeconfig(name)))
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=120, check=check)


PORT_RANGE = """apiVersion: v1
kind: Service
metadata: {{name: {service}, namespace: {namespace}}}
spec:
  selector: {{app: {service}}}
  ports: [{{port: "{ports}", protocol: TCP}}]
"""


def service_port_range_refused(lab: Any, namespace: str = "default", service: str = "ranges",
                               ports: str = "8000-8100") -> Proof:
    """``kubectl create`` a Service whose port is a range: the API server answers with a ``Status``
    (400 BadRequest: ``ServicePort.port`` is an ``int32``, k8s.io/api core/v1 ``types.go``) and no
    Service exists afterwards."""
    name = lab if isinstance(lab, str) else lab.name
    manifest = PORT_RANGE.format(service=service, namespace=namespace, ports=ports)
    from .embedded.userconfig import readable_kubeconfig
    env = dict(os.environ, KUBECONFIG=str(readable_kubeconfig(name)))
    done = subprocess.run(["kubectl", "create", "-f", "-"], input=manifest, capture_output=True, text=True,
                          env=env, timeout=120)
    error = next((line for line in done.stderr.splitlines() if line.strip()), "-")
    created = _kubectl(name, "-n", namespace, "get", "service", service, "--ignore-not-found", "-o", "name",
                       check=False).stdout.strip()
    holds = done.returncode != 0 and error.startswith("Error from server") and not created
    return Proof("proof.port_range", holds, {"service": f"{namespace}/{service}", "ports": ports, "error": error})


def service_ip_survives(lab: Any, service: str, namespace: str = "default", timeout: float = 60) -> Proof:
    """Delete every pod behind ``service``; wait for their replacements; compare the ClusterIP."""
    name = lab if isinstance(lab, str) else lab.name
    svc = json.loads(_kubectl(name, "-n", namespace, "get", "service", service, "-o", "json").stdout)
    selector = ",".join(f"{k}={v}" for k, v in (svc["spec"].get("selector") or {}).items())

    def pods() -> list[str]:
        items = json.loads(_kubectl(name, "-n", namespace, "get", "pods", "-l", selector, "-o", "json").stdout)["items"]
        return sorted(p["metadata"]["name"] for p in items if p["status"].get("phase") == "Running"
                      and not p["metadata"].get("deletionTimestamp"))

    old = pods()
    _kubectl(name, "-n", namespace, "delete", "pods", "-l", selector, "--wait=true")
    deadline = time.monotonic() + timeout
    new = pods()
    while (len(new) < len(old) or set(new) & set(old)) and time.monotonic() < deadline:
        time.sleep(0.3)
        new = pods()
    after = json.loads(_kubectl(name, "-n", namespace, "get", "service", service, "-o", "json").stdout)
    before_ip, after_ip = svc["spec"]["clusterIP"], after["spec"]["clusterIP"]
    holds = before_ip == after_ip and bool(new) and not set(new) & set(old)
    return Proof("proof.survives", holds, {"service": f"{namespace}/{service}", "before": before_ip,
                                           "after": after_ip, "old": old, "new": new})
