"""Live proofs of the network model's claims, each a short experiment on a running embedded lab.

- ``pod_to_pod``: a pod calls a web server in another pod that reports the client address it saw
  (``jpetazzo/color``'s ``client_ip``); it is the caller's own pod IP (no NAT).
- ``node_to_node``: a node connects to another; the other sees the first node's own address (no NAT).
- ``pod_to_node``: a pod connects to a node. To its own node, the node sees the pod's IP; to another
  node, the kindnet flavor SNATs it to the pod's node address, as kindnetd's masquerade rule does
  (traffic from the pod CIDR to anything outside the pod CIDRs); other flavors may differ.
- ``service_is_l4``: ``ping`` a pod IP answers, ``ping`` a ClusterIP does not (kube-proxy translates
  TCP/UDP/SCTP ports only); the Service's port connects, a port it does not expose does not.
- ``service_ip_survives``: a Service's ClusterIP stays while its pods are deleted and replaced.

Each returns a ``Proof``: the facts observed, whether the claim held, and a line in EN or FR.
``node_to_node`` and ``pod_to_node`` listen on a node, so they run as root; ``service_is_l4`` and
``service_ip_survives`` go through the lab's API (``kubectl exec``) when the caller is not root,
so a learner's (non-root) notebook kernel can run them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .errors import BadInput

MESSAGES = {
    "proof.node_to_node": {
        "en": "{src} ({src_ip}) -> {dst}: {dst} saw the connection come from {seen}: {verdict}",
        "fr": "{src} ({src_ip}) -> {dst} : {dst} a vu la connexion venir de {seen} : {verdict}"},
    "proof.pod_to_node": {
        "en": "pod {pod} ({pod_ip}, on {pod_node}) -> node {node}: the node saw {seen} ({how})",
        "fr": "pod {pod} ({pod_ip}, sur {pod_node}) -> nœud {node} : le nœud a vu {seen} ({how})"},
    "proof.pod_to_pod": {
        "en": "pod {src} ({src_ip}) -> {url}: the server saw the connection come from {seen} ({how})",
        "fr": "pod {src} ({src_ip}) -> {url} : le serveur a vu la connexion venir de {seen} ({how})"},
    "proof.no_nat": {"en": "no NAT", "fr": "sans NAT"},
    "proof.snat": {"en": "SNAT to the pod's node", "fr": "SNAT vers le nœud du pod"},
    "proof.nat": {"en": "address translated", "fr": "adresse traduite"},
    "proof.l4": {
        "en": "from {pod}: ping pod IP {pod_ip}: {ping_pod}; ping ClusterIP {cluster_ip}: {ping_service}; "
              "TCP {cluster_ip}:{port}: {open_port}; TCP {cluster_ip}:{other_port} (not exposed): {other}",
        "fr": "depuis {pod} : ping de l'IP du pod {pod_ip} : {ping_pod} ; ping de la ClusterIP {cluster_ip} : "
              "{ping_service} ; TCP {cluster_ip}:{port} : {open_port} ; TCP {cluster_ip}:{other_port} "
              "(non exposé) : {other}"},
    "proof.answers": {"en": "answers", "fr": "répond"},
    "proof.silent": {"en": "no answer", "fr": "pas de réponse"},
    "proof.survives": {
        "en": "Service {service}: ClusterIP {before} before, {after} after replacing pods {old} with {new}",
        "fr": "Service {service} : ClusterIP {before} avant, {after} après le remplacement des pods {old} "
              "par {new}"},
    "proof.holds": {"en": "claim holds", "fr": "affirmation vérifiée"},
    "proof.fails": {"en": "claim does NOT hold", "fr": "affirmation NON vérifiée"},
    "proof.no_peer": {
        "en": "the listener on {node} saw no connection",
        "fr": "le serveur en écoute sur {node} n'a vu aucune connexion"},
}

PROOF_PORT = 18017
# a one-connection TCP server that prints the peer's address (run in a node's namespace)
LISTEN = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
try:
    c, peer = s.accept(); print(peer[0], flush=True)
except socket.timeout:
    print("none", flush=True)
"""


