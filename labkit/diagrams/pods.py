"""The pod network layer: nodes, their pods, the devices that carry traffic, the routes between nodes.

Drawn from what the nodes hold (see :mod:`.wiring`): each node is a box with its IP and pod CIDR;
inside, pods (IP on ``eth0``), the host end of each veth, the bridge when veths are its ports,
the VXLAN device when there is one, and the uplink (``eth0``, node IP). Below, the node network.
Blue edges between nodes are the routes to the other nodes' pod CIDRs, labelled as ``ip route``
prints them: solid for a route via the node IP, dashed for an onlink route into the tunnel.

``highlight`` (node ids and edges) is how :func:`labkit.trace.draw_trace` paints a packet's path
on this same picture.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import graphviz

from .. import i18n
from ..snapshot import ClusterSnapshot, NodeNetwork
from . import messages  # noqa: F401  (registers the catalog)
from . import style
from . import wiring
from .wiring import PodGroup


@dataclass
class Highlight:
    """Diagram elements to paint as a path: node ids and (tail, head) edges, either direction."""

    nodes: set[str] = field(default_factory=set)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def has_edge(self, a: str, b: str) -> bool:
        return (a, b) in self.edges or (b, a) in self.edges


def lines(*parts: str) -> str:
    """A multi-line graphviz label (``\\n`` centres each line)."""
    return "\\n".join(p.replace("\n", "\\n") for p in parts if p)


def if_id(node: str, name: str) -> str:
    return f"if/{node}/{name}"


def uplink_id(node: NodeNetwork) -> str:
    up = wiring.uplink(node)
    return if_id(node.name, up.name if up else "eth0")


def pod_label(group: PodGroup, lang: str | None) -> str:
    if group.collapsed:
        return lines(i18n.t("diagrams.pod.group", lang, owner=group.owner, count=len(group.pods)), group.ip_range)
    pod = group.pods[0]
    ip = f"eth0 {pod.ip}" if pod.ip else i18n.t("diagrams.pod.no_ip", lang)
    return lines(pod.name, ip)


def node_title(node: NodeNetwork, lang: str | None) -> str:
    key = "diagrams.node.label_cp" if "control-plane" in node.roles else "diagrams.node.label"
    return lines(i18n.t(key, lang, name=node.name),
                 i18n.t("diagrams.node.addresses", lang, ip=node.internal_ip or "?", cidr=node.pod_cidr or "?"))


def node_network_cidr(snapshot: ClusterSnapshot) -> str:
    for n in snapshot.nodes:
        up = wiring.uplink(n)
        for a in up.ipv4() if up else []:
            if a.ip == n.internal_ip:
                return str(ipaddress.ip_network(a.cidr, strict=False))
    return "?"


class _Painter:
    """Adds nodes and edges, painting those on the highlighted path."""

    def __init__(self, g: graphviz.Digraph, highlight: Highlight | None) -> None:
        self.g, self.hl = g, highlight or Highlight()

    def node(self, target: graphviz.Digraph, nid: str, label: str, **attrs: str) -> None:
        if nid in self.hl.nodes:
            attrs = {**attrs, "color": style.HIGHLIGHT, "penwidth": "3"}
        target.node(nid, label, **attrs)

    def edge(self, target: graphviz.Digraph, a: str, b: str, **attrs: str) -> None:
        if self.hl.has_edge(a, b):
            attrs = {**attrs, "color": style.HIGHLIGHT, "penwidth": "4", "fontcolor": style.HIGHLIGHT}
        target.edge(a, b, **attrs)


def pod_network(snapshot: ClusterSnapshot, lang: str | None = None, max_pods: int = wiring.DEFAULT_MAX_PODS,
                highlight: Highlight | None = None, title: str | None = None) -> graphviz.Digraph:
    """The pod-to-pod layer of ``snapshot`` as a Digraph (see the module docstring)."""
    cni = snapshot.cni or i18n.t("diagrams.unknown_cni", lang)
    g = style.new_graph("pods", title or i18n.t("diagrams.title.pods", lang, cni=cni))
    paint = _Painter(g, highlight)
    groups = wiring.group_pods(wiring.pods(snapshot), max_pods)
    for node in snapshot.nodes:
        _draw_node(paint, node, [gr for gr in groups if gr.node == node.name], lang)
    net = "net/nodes"
    g.node(net, i18n.t("diagrams.node_network", lang, cidr=node_network_cidr(snapshot)).replace("\n", "\\n"),
           shape="box", style="filled", fillcolor=style.NODE_FILL, color=style.GREY, width="6")
    for node in snapshot.nodes:
        paint.edge(g, uplink_id(node), net, dir="none", color=style.GREY, penwidth="2")
    all_links = wiring.links(snapshot)
    has_tunnel = any(link.kind == "vxlan" for link in all_links)
    for pair in _pairs(all_links):
        _draw_pair(paint, snapshot, pair, lang)
    items = [(i18n.t("diagrams.legend.pod_route", lang), style.BLUE, "solid")]
    if has_tunnel:
        items.append((i18n.t("diagrams.legend.tunnel", lang), style.BLUE, "dashed"))
    items.append((i18n.t("diagrams.legend.wire", lang), style.GREY, "solid"))
    if highlight is not None:
        items.append((i18n.t("diagrams.legend.trace", lang), style.HIGHLIGHT, "bold"))
    style.legend(g, items, i18n.t("diagrams.legend", lang))
    return g


def _draw_node(paint: _Painter, node: NodeNetwork, groups: list[PodGroup], lang: str | None) -> None:
    with paint.g.subgraph(name=f"cluster_{node.name}") as c:
        c.attr(**style.node_cluster_attrs(node_title(node, lang)))
        up = wiring.uplink(node)
        up_id = uplink_id(node)
        up_addr = next((a.cidr for a in up.ipv4() if a.ip == node.internal_ip), node.internal_ip or "") if up else ""
        paint.node(c, up_id, lines(up.name if up else "eth0", up_addr), fillcolor=style.DEVICE_FILL)
        tunnel = next(iter(wiring.tunnels(node)), None)
        inner = up_id
        if tunnel is not None:
            vx = tunnel.vxlan or {}
            tid = if_id(node.name, tunnel.name)
            paint.node(c, tid, i18n.t("diagrams.tunnel", lang, name=tunnel.name, vni=vx.get("id", "?"),
                                      local=vx.get("local") or "?").replace("\n", "\\n"), fillcolor=style.BLUE_FILL)
            paint.edge(c, tid, up_id, dir="none", style="dashed", color=style.GREY,
                       label=i18n.t("diagrams.encap", lang, port=vx.get("port", 8472)))
            inner = tid
        bridges = {b.name: b for b in wiring.bridges(node)}
        for b in bridges.values():
            bid = if_id(node.name, b.name)
            addr = ", ".join(a.cidr for a in b.ipv4()) or "-"
            paint.node(c, bid, i18n.t("diagrams.bridge", lang, name=b.name, addr=addr).replace("\n", "\\n"),
                       fillcolor=style.BLUE_FILL)
            paint.edge(c, bid, inner, dir="none", color=style.GREY, penwidth="2")
        for group in groups:
            _draw_pod(paint, c, node, group, bridges, inner, lang)


def _draw_pod(paint: _Painter, c: graphviz.Digraph, node: NodeNetwork, group: PodGroup,
              bridges: dict, inner: str, lang: str | None) -> None:
    paint.node(c, group.id, pod_label(group, lang), fillcolor=style.BLUE_FILL, color=style.BLUE, penwidth="1.5")
    hosts = [wiring.interface(node, p.host_if) for p in group.pods]
    known = [h for h in hosts if h is not None]
    if not known:
        return
    if group.collapsed:
        vid = if_id(node.name, group.id)
        paint.node(c, vid, i18n.t("diagrams.veths", lang, count=len(known)), fontsize=style.EDGE_SIZE)
    else:
        vid = if_id(node.name, known[0].name)
        paint.node(c, vid, known[0].name, fontsize=style.EDGE_SIZE, fontname=style.MONO)
    paint.edge(c, group.id, vid, dir="none", color=style.BLUE, penwidth="2")
    master = known[0].master
    paint.edge(c, vid, if_id(node.name, master) if master in bridges else inner, dir="none",
               color=style.GREY, penwidth="2")


def _pairs(links: list[wiring.Link]) -> list[list[wiring.Link]]:
    """Routes grouped by the pair of nodes (and kind) they join, so each pair gets one edge."""
    pairs: dict[tuple, list[wiring.Link]] = {}
    for link in links:
        pairs.setdefault((*sorted((link.src, link.dst)), link.kind), []).append(link)
    return list(pairs.values())


def link_ends(snapshot: ClusterSnapshot, link: wiring.Link) -> tuple[str, str]:
    """The diagram ids a link joins: the tunnel devices for VXLAN, the uplinks otherwise."""
    src, dst = snapshot.node(link.src), snapshot.node(link.dst)
    if link.kind == "vxlan":
        dev = link.route.dev or "flannel.1"
        return if_id(src.name, dev), if_id(dst.name, next((t.name for t in wiring.tunnels(dst)), dev))
    return uplink_id(src), uplink_id(dst)


def short(snapshot: ClusterSnapshot, node: str) -> str:
    """``worker2`` for ``kubenet-worker2``: the lab's prefix adds nothing inside one picture."""
    prefix = f"{snapshot.name}-"
    return node[len(prefix):] if node.startswith(prefix) and len(node) > len(prefix) else node


def _draw_pair(paint: _Painter, snapshot: ClusterSnapshot, pair: list[wiring.Link], lang: str | None) -> None:
    """One edge per pair of nodes, one label line per route: ``worker: 10.244.2.0/24 via 172.18.0.4``."""
    first = pair[0]
    a, b = link_ends(snapshot, first)
    texts = [f"{short(snapshot, link.src)}: {link.label}" for link in pair]
    both = len({link.src for link in pair}) > 1
    paint.edge(paint.g, a, b, label=lines(*texts), color=style.BLUE, fontcolor=style.BLUE, constraint="false",
               style="dashed" if first.kind == "vxlan" else "solid", penwidth="1.5",
               dir="both" if both else "forward")
