"""The path of a new connection, hop by hop, computed from a snapshot (pure: no packet is sent).

``trace(snapshot, "demo/client", "demo/blue:80")`` follows what the kernels in the snapshot would
do with the first packet: the source pod's route and its veth into the node; kube-proxy's chains
on the node where the packet enters (``PREROUTING`` → ``KUBE-SERVICES`` → ``KUBE-SVC-…``) and
the DNAT candidates with their share of new connections (``KUBE-SEP-…``, from the parsed rules);
then, for each candidate, the route lookups node after node (via a node IP, or into the VXLAN
device towards the remote VTEP) down to the destination's veth; and the policy verdict for the
pair on the port *after* DNAT (what the policy enforcer sees). A destination may be a pod
(``ns/name[:port]``), a service (``ns/name:port``), a pod or ClusterIP ``IP:port``, or
``NodeIP:NodePort`` (DNATed on the node that owns the IP, as ``--dst-type LOCAL`` does).
With the BPF socket load balancer (``--service-proxy ebpf``) the order differs, as it does in the
kernel: ``connect()`` in the pod picks the backend first, before any packet exists, then the
pod's route and veth carry a packet already addressed to the backend.

Each hop carries the ids of the pod-network diagram elements it crosses, so :func:`draw_trace`
paints the path on :func:`labkit.diagrams.pod_network`.
"""
from __future__ import annotations

import html
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import graphviz

from . import i18n, wiring
from .diagrams import pods as pod_diagram
from .diagrams.messages import percent
from .errors import BadInput
from .inspect.iproute import route_for
from .inspect.servicemap import Trace as ProxyTrace
from .inspect.servicemap import trace as kube_proxy_trace
from .netpol.engine import Engine
from .netpol.groups import snapshot_engine
from .snapshot import ClusterSnapshot, NodeNetwork

MESSAGES = {
    "trace.head": {"en": "{src} → {dst}: path of a new {protocol} connection",
                   "fr": "{src} → {dst} : chemin d'une nouvelle connexion {protocol}"},
    "trace.pod_route": {"en": "pod {pod}: route {route}", "fr": "pod {pod} : route {route}"},
    "trace.veth": {"en": "leaves the pod by {pod_if}, enters node {node} by {host_if}",
                   "fr": "sort du pod par {pod_if}, entre dans le nœud {node} par {host_if}"},
    "trace.no_pod_route": {"en": "pod {pod}: no route to {ip}", "fr": "pod {pod} : aucune route vers {ip}"},
    "trace.kube_proxy": {"en": "kube-proxy on {node} ({service}): {path}",
                         "fr": "kube-proxy sur {node} ({service}) : {path}"},
    "trace.no_service": {"en": "kube-proxy on {node}: no rule for {dst}, no DNAT",
                         "fr": "kube-proxy sur {node} : aucune règle pour {dst}, pas de DNAT"},
    "trace.no_rules": {"en": "node {node}: no kube-proxy rules in the snapshot",
                       "fr": "nœud {node} : aucune règle kube-proxy dans l'instantané"},
    "trace.no_candidates": {"en": "service {service} has no endpoint: the connection is rejected",
                            "fr": "le service {service} n'a aucun endpoint : la connexion est rejetée"},
    "trace.candidate": {"en": "candidate {n}/{total}: {target} ({pod}), {share} of new connections",
                        "fr": "candidat {n}/{total} : {target} ({pod}), {share} des nouvelles connexions"},
    "trace.dnat": {"en": "{chain}: DNAT to {target}", "fr": "{chain} : DNAT vers {target}"},
    "trace.socket_lb": {"en": "connect() in the pod, BPF socket load balancer of {node} ({service}): {path}",
                        "fr": "connect() dans le pod, répartiteur BPF de sockets de {node} ({service}) : {path}"},
    "trace.socket_lb_pick": {"en": "{chain}: connect() goes to {target} (no DNAT: no packet carries the ClusterIP)",
                             "fr": "{chain} : connect() va vers {target} (pas de DNAT : aucun paquet ne porte la "
                                   "ClusterIP)"},
    "trace.node_route": {"en": "node {node}: route {route} → node {next}",
                         "fr": "nœud {node} : route {route} → nœud {next}"},
    "trace.tunnel": {"en": "node {node}: route {route}, VXLAN on {dev} (VNI {vni}) to VTEP {vtep} "
                           "(node {next}), UDP {port} over {uplink}",
                     "fr": "nœud {node} : route {route}, VXLAN sur {dev} (VNI {vni}) vers le VTEP {vtep} "
                           "(nœud {next}), UDP {port} par {uplink}"},
    "trace.deliver": {"en": "node {node}: route {route} → {host_if} → pod {pod} ({pod_if})",
                      "fr": "nœud {node} : route {route} → {host_if} → pod {pod} ({pod_if})"},
    "trace.local_address": {"en": "node {node}: {ip} is the node's own address", "fr": "nœud {node} : {ip} est l'adresse du nœud"},
    "trace.leave": {"en": "node {node}: route {route}, the packet leaves the cluster",
                    "fr": "nœud {node} : route {route}, le paquet sort du cluster"},
    "trace.no_route": {"en": "node {node}: no route to {ip}", "fr": "nœud {node} : aucune route vers {ip}"},
    "trace.dropped_route": {"en": "node {node}: route {route}, the kernel drops the packet: {ip} is unreachable",
                            "fr": "nœud {node} : route {route}, le noyau rejette le paquet : {ip} est injoignable"},
    "trace.loop": {"en": "stopped after {hops} nodes: routing loop?", "fr": "arrêt après {hops} nœuds : boucle de routage ?"},
    "trace.policy": {"en": "network policies: {verdict}", "fr": "politiques réseau : {verdict}"},
    "trace.policy_none": {"en": "network policies: not evaluated (the destination is not a pod)",
                          "fr": "politiques réseau : non évaluées (la destination n'est pas un pod)"},
    "trace.allowed": {"en": "allowed", "fr": "connexion autorisée"},   # "politiques réseau : autorisée" read as the policies
    "trace.denied": {"en": "denied", "fr": "connexion refusée"},
    "trace.html.step": {"en": "step", "fr": "étape"},
    "trace.html.layer": {"en": "layer", "fr": "couche"},
    "trace.html.where": {"en": "where", "fr": "où"},
    "trace.html.what": {"en": "what happens", "fr": "ce qui se passe"},
    "trace.layer.pod": {"en": "pod network", "fr": "réseau des pods"},
    "trace.layer.service": {"en": "service", "fr": "service"},
    "trace.layer.policy": {"en": "policy", "fr": "politique"},
}