@dataclass
class Proof:
    key: str
    holds: bool
    facts: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        facts = dict(self.facts)
        for k, v in list(facts.items()):
            if isinstance(v, bool):
                facts[k] = i18n.t("proof.answers" if v else "proof.silent", lang)
            elif isinstance(v, (list, tuple)):
                facts[k] = ", ".join(map(str, v)) or "-"
        if "how" in facts:
            facts["how"] = i18n.t(facts["how"], lang)
        verdict = i18n.t("proof.holds" if self.holds else "proof.fails", lang)
        facts.setdefault("verdict", verdict)
        text = i18n.t(self.key, lang, **facts)
        sep = " : " if (lang or i18n.get_language()) == "fr" else ": "     # French typography
        return text if "{verdict}" in MESSAGES[self.key]["en"] else f"{text}{sep}{verdict}"

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:
        import html
        color = "#1a7f37" if self.holds else "#cf222e"
        return f'<div style="font-family:monospace;color:{color}">{html.escape(self.render())}</div>'


def _lab(lab: Any):
    from .embedded.client import EmbeddedLab
    return EmbeddedLab(lab) if isinstance(lab, str) else lab


def _seen_by_node(lab, node: str, connect) -> str | None:
    """Listen once on ``node``, run ``connect(ip, port)``, return the peer address it saw."""
    from .embedded.netns import in_netns

    plan = lab.spec.node(node)
    server = subprocess.Popen(in_netns([sys.executable, "-c", LISTEN, str(PROOF_PORT), "10"], plan.netns),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise BadInput("proof.no_peer", node=node)
        connect(plan.ip, PROOF_PORT)
        peer = server.stdout.readline().strip()
    finally:
        server.kill()
        server.wait()
    return None if peer in ("", "none") else peer


def _connect_cmd(ip: str, port: int) -> list[str]:
    return ["nc", "-z", "-w", "3", ip, str(port)]


def node_to_node(lab: Any = "kubenet", src: str | None = None, dst: str | None = None) -> Proof:
    """``src`` connects to ``dst`` (default: the first two nodes); ``dst`` sees ``src``'s address."""
    lab = _lab(lab)
    names = [n.name for n in lab.spec.node_plans()]
    src, dst = src or names[0], dst or names[-1]
    seen = _seen_by_node(lab, dst, lambda ip, port: lab.node_exec(src, _connect_cmd(ip, port)))
    src_ip = lab.spec.node(src).ip
    return Proof("proof.node_to_node", seen == src_ip, {"src": src, "src_ip": src_ip, "dst": dst,
                                                        "seen": seen or "-"})


def pod_to_node(lab: Any, pod: str, node: str) -> Proof:
    """Pod ``pod`` connects to ``node``; the proof holds when the node saw the pod's own IP."""
    lab = _lab(lab)
    record = lab.pod(pod)
    seen = _seen_by_node(lab, node, lambda ip, port: lab.exec(record["namespace"] + "/" + record["name"],
                                                              _connect_cmd(ip, port)))
    pod_node_ip = lab.spec.node(record["node"]).ip
    how = "proof.no_nat" if seen == record["ip"] else "proof.snat" if seen == pod_node_ip else "proof.nat"
    return Proof("proof.pod_to_node", seen == record["ip"],
                 {"pod": pod, "pod_ip": record["ip"], "pod_node": record["node"], "node": node, "seen": seen or "-",
                  "how": how})


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
    ``port`` (connects) and a port it does not expose (does not)."""
    run = _pod_exec(lab)
    facts = {
        "ping_pod": _ok(run(pod, ["ping", "-c", "1", "-W", "2", pod_ip])),
        "ping_service": _ok(run(pod, ["ping", "-c", "1", "-W", "2", cluster_ip])),
        "open_port": _ok(run(pod, _connect_cmd(cluster_ip, port))),
        "other": _ok(run(pod, ["nc", "-z", "-w", "2", cluster_ip, str(other_port)])),
    }
    holds = facts["ping_pod"] and not facts["ping_service"] and facts["open_port"] and not facts["other"]
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
