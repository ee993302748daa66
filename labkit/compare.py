"""Network stacks compared live: the same few measurements on any lab, then a table and a plot.

``measure(lab)`` starts a small workload in namespace ``compare`` (a server pod on the client's
node, one on another node, ``N_SERVICES + 1`` Services on them) and measures from the client pod:
TCP connect time with ``curl -w %{time_connect}`` (the handshake, in which a Service's address is
translated: DNAT on the first packet for kube-proxy, ``connect()`` itself for the socket LB), and
bulk TCP throughput to each server pod (a Python sender and sink, a few MiB, median of three). It
counts what one node holds for those Services (rules, routes, BPF map entries) through the node
seam, times a new Service from its creation to the moment every node's rules or maps hold it, and
kills one node's agent (:mod:`labkit.agents`) to show what the node keeps doing: kube-proxy or
the socket LB's agent (the old Service still answers, a new one is not programmed there until the
agent is back), or, on the calico flavor, BIRD (the other nodes withdraw its block after the
graceful-restart time; :func:`labkit.bgp.outage`). Everything goes through ``kubectl``, the lab's
API and the node seam, so an ordinary user's notebook can run it. ``table`` and ``plot`` are pure.
"""
from __future__ import annotations

import html
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .errors import LabkitError

NAMESPACE = "compare"
N_SERVICES = 10
ROUNDS = 15
THROUGHPUT_MIB = 48         # per transfer; three transfers per target, the median kept
SINK_PORT = 5201
# The server pods' second process: a TCP sink (reads until the sender closes, then closes).
SINK = (f"import socket\ns = socket.create_server(('', {SINK_PORT}))\nwhile True:\n    c, _ = s.accept()\n"
        "    while c.recv(1 << 20):\n        pass\n    c.close()\n")