MAX_NODES = 6  # route lookups before we call it a loop


@dataclass(frozen=True)
class Hop:
    """One step: a message (``trace.<key>`` with ``params``), the layer it belongs to, and where."""

    layer: str                     # "pod", "service" or "policy"
    key: str
    params: dict[str, Any]
    node: str | None = None
    candidate: int | None = None   # index in ``Trace.candidates``; None: shared by every candidate
    chains: tuple[str, ...] = ()
    marks: tuple[str, ...] = ()    # pod-network diagram node ids
    edges: tuple[tuple[str, str], ...] = ()

    def text(self, lang: str | None = None) -> str:
        params = {k: i18n.t(v.key, lang) if isinstance(v, Word) else v for k, v in self.params.items()}
        return i18n.t(f"trace.{self.key}", lang, **params)


@dataclass(frozen=True)
class Word:
    """A parameter that is itself a message (a verdict), translated when the hop is rendered."""

    key: str


@dataclass
class Candidate:
    """Where DNAT may send the connection (the destination itself when there is no DNAT)."""

    ip: str
    port: int
    share: float
    pod: str | None
    chains: list[str] = field(default_factory=list)
    allowed: bool | None = None
    explanation: Any = None

    @property
    def target(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass
class Trace:
    source: str
    destination: str
    protocol: str
    hops: list[Hop]
    candidates: list[Candidate]
    snapshot: ClusterSnapshot = field(repr=False)
    ip: str = ""                   # the destination as resolved (a ClusterIP, a pod or node IP)
    port: int = 0

    @property
    def chains(self) -> list[str]:
        """kube-proxy chains in order: the service's, then one ``KUBE-SEP-…`` per candidate."""
        out = [c for h in self.hops if h.candidate is None for c in h.chains]
        return out + [c for h in self.hops if h.candidate is not None for c in h.chains]

    def for_candidate(self, n: int) -> list[Hop]:
        return [h for h in self.hops if h.candidate == n]

    def to_text(self, lang: str | None = None) -> str:
        lines = [i18n.t("trace.head", lang, src=self.source, dst=self.destination, protocol=self.protocol)]
        lines += [f"  {i + 1}. {h.text(lang)}" for i, h in enumerate(h for h in self.hops if h.candidate is None)]
        for n in range(len(self.candidates)):
            lines.append("  " + self._candidate_head(n, lang))
            lines += [f"      - {h.text(lang)}" for h in self.for_candidate(n)]
        return "\n".join(lines) + "\n"

    def _candidate_head(self, n: int, lang: str | None) -> str:
        cand = self.candidates[n]
        return i18n.t("trace.candidate", lang, n=n + 1, total=len(self.candidates), target=cand.target,
                      pod=cand.pod or "-", share=percent(cand.share, lang))

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        colours = {"pod": "#dce8fa", "service": "#ddf2e1", "policy": "#fbe0e0"}
        cols = "".join(f"<th style='text-align:left'>{html.escape(i18n.t(k))}</th>"
                       for k in ("trace.html.step", "trace.html.layer", "trace.html.where", "trace.html.what"))
        rows = []
        for i, h in enumerate(self.hops, start=1):
            if h.candidate is not None and h is self.for_candidate(h.candidate)[0]:
                rows.append(f"<tr><td colspan='4' style='text-align:left'>"
                            f"<b>{html.escape(self._candidate_head(h.candidate, None))}</b></td></tr>")
            # left-aligned: JupyterLab right-aligns table cells, which made each step hard to read; the
            # short columns do not wrap ("pod / network", "rw- / worker" at 1,366 px doubled every row)
            td = "<td style='text-align:left;white-space:nowrap'>"
            rows.append(f"<tr style='background:{colours.get(h.layer, '#fff')}'>{td}{i}</td>"
                        f"{td}{html.escape(i18n.t('trace.layer.' + h.layer))}</td>{td}{html.escape(h.node or '')}</td>"
                        f"<td style='font-family:monospace;text-align:left'>{html.escape(h.text())}</td></tr>")
        head = html.escape(i18n.t("trace.head", None, src=self.source, dst=self.destination, protocol=self.protocol))
        return f"<div><b>{head}</b><table style='border-collapse:collapse'><tr>{cols}</tr>{''.join(rows)}</table></div>"

    def draw(self, lang: str | None = None) -> graphviz.Digraph:
        return draw_trace(self, lang)


# -- destination ------------------------------------------------------------------------------
def _port(text: str, dst: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadInput("trace.error.bad_destination", dst=dst) from None
    if not 1 <= value <= 65535:
        raise BadInput("trace.error.bad_destination", dst=dst)
    return value


def resolve_destination(snapshot: ClusterSnapshot, dst: str, default_port: int = 80) -> tuple[str, int]:
    """``(ip, port)`` for any accepted form of destination (see the module docstring)."""
    if "/" in dst:
        name, _, port_text = dst.partition(":")
        ns, _, short = name.rpartition("/")
        for svc in snapshot.services:
            meta = svc.get("metadata") or {}
            if meta.get("name") == short and meta.get("namespace", "default") == (ns or "default"):
                return _service_port(svc, name, port_text, dst)
        try:
            pod = snapshot.pod(name)
        except KeyError:
            raise BadInput("trace.error.unknown_destination", dst=dst) from None
        ip = wiring.pod_ip(pod)
        if not ip:
            raise BadInput("trace.error.no_ip", pod=name)
        return ip, _port(port_text, dst) if port_text else default_port
    host, sep, port_text = dst.rpartition(":") if dst.count(":") == 1 else (dst, "", "")
    try:
        ip = str(ipaddress.ip_address(host))
    except ValueError:
        raise BadInput("trace.error.bad_destination", dst=dst) from None
    return ip, _port(port_text, dst) if sep else default_port


def _service_port(svc: dict, name: str, port_text: str, dst: str) -> tuple[str, int]:
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or []
    if not port_text and len(ports) == 1:
        chosen = ports[0]
    else:
        chosen = next((p for p in ports if str(p.get("port")) == port_text or p.get("name") == port_text), None)
    if chosen is None:
        raise BadInput("trace.error.unknown_port", service=name, port=port_text or "-",
                       ports=", ".join(str(p.get("port")) for p in ports) or "-")
    return str(spec.get("clusterIP")), int(chosen["port"])


# -- the walk ---------------------------------------------------------------------------------
class _Walker:
    def __init__(self, snapshot: ClusterSnapshot, source: str) -> None:
        self.snap = snapshot
        self.infos = {p.key: p for p in wiring.pods(snapshot)}
        self.by_ip = {p.ip: p for p in self.infos.values() if p.ip}
        self.groups = wiring.group_index(wiring.group_pods(list(self.infos.values())))
        if source not in self.infos:
            known = ", ".join(list(self.infos)[:20]) or "-"
            raise BadInput("trace.error.unknown_pod", pod=source, known=known)
        self.src = self.infos[source]
        if not self.src.ip:
            raise BadInput("trace.error.no_ip", pod=source)
        self.hops: list[Hop] = []
        self._engine: Engine | None = None
        self._arrival: tuple[str, tuple[str, ...], tuple] | None = None   # (node, marks, edges): see arrive()

    def add(self, layer: str, key: str, where: str | None = None, candidate: int | None = None,
            chains: tuple[str, ...] = (), marks: tuple[str, ...] = (), edges: tuple = (), **params: Any) -> None:
        if self._arrival is not None and where == self._arrival[0]:
            # the devices the packet came in by belong to the first step on the node it reached
            _, in_marks, in_edges = self._arrival
            marks, edges, self._arrival = in_marks + tuple(marks), in_edges + tuple(edges), None
        self.hops.append(Hop(layer, key, params, where, candidate, chains, tuple(dict.fromkeys(marks)),
                             tuple(dict.fromkeys(edges))))

    def arrive(self, node: NodeNetwork, by: str) -> None:
        """The packet reaches ``node`` from the node network by device ``by`` (its uplink or its tunnel
        device): those devices, up to the routing circle (or bridge), are painted with the next step,
        which happens on ``node``."""
        ids = _through(node, by)[::-1]
        self._arrival = (node.name, ids, (("net/nodes", ids[0]), *_wires(node, ids)))

    def leave_by(self, node: NodeNetwork, dev: str) -> tuple[tuple[str, ...], tuple]:
        """Marks and edges of the packet leaving ``node`` by ``dev`` (its uplink or tunnel device):
        the routing circle (or bridge), the devices down to the uplink, the wire to the node network."""
        ids = _through(node, dev)
        return ids, (*_wires(node, ids), (ids[-1], "net/nodes"))

    def node(self, name: str | None) -> NodeNetwork | None:
        try:
            return self.snap.node(name) if name else None
        except KeyError:
            return None

    def pod_side(self, node: NodeNetwork, pod: wiring.PodInfo) -> tuple[tuple[str, ...], tuple]:
        """Diagram ids of a pod and its veth (to or from the node's bridge or routing circle)."""
        group = self.groups[pod.key]
        vid = pod_diagram.if_id(node.name, group.id if group.collapsed else (pod.host_if or "?"))
        return (group.id, vid), ((group.id, vid),)

    def start(self, ip: str, cand: int | None = None) -> NodeNetwork | None:
        src = self.src
        own = self.snap.pod_networks.get(src.key)
        node = self.node(src.node)
        marks, edges = self.pod_side(node, src) if node else ((), ())
        if own is not None:
            r = route_for(own.routes, ip)
            if r is None:
                self.add("pod", "no_pod_route", src.node, cand, pod=src.key, ip=ip, marks=marks[:1])
                return None
            self.add("pod", "pod_route", src.node, cand, pod=src.key, route=r.describe(), marks=marks[:1])
        if node is not None:
            self.add("pod", "veth", node.name, cand, pod_if=src.pod_if or "eth0", host_if=src.host_if or "?",
                     node=node.name, marks=marks, edges=edges)
        return node

    def addresses(self, node: NodeNetwork) -> set[str]:
        own = {node.internal_ip} if node.internal_ip is not None else set()
        return own | {a.ip for i in node.interfaces if i.kind not in ("veth",) for a in i.addresses}

    def route_to_node(self, node: NodeNetwork, r: Any, nxt: NodeNetwork, cand: int | None) -> None:
        """``node`` routes the packet to ``nxt``'s IP: painted on ``node`` (its routing circle, its
        uplink and its route to ``nxt``), ``nxt``'s uplink with the next step."""
        a, b = pod_diagram.uplink_id(node), pod_diagram.uplink_id(nxt)
        marks, edges = self.leave_by(node, a)
        self.add("pod", "node_route", node.name, cand, node=node.name, route=r.describe() if r else "-",
                 next=nxt.name, marks=marks, edges=((a, b), *edges))
        self.arrive(nxt, b)

    def forward(self, node: NodeNetwork, ip: str, cand: int | None) -> None:
        """Route lookups from ``node`` until the packet reaches ``ip`` or leaves.

        Each step paints only elements of the node it happens on (a learner matches the table's
        "where" with the picture): the routing circle that decides, the devices the packet leaves by;
        the next node's devices go with the next step."""
        for _ in range(MAX_NODES):
            router = pod_diagram.router_id(node)
            if ip in self.addresses(node) and ip not in self.by_ip:
                self.add("pod", "local_address", node.name, cand, node=node.name, ip=ip,
                         marks=(pod_diagram.uplink_id(node),))
                return
            r = route_for(node.routes, ip)
            if r is None:
                self.add("pod", "no_route", node.name, cand, node=node.name, ip=ip, marks=(router,))
                return
            if r.type in pod_diagram.BROKEN_TYPES:      # notebook 02's exercise 6: the break, on this node
                self.add("pod", "dropped_route", node.name, cand, node=node.name, route=f"{r.type} {r.describe()}",
                         ip=ip, marks=(router,))
                return
            dev = wiring.interface(node, r.dev)
            pod = self.by_ip.get(ip)
            nxt = wiring.node_for_ip(self.snap, r.gateway if r.gateway and not (dev and dev.kind == "vxlan") else ip)
            if pod is not None and pod.node == node.name and (dev is None or dev.kind in ("veth", "bridge")):
                marks, edges = self.pod_side(node, pod)
                self.add("pod", "deliver", node.name, cand, node=node.name, route=r.describe(),
                         host_if=pod.host_if or "?", pod=pod.key, pod_if=pod.pod_if or "eth0",
                         marks=(router, *marks), edges=edges)
                return
            if dev is not None and dev.kind == "vxlan" and nxt is not None and nxt.name != node.name:
                link = wiring.classify(self.snap, node, r)
                vx = dev.vxlan or {}
                up = wiring.uplink(node)
                a, b = pod_diagram.link_ends(self.snap, link) if link else ("", "")
                marks, edges = self.leave_by(node, pod_diagram.if_id(node.name, dev.name))
                self.add("pod", "tunnel", node.name, cand, node=node.name, route=r.describe(), dev=dev.name,
                         vni=vx.get("id", "?"), vtep=link.vtep if link else "?", next=nxt.name,
                         port=vx.get("port", 8472), uplink=up.name if up else "eth0", marks=marks,
                         edges=((a, b), *edges))
                self.arrive(nxt, b or pod_diagram.uplink_id(nxt))
                node = nxt
                continue
            if r.gateway and nxt is not None and nxt.name != node.name and r.gateway == nxt.internal_ip:
                self.route_to_node(node, r, nxt, cand)
                node = nxt
                continue
            marks, edges = self.leave_by(node, pod_diagram.uplink_id(node))
            self.add("pod", "leave", node.name, cand, node=node.name, route=r.describe(), marks=marks, edges=edges)
            return
        self.add("pod", "loop", node.name, cand, hops=MAX_NODES)

    def verdict(self, cand: Candidate, n: int | None, protocol: str) -> None:
        if cand.pod is None:
            self.add("policy", "policy_none", None, n)
            return
        if self._engine is None:
            self._engine = snapshot_engine(self.snap)
        why = self._engine.explain(self.src.key, cand.pod, cand.port, protocol.upper())
        cand.allowed, cand.explanation = why.allowed, why
        self.add("policy", "policy", None, n, verdict=Word("trace.allowed" if why.allowed else "trace.denied"))


def _through(node: NodeNetwork, dev: str) -> tuple[str, ...]:
    """The node's elements a packet crosses between its routing circle (or bridge) and the node network
    when it leaves or arrives by ``dev``: (circle, [tunnel device,] uplink)."""
    chain = pod_diagram.chain_ids(node)
    return tuple(dict.fromkeys((chain[0], dev, chain[-1])))


def _wires(node: NodeNetwork, ids: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The drawn wires between consecutive ``ids`` (only where the two are neighbours in the node's chain)."""
    chain = pod_diagram.chain_ids(node)
    pos = {eid: i for i, eid in enumerate(chain)}
    return tuple((a, b) for a, b in zip(ids, ids[1:]) if a in pos and b in pos and abs(pos[a] - pos[b]) == 1)


def trace(snapshot: ClusterSnapshot, source: str, destination: str, port: int = 80, protocol: str = "tcp") -> Trace:
    """The hops of a new connection from pod ``source`` to ``destination`` (see the module docstring)."""
    w = _Walker(snapshot, source)
    ip, dport = resolve_destination(snapshot, destination, port)
    result: ProxyTrace | None
    home = w.node(w.src.node)
    if home is not None and home.kube_proxy is not None and home.kube_proxy.mode == "ebpf":
        result = kube_proxy_trace(home.kube_proxy, ip, dport, protocol)
        if result.service is not None and result.kind == "cluster_ip":   # a NodePort: nftables, below
            return _socket_lb_trace(w, home, result, source, destination, protocol, ip, dport)
    node = w.start(ip)
    candidates: list[Candidate] = []
    socket_lb = False
    if node is None:
        return Trace(source, destination, protocol.upper(), w.hops, candidates, snapshot, ip, dport)
    owner = wiring.node_for_ip(snapshot, ip)
    if owner is not None and owner.internal_ip == ip and owner.name != node.name:
        r = route_for(node.routes, ip)  # a NodePort on another node: routed there, DNATed there
        w.route_to_node(node, r, owner, None)
        node = owner
    result = None
    if node.kube_proxy is None:
        w.add("service", "no_rules", node.name, node=node.name)
    else:
        result = kube_proxy_trace(node.kube_proxy, ip, dport, protocol)
        # ebpf: no ClusterIP here (the socket LB would have translated it in connect()), so the
        # packet goes as it is, or through kube-proxy's NodePort rules (labkit.bpf.nodeports)
        socket_lb = node.kube_proxy.mode == "ebpf" and result.kind in (None, "cluster_ip")
        if result.kind == "node_port" and ip not in w.addresses(node):
            result = None  # --dst-type LOCAL: a node port answers on the node's own addresses only
        if result is None or result.service is None:
            w.add("service", "no_service", node.name, node=node.name, dst=f"{ip}:{dport}")
            result = None
        else:
            w.add("service", "socket_lb" if socket_lb else "kube_proxy", node.name, chains=tuple(result.chains),
                  node=node.name,
                  service=result.service, path=" → ".join(result.chains))
            if not result.targets:
                w.add("service", "no_candidates", node.name, service=result.service)
    if result is None:
        candidates.append(Candidate(ip, dport, 1.0, w.by_ip[ip].key if ip in w.by_ip else None))
    else:
        candidates += [Candidate(t.ip, t.port, t.share, w.by_ip[t.ip].key if t.ip in w.by_ip else None, list(t.chains))
                       for t in result.targets]
    for n, cand in enumerate(candidates):
        index = n
        if cand.chains:
            w.add("service", "socket_lb_pick" if socket_lb else "dnat", node.name, index, chains=tuple(cand.chains),
                  chain=cand.chains[-1],
                  target=cand.target)
        w.forward(node, cand.ip, index)
        w.verdict(cand, index, protocol)
    return Trace(source, destination, protocol.upper(), w.hops, candidates, snapshot, ip, dport)


def _socket_lb_trace(w: _Walker, node: NodeNetwork, result: Any, source: str, destination: str,
                     protocol: str, ip: str, dport: int) -> Trace:
    """A ClusterIP behind the BPF socket load balancer (``--service-proxy ebpf``): the translation
    happens in ``connect()``, in the pod's own socket, *before* any packet exists (cilium/cilium
    bpf/bpf_sock.c ``sock4_connect``). So the map lookup and the backend's pick come first, and
    the pod's route lookup, its veth and the route lookups after it are for the backend's address:
    no packet ever carries the ClusterIP."""
    w.add("service", "socket_lb", node.name, chains=tuple(result.chains), node=node.name,
          service=result.service, path=" → ".join(result.chains))
    if not result.targets:
        w.add("service", "no_candidates", node.name, service=result.service)
    candidates = [Candidate(t.ip, t.port, t.share, w.by_ip[t.ip].key if t.ip in w.by_ip else None, list(t.chains))
                  for t in result.targets]
    for n, cand in enumerate(candidates):
        w.add("service", "socket_lb_pick", node.name, n, chains=tuple(cand.chains),
              chain=cand.chains[-1] if cand.chains else "-", target=cand.target)
        start = w.start(cand.ip, n)
        if start is not None:
            w.forward(start, cand.ip, n)
        w.verdict(cand, n, protocol)
    return Trace(source, destination, protocol.upper(), w.hops, candidates, w.snap, ip, dport)


def draw_trace(result: Trace, lang: str | None = None) -> graphviz.Digraph:
    """The pod-network diagram with the traced path painted on it."""
    hl = pod_diagram.Highlight({m for h in result.hops for m in h.marks if m},
                               {e for h in result.hops for e in h.edges if all(e)})
    title = i18n.t("diagrams.title.trace", lang, src=result.source, dst=result.destination)
    return pod_diagram.pod_network(result.snapshot, lang, highlight=hl, title=title)


def path_highlight(result: Trace, endpoint: str | None = None) -> pod_diagram.Highlight:
    """The elements to paint for ``result``: the shared hops and those of the candidate whose target
    is ``endpoint`` (the one that answered), or every hop when ``endpoint`` is not a candidate."""
    targets = [c.target for c in result.candidates]
    n = targets.index(endpoint) if endpoint in targets else None
    hops = [h for h in result.hops if n is None or h.candidate in (None, n)]
    return pod_diagram.Highlight({m for h in hops for m in h.marks if m}, {e for h in hops for e in h.edges if all(e)})


def layers_highlight(result: Trace, endpoint: str | None = None) -> pod_diagram.Highlight:
    """:func:`path_highlight` plus what the overview (``labkit.diagrams.overview``) draws of the two
    other layers: the Service the connection went through (``svc/<ns>/<name>/<protocol>``), the
    policies that let it out and in (``pol/<ns>/<name>``), and where it is dropped: the pod whose
    side denies it (``drop/p/<ns>/<pod>``) and the policies isolating that side (``drop/pol/…``)."""
    path = path_highlight(result, endpoint)
    ids = set(path.nodes)
    ids |= {f"svc/{h.params['service']}/{result.protocol.lower()}".replace(":", "_") for h in result.hops
            if h.layer == "service" and h.params.get("service")}
    targets = [c.target for c in result.candidates]
    chosen = [result.candidates[targets.index(endpoint)]] if endpoint in targets else result.candidates
    for cand in chosen:
        why = cand.explanation
        if why is None or why.self_allowed:
            continue
        for side in (why.egress, why.ingress):
            if side.allowed:
                ids |= {f"pol/{r.policy}" for r in side.allowed_by}
            else:
                ids |= {f"drop/pol/{k}" for k in side.isolated_by} | {f"drop/p/{side.pod}"}
                break                                   # the packet goes no further
    return pod_diagram.Highlight(ids, set(path.edges))


def _as_snapshot(cluster: Any) -> ClusterSnapshot:
    """A handle's snapshot (:func:`labkit.cluster.snapshot`: a snapshot as is, a cluster or a lab
    name read now)."""
    if isinstance(cluster, ClusterSnapshot):
        return cluster
    from .cluster import snapshot

    return snapshot(cluster)


def _lab_name(cluster: Any) -> str:
    """The embedded lab behind ``cluster`` (observing needs its namespaces)."""
    from .cluster import lab_name

    name = lab_name(cluster)
    if not name:
        raise BadInput("observe.embedded_only")
    return name


def trace_cluster(cluster: Any, source: str, destination: str, port: int = 80, protocol: str = "tcp",
                  observe: bool = False) -> Any:
    """``labkit.trace(cluster, src, dst)``, the notebook call: :func:`trace` on any cluster handle
    (a ``Cluster``, a ``ClusterSnapshot`` or a lab name).

    ``observe=True`` also sends one real connection and puts the kernel's own trace of it beside
    the prediction (:class:`labkit.observed_trace.ObservedTrace`; embedded lab: root enters its
    namespaces, an ordinary user asks its daemon through the API)."""
    predicted = trace(_as_snapshot(cluster), source, destination, port, protocol)
    if not observe:
        return predicted
    from .kernel_trace import observe as observe_trace

    return observe_trace(_lab_name(cluster) if isinstance(cluster, ClusterSnapshot) else cluster, predicted)
