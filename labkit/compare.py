"""Network stacks compared live: the same few measurements on any lab, then a table and a plot.

``measure(lab)`` starts a small workload in namespace ``compare`` (a server pod on the client's
node, one on another node, a Deployment behind a Service, ``N_SERVICES`` more Services on it),
measures from the client pod with ``curl -w %{time_connect}`` (the TCP handshake, in which a
Service's address is translated: DNAT on the first packet for kube-proxy, ``connect()`` itself for
the socket LB), counts what one node holds for those Services (rules, routes, BPF map entries)
through the node seam, and removes the namespace. Everything goes through ``kubectl`` and the
node seam, so an ordinary user's notebook can run it. ``table`` and ``plot`` are pure.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .errors import LabkitError

NAMESPACE = "compare"
N_SERVICES = 10
ROUNDS = 15
SERVER_IMAGE = "jpetazzo/color"
CLIENT_IMAGE = "nicolaka/netshoot"

MESSAGES = {
    "compare.stack": {"en": "stack", "fr": "pile"},
    "compare.same_node": {"en": "pod → pod, same node: TCP connect (ms)",
                          "fr": "pod → pod, même nœud : connexion TCP (ms)"},
    "compare.other_node": {"en": "pod → pod, other node: TCP connect (ms)",
                           "fr": "pod → pod, autre nœud : connexion TCP (ms)"},
    "compare.service": {"en": "pod → Service (ClusterIP): TCP connect (ms)",
                        "fr": "pod → Service (ClusterIP) : connexion TCP (ms)"},
    "compare.rules": {"en": "service rules on a node ({n} Services)",
                      "fr": "règles de service sur un nœud ({n} Services)"},
    "compare.map_entries": {"en": "BPF map entries on a node ({n} Services)",
                            "fr": "entrées de tables BPF sur un nœud ({n} Services)"},
    "compare.routes": {"en": "routes on a node", "fr": "routes sur un nœud"},
    "compare.inspect": {"en": "what shows the Services", "fr": "ce qui montre les Services"},
    "compare.agent_dies": {"en": "when the node's agent dies", "fr": "quand l'agent du nœud meurt"},
    "compare.inspect.iptables": {"en": "iptables-save, conntrack -L", "fr": "iptables-save, conntrack -L"},
    "compare.inspect.nftables": {"en": "nft list table ip kube-proxy, conntrack -L",
                                 "fr": "nft list table ip kube-proxy, conntrack -L"},
    "compare.inspect.ebpf": {"en": "bpftool map dump (labkit inspect socket-lb); no rule, no conntrack entry",
                             "fr": "bpftool map dump (labkit inspect socket-lb) ; ni règle, ni entrée conntrack"},
    "compare.dies.kube-proxy": {
        "en": "rules stay in the kernel and keep working; new endpoints are not seen until it is back",
        "fr": "les règles restent dans le noyau et fonctionnent ; les nouveaux endpoints attendent son retour"},
    "compare.dies.ebpf": {
        "en": "programs and maps stay pinned and keep translating; the maps freeze until it is back",
        "fr": "programmes et tables restent épinglés et traduisent toujours ; les tables sont figées jusqu'à son retour"},
    "compare.plot.title": {"en": "TCP connection setup, median of {n} (ms)",
                           "fr": "Établissement d'une connexion TCP, médiane de {n} (ms)"},
    "compare.plot.same": {"en": "pod, same node", "fr": "pod, même nœud"},
    "compare.plot.other": {"en": "pod, other node", "fr": "pod, autre nœud"},
    "compare.plot.service": {"en": "Service", "fr": "Service"},
}


@dataclass
class StackFigures:
    lab: str
    stack: str                      # "kindnet + iptables", "flannel + ebpf"...
    proxy_mode: str
    same_node_ms: float = 0.0
    other_node_ms: float = 0.0
    service_ms: float = 0.0
    service_rules: int = 0
    map_entries: int = 0
    routes: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        """The measured figures that must be non-zero on any stack."""
        return {"same_node_ms": self.same_node_ms, "other_node_ms": self.other_node_ms,
                "service_ms": self.service_ms, "routes": self.routes,
                "service_state": self.map_entries if self.proxy_mode == "ebpf" else self.service_rules}


# --- pure: counting and presenting ---------------------------------------------------------------
def count_service_rules(iptables_save: str, nft_table: str) -> int:
    """kube-proxy's state: ``-A KUBE-...`` lines of iptables-save; rules and map/set elements of its
    nftables table (``nft list`` prints one per line)."""
    rules = sum(1 for line in iptables_save.splitlines() if line.startswith("-A KUBE-"))
    structural = ("table ", "chain ", "map ", "set ", "type ", "flags ", "hook ", "policy ", "comment ", "}")
    rules += sum(1 for line in nft_table.splitlines() if line.strip() and not line.strip().startswith(structural))
    return rules


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3) if values else 0.0


def table(results: list[StackFigures], lang: str | None = None) -> str:
    """An HTML table, one column per stack."""
    def row(key: str, values: list[Any], **kw: Any) -> str:
        cells = "".join(f"<td>{v}</td>" for v in values)
        return f"<tr><th style='text-align:left'>{i18n.t(key, lang, **kw)}</th>{cells}</tr>"

    dies = [i18n.t("compare.dies.ebpf" if r.proxy_mode == "ebpf" else "compare.dies.kube-proxy", lang) for r in results]
    rows = [
        row("compare.same_node", [r.same_node_ms for r in results]),
        row("compare.other_node", [r.other_node_ms for r in results]),
        row("compare.service", [r.service_ms for r in results]),
        row("compare.rules", [r.service_rules for r in results], n=N_SERVICES + 1),
        row("compare.map_entries", [r.map_entries for r in results], n=N_SERVICES + 1),
        row("compare.routes", [r.routes for r in results]),
        row("compare.inspect", [i18n.t(f"compare.inspect.{r.proxy_mode}", lang) for r in results]),
        row("compare.agent_dies", dies),
    ]
    head = "".join(f"<th>{r.stack}<br><code>{r.lab}</code></th>" for r in results)
    return (f"<table><tr><th>{i18n.t('compare.stack', lang)}</th>{head}</tr>" + "".join(rows) + "</table>")


def plot(results: list[StackFigures], lang: str | None = None):
    """Grouped bars: connection setup to a pod on the same node, another node, a Service."""
    import matplotlib.pyplot as plt

    keys = [("same_node", "compare.plot.same"), ("other_node", "compare.plot.other"), ("service", "compare.plot.service")]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(results), 1)
    for i, r in enumerate(results):
        values = [getattr(r, f"{k}_ms") for k, _ in keys]
        ax.bar([x + i * width for x in range(len(keys))], values, width, label=r.stack)
    ax.set_xticks([x + width * (len(results) - 1) / 2 for x in range(len(keys))])
    ax.set_xticklabels([i18n.t(label, lang) for _, label in keys])
    ax.set_title(i18n.t("compare.plot.title", lang, n=ROUNDS))
    ax.legend()
    fig.tight_layout()
    return fig


# --- I/O: the workload, the measurements, the counts ----------------------------------------------
class _Kubectl:
    def __init__(self, lab: str) -> None:
        from .embedded.userconfig import readable_kubeconfig

        self.env = dict(os.environ, KUBECONFIG=str(readable_kubeconfig(lab)))

    def __call__(self, *args: str, input: str | None = None) -> str:
        proc = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True,
                              env=self.env, timeout=120)
        if proc.returncode != 0:
            raise LabkitError("lab.command_failed", where="kubectl", command=" ".join(args[:4]),
                              error=proc.stderr.strip())
        return proc.stdout


def _pod(name: str, node: str, image: str, labels: dict[str, str], command: list[str] | None = None) -> dict:
    container: dict[str, Any] = {"name": "main", "image": image}
    if command:
        container["command"] = command
    else:
        container["ports"] = [{"containerPort": 80}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "spec": {"nodeName": node, "containers": [container]}}


def _objects(nodes: list[str]) -> list[dict]:
    a, b = nodes[-1], nodes[-2] if len(nodes) > 1 else nodes[-1]
    labels = {"app": "cmp"}
    objs = [_pod("same", a, SERVER_IMAGE, labels), _pod("other", b, SERVER_IMAGE, labels),
            _pod("client", a, CLIENT_IMAGE, {"run": "client"}, ["sleep", "infinity"])]
    for i in range(N_SERVICES + 1):
        objs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "cmp" if i == 0 else f"cmp{i}", "namespace": NAMESPACE},
                     "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 80}]}})
    return objs


def _wait_running(kubectl: _Kubectl, count: int, timeout: float = 60) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = json.loads(kubectl("-n", NAMESPACE, "get", "pods", "-o", "json"))["items"]
        running = {p["metadata"]["name"]: p for p in items
                   if p["status"].get("phase") == "Running" and p["status"].get("podIP")}
        if len(running) >= count:
            return running
        if time.monotonic() > deadline:
            raise LabkitError("lab.command_failed", where=NAMESPACE, command="wait for pods",
                              error=f"{len(running)}/{count} running")
        time.sleep(0.2)


def _connect_times(kubectl: _Kubectl, target: str, rounds: int) -> list[float]:
    loop = (f"for i in $(seq {rounds}); do curl -s -o /dev/null -m 2 -w '%{{time_connect}}\\n' "
            f"http://{target}/; done")
    out = kubectl("-n", NAMESPACE, "exec", "client", "--", "sh", "-c", loop)
    return [float(v) for v in out.split() if v.replace(".", "").isdigit() and float(v) > 0]


def measure(lab: str, rounds: int = ROUNDS) -> StackFigures:
    """The figures of lab ``lab`` (see the module docstring); the namespace is removed after."""
    from . import connect

    kubectl = _Kubectl(lab)
    cluster = connect(lab=lab)
    snap = cluster.snapshot(with_pod_networks=False)
    nodes = [n.name for n in snap.nodes]
    kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true")
    kubectl("create", "namespace", NAMESPACE)
    try:
        kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": _objects(nodes)}))
        pods = _wait_running(kubectl, 3)
        svc = json.loads(kubectl("-n", NAMESPACE, "get", "service", "cmp", "-o", "json"))["spec"]["clusterIP"]
        figures = StackFigures(lab, f"{snap.cni or '?'} + {snap.proxy_mode or '?'}", snap.proxy_mode or "?")
        deadline = time.monotonic() + 30
        while not _connect_times(kubectl, svc, 1) and time.monotonic() < deadline:
            time.sleep(0.2)                 # the Service's rules or map entries are being written
        for key, target in (("same_node", pods["same"]["status"]["podIP"]),
                            ("other_node", pods["other"]["status"]["podIP"]), ("service", svc)):
            figures.samples[key] = _connect_times(kubectl, target, rounds)
            setattr(figures, f"{key}_ms", _median_ms(figures.samples[key]))
        _count(cluster, nodes[-1], figures, snap.proxy_mode)
        return figures
    finally:
        kubectl("delete", "namespace", NAMESPACE)      # gone before the notebook moves on
        cluster.close()


def _count(cluster: Any, node: str, figures: StackFigures, proxy_mode: str | None) -> None:
    from .bpf.maps import SERVICES, dump_argv

    access = cluster.node(node)
    deadline = time.monotonic() + 15
    while True:                          # every Service is in the node's rules or maps
        figures.routes = len(json.loads(access.run(["ip", "-j", "route", "show"]) or "[]"))
        if proxy_mode == "ebpf":
            figures.map_entries = len(json.loads(access.run(dump_argv(access.name, SERVICES)) or "[]"))
            figures.service_rules = count_service_rules(access.run(["iptables-save"]), "")
            done = figures.map_entries >= (N_SERVICES + 1) * 3
        else:
            nft = ""
            if proxy_mode == "nftables":
                nft = access.run(["nft", "list", "table", "ip", "kube-proxy"])
            figures.service_rules = count_service_rules(access.run(["iptables-save"]), nft)
            done = figures.service_rules > 0
        if done or time.monotonic() > deadline:
            return
        time.sleep(0.2)