# The client's sender: N MiB per connection, timed until the sink has read it all and closed.
SENDER = ("import socket, sys, time\nbuf = bytes(1 << 20)\nfor _ in range(3):\n"
          f"    c = socket.create_connection((sys.argv[1], {SINK_PORT}), timeout=5)\n    t = time.perf_counter()\n"
          "    for _ in range(int(sys.argv[2])):\n        c.sendall(buf)\n    c.shutdown(socket.SHUT_WR)\n"
          "    c.recv(1)\n    dt = time.perf_counter() - t\n    c.close()\n"
          "    print(int(sys.argv[2]) * 8 * (1 << 20) / dt / 1e9)\n")
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
    "compare.same_gbps": {"en": "pod → pod, same node: TCP throughput (Gbit/s)",
                          "fr": "pod → pod, même nœud : débit TCP (Gbit/s)"},
    "compare.other_gbps": {"en": "pod → pod, other node: TCP throughput (Gbit/s)",
                           "fr": "pod → pod, autre nœud : débit TCP (Gbit/s)"},
    "compare.programmed": {"en": "new Service → in every node's rules or maps (ms)",
                           "fr": "nouveau Service → dans les règles ou tables de chaque nœud (ms)"},
    "compare.rules": {"en": "service rules on a node ({n} Services)",
                      "fr": "règles de service sur un nœud ({n} Services)"},
    "compare.map_entries": {"en": "BPF map entries on a node ({n} Services)",
                            "fr": "entrées de tables BPF sur un nœud ({n} Services)"},
    "compare.routes": {"en": "routes on a node", "fr": "routes sur un nœud"},
    "compare.inspect": {"en": "what shows the Services", "fr": "ce qui montre les Services"},
    "compare.agent_dies": {"en": "a node's agent killed, live", "fr": "l'agent d'un nœud tué, en direct"},
    "compare.inspect.iptables": {"en": "iptables-save, conntrack -L", "fr": "iptables-save, conntrack -L"},
    "compare.inspect.nftables": {"en": "nft list table ip kube-proxy, conntrack -L",
                                 "fr": "nft list table ip kube-proxy, conntrack -L"},
    "compare.inspect.ebpf": {"en": "bpftool map dump (labkit inspect socket-lb); no rule, no conntrack entry",
                             "fr": "bpftool map dump (labkit inspect socket-lb) ; ni règle, ni entrée conntrack"},
    "compare.inspect.bgp": {"en": "; routes: ip route (proto bird), birdc show protocols",
                            "fr": " ; routes : ip route (proto bird), birdc show protocols"},
    "compare.agent.kube-proxy": {"en": "kube-proxy", "fr": "kube-proxy"},
    "compare.agent.ebpf": {"en": "the socket LB's agent", "fr": "l'agent du répartiteur"},
    "compare.dies.kube-proxy": {
        "en": "{agent} stopped on {node}: the existing Service still answers ({ok}/{n}); a new Service is "
              "programmed on the other nodes, not on {node} ({new}); restarted: there {ms} ms later",
        "fr": "{agent} arrêté sur {node} : le Service existant répond toujours ({ok}/{n}) ; un nouveau Service "
              "est programmé sur les autres nœuds, pas sur {node} ({new}) ; redémarré : présent {ms} ms plus tard"},
    "compare.dies.ebpf": {
        "en": "{agent} stopped on {node}: its pinned maps keep translating ({ok}/{n}); a new Service is in the "
              "other nodes' maps, not in {node}'s ({new}); restarted: there {ms} ms later",
        "fr": "{agent} arrêté sur {node} : ses tables épinglées traduisent toujours ({ok}/{n}) ; un nouveau "
              "Service est dans les tables des autres nœuds, pas de {node} ({new}) ; redémarré : présent "
              "{ms} ms plus tard"},
    "compare.dies.bird": {
        "en": "BIRD killed on {node}: the other nodes withdraw its block after {withdrawn} s (graceful-restart "
              "time {restart} s), pod traffic to it {failed}; restarted: routes back after {back} s",
        "fr": "BIRD tué sur {node} : les autres nœuds retirent son bloc après {withdrawn} s (redémarrage en "
              "douceur : {restart} s), le trafic vers ses pods {failed_fr} ; redémarré : routes revenues après {back} s"},
    "compare.new.fails": {"en": "its connection fails there", "fr": "sa connexion y échoue"},
    "compare.new.works": {"en": "yet its connection worked there", "fr": "pourtant sa connexion y a marché"},
    "compare.step.companions": {"en": "starting the companion labs (built by your lab's daemon, 2 nodes each)",
                                "fr": "démarrage des labs compagnons (construits par le démon de votre lab, 2 nœuds chacun)"},
    "compare.step.pods": {"en": "server and client pods, {n} Services",
                          "fr": "pods serveurs et client, {n} Services"},
    "compare.step.connect": {"en": "TCP connection setup, {rounds} times per target",
                             "fr": "établissement de connexions TCP, {rounds} fois par cible"},
    "compare.step.throughput": {"en": "TCP throughput, same node and other node",
                                "fr": "débit TCP, même nœud et autre nœud"},
    "compare.step.agent": {"en": "a node's agent stopped, a new Service, the agent restarted",
                           "fr": "l'agent d'un nœud arrêté, un nouveau Service, l'agent redémarré"},
    "compare.step.agent_bird": {"en": "BIRD killed on a node; waiting for the others to withdraw its routes "
                                      "(BGP graceful restart: a few seconds)",
                                "fr": "BIRD tué sur un nœud ; on attend que les autres retirent ses routes "
                                      "(redémarrage en douceur de BGP : quelques secondes)"},
    "compare.step.cleanup": {"en": "removing the measurement's namespace",
                             "fr": "suppression de l'espace de noms de la mesure"},
    "compare.step.head": {"en": "Stack {i} of {total} ({lab}) · {elapsed:.0f} s so far · {step}…",
                          "fr": "Pile {i} sur {total} ({lab}) · {elapsed:.0f} s écoulées · {step}…"},
    "compare.step.done": {"en": "{total} stacks measured in {elapsed:.0f} s: {detail}.",
                          "fr": "{total} piles mesurées en {elapsed:.0f} s : {detail}."},
    "compare.step.detail": {"en": "{stack} {s:.0f} s", "fr": "{stack} {s:.0f} s"},
    "compare.step.detail_labs": {"en": "companion labs started in {s:.0f} s",
                                 "fr": "labs compagnons démarrés en {s:.0f} s"},
    "compare.step.detail_reused": {"en": "companion labs already running (kept from a previous run)",
                                   "fr": "labs compagnons déjà en marche (gardés d'une exécution précédente)"},
    "compare.plot.title": {"en": "TCP connection setup, median of {n} (ms)",
                           "fr": "Établissement d'une connexion TCP, médiane de {n} (ms)"},
    "compare.plot.same": {"en": "pod, same node", "fr": "pod, même nœud"},
    "compare.plot.other": {"en": "pod, other node", "fr": "pod, autre nœud"},
    "compare.plot.service": {"en": "Service", "fr": "Service"},
    "compare.plot.throughput": {"en": "TCP throughput, pod → pod (Gbit/s)",
                                "fr": "Débit TCP, pod → pod (Gbit/s)"},
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
    same_node_gbps: float = 0.0
    other_node_gbps: float = 0.0
    programmed_ms: float = 0.0      # a new Service: created -> in every (live) node's rules or maps
    cni: str = ""
    agent: dict[str, Any] = field(default_factory=dict)   # what the agent kill showed (see ``_kill_*``)
    samples: dict[str, list[float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step of ``measure`` (where the wait goes)

    def figures(self) -> dict[str, float]:
        """The measured figures that must be non-zero on any stack."""
        return {"same_node_ms": self.same_node_ms, "other_node_ms": self.other_node_ms,
                "service_ms": self.service_ms, "routes": self.routes,
                "same_node_gbps": self.same_node_gbps, "other_node_gbps": self.other_node_gbps,
                "programmed_ms": self.programmed_ms, "agent": float(self.agent.get("figure") or 0.0),
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


def agent_text(r: StackFigures, lang: str | None = None) -> str:
    """What the agent kill showed, in words (pure)."""
    a = r.agent
    if not a:
        return "-"
    if a.get("agent") == "bird":
        return i18n.t("compare.dies.bird", lang, node=a["node"], withdrawn=i18n.number(a["withdrawn_s"], ".1f", lang),
                      back=i18n.number(a["back_s"], ".1f", lang),
                      restart=a["restart_time"], failed="fails" if a["traffic_failed"] else "still passes",
                      failed_fr="échoue" if a["traffic_failed"] else "passe encore")
    kind = "ebpf" if a.get("agent") == "ebpf" else "kube-proxy"
    new = i18n.t("compare.new.works" if a["new_worked"] else "compare.new.fails", lang)
    return i18n.t(f"compare.dies.{kind}", lang, agent=i18n.t(f"compare.agent.{kind}", lang), node=a["node"],
                  ok=a["old_ok"], n=a["tries"], new=new, ms=i18n.number(a["restart_ms"], "g", lang))


def _cell(value: Any, lang: str | None) -> str:
    """A figure in the learner's language (0,606 in French), words as they are."""
    if isinstance(value, float):
        return i18n.number(value, "g", lang)
    return str(value)


def table(results: list[StackFigures], lang: str | None = None) -> str:
    """An HTML table, one column per stack."""
    def row(key: str, values: list[Any], **kw: Any) -> str:
        # figures stay right-aligned; sentences are left-aligned (JupyterLab right-aligns every cell,
        # which left the agents' lines ragged on the left at 1,366 px)
        cells = "".join(f"<td>{html.escape(_cell(v, lang))}</td>" if isinstance(v, (int, float))
                        else f"<td style='text-align:left'>{html.escape(_cell(v, lang))}</td>" for v in values)
        return f"<tr><th style='text-align:left;min-width:15em'>{i18n.t(key, lang, **kw)}</th>{cells}</tr>"

    inspect = [i18n.t(f"compare.inspect.{r.proxy_mode}", lang)
               + (i18n.t("compare.inspect.bgp", lang) if r.cni == "calico" else "") for r in results]
    rows = [
        row("compare.same_node", [r.same_node_ms for r in results]),
        row("compare.other_node", [r.other_node_ms for r in results]),
        row("compare.service", [r.service_ms for r in results]),
        row("compare.same_gbps", [r.same_node_gbps for r in results]),
        row("compare.other_gbps", [r.other_node_gbps for r in results]),
        row("compare.programmed", [r.programmed_ms for r in results]),
        row("compare.rules", [r.service_rules for r in results], n=N_SERVICES + 1),
        row("compare.map_entries", [r.map_entries for r in results], n=N_SERVICES + 1),
        row("compare.routes", [r.routes for r in results]),
        row("compare.inspect", inspect),
        row("compare.agent_dies", [agent_text(r, lang) for r in results]),
    ]
    head = "".join(f"<th>{html.escape(r.stack)}<br><code>{html.escape(r.lab)}</code></th>" for r in results)
    return (f"<table><tr><th>{i18n.t('compare.stack', lang)}</th>{head}</tr>" + "".join(rows) + "</table>")


def plot(results: list[StackFigures], lang: str | None = None):
    """Grouped bars: connection setup (same node, other node, Service) and throughput (same, other node)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    panels = ((left, [("same_node_ms", "compare.plot.same"), ("other_node_ms", "compare.plot.other"),
                      ("service_ms", "compare.plot.service")], i18n.t("compare.plot.title", lang, n=ROUNDS)),
              (right, [("same_node_gbps", "compare.plot.same"), ("other_node_gbps", "compare.plot.other")],
               i18n.t("compare.plot.throughput", lang)))
    width = 0.8 / max(len(results), 1)
    for ax, keys, title in panels:
        for i, r in enumerate(results):
            ax.bar([x + i * width for x in range(len(keys))], [getattr(r, k) for k, _ in keys], width, label=r.stack)
        ax.set_xticks([x + width * (len(results) - 1) / 2 for x in range(len(keys))])
        ax.set_xticklabels([i18n.t(label, lang) for _, label in keys])
        ax.set_title(title, fontsize=10)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: i18n.number(value, "g", lang)))   # 0,4
    left.legend(fontsize=8)
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


def _pod(name: str, node: str, image: str, labels: dict[str, str], command: list[str] | None = None,
         ports: bool = True) -> dict:
    container: dict[str, Any] = {"name": "main", "image": image}
    if command:
        container["command"] = command
    if ports:
        container["ports"] = [{"containerPort": 80}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "spec": {"nodeName": node, "containers": [container]}}


def _service(name: str, labels: dict[str, str], port: int = 80) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"selector": labels, "ports": [{"port": port, "targetPort": 80}]}}


def _objects(nodes: list[str]) -> list[dict]:
    """Two servers (echo on 80, a TCP sink beside it), a client, ``N_SERVICES + 1`` Services."""
    a, b = nodes[-1], nodes[-2] if len(nodes) > 1 else nodes[-1]
    labels = {"app": "cmp"}
    sink = ["python3", "-c", SINK]
    objs = [_pod("same", a, CLIENT_IMAGE, labels, sink), _pod("other", b, CLIENT_IMAGE, labels, sink),
            _pod("client", a, CLIENT_IMAGE, {"run": "client"}, ["sleep", "infinity"], ports=False)]
    objs += [_service("cmp" if i == 0 else f"cmp{i}", labels) for i in range(N_SERVICES + 1)]
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


def _connect_times(kubectl: _Kubectl, target: str, rounds: int, timeout: float = 2) -> list[float]:
    loop = (f"for i in $(seq {rounds}); do curl -s -o /dev/null -m {timeout:g} -w '%{{time_connect}}\\n' "
            f"http://{target}/; done; true")   # a failed connection prints no time
    out = kubectl("-n", NAMESPACE, "exec", "client", "--", "sh", "-c", loop)
    return [float(v) for v in out.split() if v.replace(".", "").isdigit() and float(v) > 0]


def _throughput(kubectl: _Kubectl, ip: str, mib: int) -> list[float]:
    """Gbit/s of three bulk transfers from the client to the sink of the pod at ``ip``."""
    deadline = time.monotonic() + 10
    while True:                       # the sink starts with the pod's processes: retry a moment
        try:
            out = kubectl("-n", NAMESPACE, "exec", "client", "--", "python3", "-c", SENDER, ip, str(mib))
            return [float(v) for v in out.split()]
        except LabkitError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def measure(lab: str, rounds: int = ROUNDS, kill: bool = True, mib: int = THROUGHPUT_MIB,
            progress: Callable[..., None] | None = None) -> StackFigures:
    """The figures of lab ``lab`` (see the module docstring); the namespace is removed after.
    ``kill``: also kill one node's agent (a few seconds; BIRD's withdrawal takes the graceful-restart time).
    ``progress(key, **params)`` is told each step (an ``i18n`` key of :data:`MESSAGES`, ``compare.step.*``);
    ``figures.timings`` keeps the seconds each step took."""
    from . import connect

    timings: dict[str, float] = {}
    clock = [time.monotonic()]

    def step(done: str | None, key: str | None = None) -> None:
        now = time.monotonic()
        if done:
            timings[done] = round(now - clock[0], 2)
        clock[0] = now
        if key and progress is not None:
            progress(key, lab=lab, n=N_SERVICES + 1, rounds=rounds)

    step(None, "compare.step.pods")
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
        figures = StackFigures(lab, f"{snap.cni or '?'} + {snap.proxy_mode or '?'}", snap.proxy_mode or "?",
                               cni=snap.cni or "", timings=timings)
        deadline = time.monotonic() + 30
        while not _connect_times(kubectl, svc, 1) and time.monotonic() < deadline:
            time.sleep(0.2)                 # the Service's rules or map entries are being written
        step("pods", "compare.step.connect")
        for key, target in (("same_node", pods["same"]["status"]["podIP"]),
                            ("other_node", pods["other"]["status"]["podIP"]), ("service", svc)):
            figures.samples[key] = _connect_times(kubectl, target, rounds)
            setattr(figures, f"{key}_ms", _median_ms(figures.samples[key]))
        step("connect", "compare.step.throughput")
        for key, pod in (("same_node", "same"), ("other_node", "other")):
            figures.samples[f"{key}_gbps"] = _throughput(kubectl, pods[pod]["status"]["podIP"], mib)
            setattr(figures, f"{key}_gbps", round(statistics.median(figures.samples[f"{key}_gbps"]), 2))
        step("throughput", "compare.step.agent_bird" if kill and snap.cni == "calico" else "compare.step.agent")
        _count(cluster, nodes[-1], figures, snap.proxy_mode)
        client_node = pods["client"]["spec"]["nodeName"]
        if kill and snap.cni == "calico":
            figures.programmed_ms = _programmed(cluster, kubectl, nodes, [], snap.proxy_mode, "fresh")[0]
            figures.agent = _kill_bird(cluster, pods["other"], lab)
        elif kill:
            figures.agent = _kill_service_proxy(cluster, kubectl, nodes, client_node, svc, snap.proxy_mode)
            figures.programmed_ms = figures.agent["programmed_ms"]
        else:
            figures.programmed_ms = _programmed(cluster, kubectl, nodes, [], snap.proxy_mode, "fresh")[0]
        step("agent", "compare.step.cleanup")
        return figures
    finally:
        kubectl("delete", "namespace", NAMESPACE)      # gone before the notebook moves on
        cluster.close()
        step("cleanup")


def _holds(cluster: Any, node: str, ip: str, proxy_mode: str | None) -> bool:
    """Whether ``node``'s rules (kube-proxy) or maps (socket LB) hold ClusterIP ``ip``."""
    access = cluster.node(node)
    if proxy_mode == "ebpf":
        from .bpf.maps import BACKENDS, SERVICES, dump_argv, raw_dump, read_table

        dumps = [raw_dump(json.loads(access.run(dump_argv(access.name, m)) or "[]")) for m in (SERVICES, BACKENDS)]
        return any(f.address == ip for f in read_table(*dumps))
    if proxy_mode == "nftables":
        return f"{ip} " in access.run(["nft", "list", "table", "ip", "kube-proxy"])
    return f"-d {ip}/32 " in access.run(["iptables-save"])


def _programmed(cluster: Any, kubectl: _Kubectl, nodes: list[str], dead: list[str], proxy_mode: str | None,
                name: str, timeout: float = 15) -> tuple[float, str]:
    """Create Service ``name``: (ms until every node but ``dead`` holds it, its ClusterIP). The API
    call goes through the Python client (kubectl's own start-up would be most of the figure)."""
    from kubernetes import client as k8s

    start = time.monotonic()
    created = k8s.CoreV1Api(cluster.api).create_namespaced_service(NAMESPACE, _service(name, {"app": "cmp"}, 8080))
    ip = created.spec.cluster_ip
    live = [n for n in nodes if n not in dead]
    while not all(_holds(cluster, n, ip, proxy_mode) for n in live):
        if time.monotonic() - start > timeout:
            raise LabkitError("lab.command_failed", where=NAMESPACE, command=f"wait for Service {name}",
                              error=f"not programmed in {timeout:g} s")
        time.sleep(0.01)
    return round((time.monotonic() - start) * 1000, 1), ip


def _kill_service_proxy(cluster: Any, kubectl: _Kubectl, nodes: list[str], node: str, svc: str,
                        proxy_mode: str | None, tries: int = 5) -> dict:
    """Stop the client node's kube-proxy (or socket LB agent); the old Service, a new one; restart."""
    from . import agents

    agents.stop(cluster, node)
    try:
        old_ok = len(_connect_times(kubectl, svc, tries))
        programmed_ms, ip = _programmed(cluster, kubectl, nodes, [node], proxy_mode, "late")
        on_dead = _holds(cluster, node, ip, proxy_mode)
        new_worked = bool(_connect_times(kubectl, f"{ip}:8080", 1, timeout=1))
    finally:
        start = time.monotonic()
        agents.start(cluster, node)
    while not _holds(cluster, node, ip, proxy_mode):
        if time.monotonic() - start > 15:
            break
        time.sleep(0.01)
    restart_ms = round((time.monotonic() - start) * 1000, 1)
    return {"agent": "ebpf" if proxy_mode == "ebpf" else "kube-proxy", "node": cluster.node(node).name,
            "old_ok": old_ok, "tries": tries, "on_dead_node": on_dead, "new_worked": new_worked,
            "programmed_ms": programmed_ms, "restart_ms": restart_ms, "figure": restart_ms}


def _kill_bird(cluster: Any, server: dict, lab: str) -> dict:
    """Kill BIRD on the other server's node (:func:`labkit.bgp.outage`)."""
    from . import bgp
    from .embedded.bird import RESTART_TIME

    out = bgp.outage(cluster, f"{NAMESPACE}/client", server["status"]["podIP"], server["spec"]["nodeName"])
    return {"agent": "bird", "node": out.node, "withdrawn_s": out.block_withdrawn_after,
            "back_s": out.back_after_restart, "traffic_failed": out.traffic_failed,
            "restart_time": RESTART_TIME, "figure": out.block_withdrawn_after}


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


# --- the notebook's cell: every stack measured, with a progress line ------------------------------
class Progress:
    """One line in the learner's language that says what is being measured and for how long: in a
    notebook a display updated in place (then replaced by the summary), elsewhere printed lines."""

    def __init__(self, total: int, lang: str | None = None) -> None:
        self.total, self.lang, self.index, self.start = total, lang, 0, time.monotonic()
        self.handle = None
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display

            if get_ipython() is not None:
                self.handle = display(HTML(""), display_id=True)
        except ImportError:
            pass

    def _show(self, text: str) -> None:
        if self.handle is not None:
            from IPython.display import HTML

            self.handle.update(HTML(f"<div style='font-family:monospace'>{html.escape(text)}</div>"))
        else:
            print(text, flush=True)

    def __call__(self, key: str, **params: Any) -> None:
        self._show(i18n.t("compare.step.head", self.lang, i=max(self.index, 1), total=self.total,
                          lab=params.get("lab", "-"), elapsed=time.monotonic() - self.start,
                          step=i18n.t(key, self.lang, **params)))

    def done(self, text: str) -> None:
        self._show(text)


def run(lab: str, presets: tuple[str, ...] = ("calico", "ebpf"), lang: str | None = None,
        keep: bool = True, **kw: Any) -> list[StackFigures]:
    """Notebook 05's comparison: :func:`measure` on ``lab``, then on a companion lab per preset
    (``labkit.companion``: your lab's daemon builds them, no root needed), one after another so that
    no measurement shares the two cores with another; a progress line while it runs, then where the
    time went. ``keep``: leave the companions running (an idle lab costs a fraction of a percent of a
    core), so that running the cell again skips their start; ``labkit.companion(p, stop=True)`` removes them."""
    from . import companions

    progress = Progress(len(presets) + 1, lang)
    progress.index = 1
    results = [measure(lab, progress=progress, **kw)]
    start = time.monotonic()
    progress.index = 2
    progress("compare.step.companions", lab=", ".join(presets))
    running = {c["preset"] for c in companions.status(lab) if c["running"]}
    clusters = [companions.companion(p, lab=lab, quiet=True) for p in presets]
    labs_s = time.monotonic() - start
    try:
        for i, cluster in enumerate(clusters, start=2):
            progress.index = i
            results.append(measure(cluster.lab, progress=progress, **kw))
    finally:
        for cluster in clusters:
            cluster.close()
        if not keep:
            for p in presets:
                companions.companion(p, lab=lab, stop=True, quiet=True)
    labs = (i18n.t("compare.step.detail_reused", lang) if running >= set(presets)
            else i18n.t("compare.step.detail_labs", lang, s=labs_s))
    detail = ", ".join([i18n.t("compare.step.detail", lang, stack=r.stack, s=sum(r.timings.values()))
                        for r in results] + [labs])
    progress.done(i18n.t("compare.step.done", lang, total=len(results), elapsed=time.monotonic() - progress.start,
                         detail=detail))
    return results
