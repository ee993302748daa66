"""The pod network layer: nodes, their pods, the devices that carry traffic, the routes between nodes.

Drawn from what the nodes hold (see :mod:`.wiring`), placed by :mod:`.layout`: each node is a box
with its name, node IP, pod CIDR and its routes to the other nodes' pods (in blue, as ``ip route``
prints them; a route that drops them, ``unreachable``, ``blackhole`` or ``prohibit``, in red with a
dashed stroke: broken, in the place the working route had); inside, the pods in a stable grid (name and IP; the veth, node and labels on hover),
each pod's veth joins the node's bus, which ends in the bridge when veths are its ports, in the
node's routing table otherwise (the blue circle), then the VXLAN device when there is one, then the
uplink (``eth0``, node IP). Below the nodes, the node network joins the uplinks.

``highlight`` (element ids and edges, the ids :mod:`labkit.trace` marks) paints a packet's path.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .. import i18n, wiring
from ..snapshot import ClusterSnapshot, NodeNetwork
from . import (
    layout,
    multus,
    style,
)
from .layout import Box, Grid, Slots
from .style import HEAD, MARGIN, SMALL, TEXT
from .svg import Circle, Drawing, Line, Rect, Scene, Text, fit, fit_middle

NODE_GAP = 20
NODE_W = (style.WIDTH - 2 * MARGIN - 2 * NODE_GAP) / 3
PAD = 14
POD = Grid(cols=2, rows=0, cell_w=128, cell_h=42, gap_x=18, gap_y=10)
DEVICE_W, DEVICE_H = 240, 44
# route types that send nothing on (``ip route`` keywords): drawn as a broken route to that node
BROKEN_TYPES = ("unreachable", "blackhole", "prohibit")


# An overlay draws on top of the finished drawing: it gets the scene (whose ``anchors`` say where each
# element id was drawn: pods ``p/<ns>/<name>``, veths and devices ``if/<node>/<dev>``, routers
# ``rt/<node>``, ``net/nodes``) and the y below the node network, and returns the y below what it added.
Overlay = Callable[[Scene, float], float]


@dataclass
class Highlight:
    """Diagram elements to paint as a path: element ids and (a, b) edges, either direction."""

    nodes: set[str] = field(default_factory=set)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def has_edge(self, a: str, b: str) -> bool:
        return (a, b) in self.edges or (b, a) in self.edges

    def has_arc(self, a: str, b: str) -> bool:
        """The edge from ``a`` to ``b`` (a route: worker's route to worker2 is not worker2's route back)."""
        return (a, b) in self.edges


def lines(*parts: str) -> str:
    """Kept for callers that join label lines (``\\n``)."""
    return "\n".join(p for p in parts if p)


def if_id(node: str, name: str) -> str:
    return f"if/{node}/{name}"


def uplink_id(node: NodeNetwork) -> str:
    up = wiring.uplink(node)
    return if_id(node.name, up.name if up else "eth0")


def chain_ids(node: NodeNetwork) -> list[str]:
    """The ids of the devices between the pods' bus and the node network, in order: the bridge (or the
    node's routing table, ``rt/<node>``, the blue circle), the tunnel device if any, the uplink."""
    return [eid for _, eid, _ in _chain(node)]


def router_id(node: NodeNetwork) -> str:
    """The element where the node's traffic from or to its pods is switched: the routing circle or the bridge."""
    return chain_ids(node)[0]


def node_title(node: NodeNetwork, lang: str | None, prefix: str = "") -> str:
    """``node worker2``: the lab's prefix (``kubenet-``) is left out, the tooltip has the full name."""
    name = node.name[len(prefix):] if prefix and node.name.startswith(prefix) and node.name != prefix else node.name
    key = "diagrams.node.label_cp" if "control-plane" in node.roles and "control-plane" not in name else "diagrams.node.label"
    return i18n.t(key, lang, name=name)


def node_addresses(node: NodeNetwork, lang: str | None) -> list[str]:
    return i18n.t("diagrams.node.addresses", lang, ip=node.internal_ip or "?", cidr=node.pod_cidr or "?").split("\n")


def node_network_cidr(snapshot: ClusterSnapshot) -> str:
    for n in snapshot.nodes:
        up = wiring.uplink(n)
        for a in up.ipv4() if up else []:
            if a.ip == n.internal_ip:
                return str(ipaddress.ip_network(a.cidr, strict=False))
    return "?"


def short(snapshot: ClusterSnapshot, node: str) -> str:
    """``worker2`` for ``kubenet-worker2``: the lab's prefix adds nothing inside one picture."""
    prefix = f"{snapshot.name}-"
    return node[len(prefix):] if node.startswith(prefix) and len(node) > len(prefix) else node


def link_ends(snapshot: ClusterSnapshot, link: wiring.Link) -> tuple[str, str]:
    """The ids a link joins: the tunnel devices for VXLAN, the uplinks otherwise."""
    src, dst = snapshot.node(link.src), snapshot.node(link.dst)
    if link.kind == "vxlan":
        dev = link.route.dev or "flannel.1"
        return if_id(src.name, dev), if_id(dst.name, next((t.name for t in wiring.tunnels(dst)), dev))
    return uplink_id(src), uplink_id(dst)


def node_routes(snapshot: ClusterSnapshot, node: NodeNetwork, links: list[wiring.Link]) -> list[wiring.Link]:
    """``node``'s routes to the other nodes' pods, in the kernel's order: its links, and (kind
    ``"broken"``) each ``unreachable``/``blackhole``/``prohibit`` route to another node's pod CIDR
    that no working route to the same destination overrides (``ip route replace unreachable`` in
    notebook 02's exercise 6 takes the working route's place, and the diagram shows it there)."""
    own = {l.route: l for l in links if l.src == node.name}
    working = {l.route.dst for l in own.values()}
    out = []
    for r in node.routes:
        if r in own:
            out.append(own[r])
        elif r.type in BROKEN_TYPES and r.dst not in working:
            as_unicast = wiring.classify(snapshot, node, replace(r, type="unicast"))
            if as_unicast is not None:
                out.append(wiring.Link(node.name, as_unicast.dst, r, "broken"))
    return out


def _route_lines(link: wiring.Link) -> int:
    """Text lines a route takes in its node's head: the destination, ``via``, and ``dev`` for a tunnel;
    a broken route takes two (as a routed one: the box keeps its size when a route breaks)."""
    if link.kind == "broken":
        return 2
    return 3 if " dev " in link.label.partition(" via ")[2] else 2


def pod_short_name(pod: wiring.PodInfo) -> str:
    """``web-…x2k8p`` for a Deployment's ``web-5d8f7c9b4-x2k8p``: owner and the pod's own suffix."""
    name = pod.name
    if pod.owner and name.startswith(pod.owner + "-") and name.count("-") >= pod.owner.count("-") + 2:
        return f"{pod.owner}-…{name.rsplit('-', 1)[1]}"
    return name


def pod_tip(pod: wiring.PodInfo, lang: str | None) -> str:
    """The hover text of a pod: everything the box does not print."""
    labels = ", ".join(f"{k}={v}" for k, v in sorted(pod.labels.items())) or "-"
    return "\n".join([i18n.t("diagrams.tip.pod", lang, name=pod.key), f"IP {pod.ip or '-'}",
                      i18n.t("diagrams.tip.node", lang, node=pod.node or "-"),
                      i18n.t("diagrams.tip.veth", lang, pod_if=pod.pod_if or "eth0", host_if=pod.host_if or "?"),
                      i18n.t("diagrams.tip.labels", lang, labels=labels)])


def pods_by_node(snapshot: ClusterSnapshot, nodes: list[NodeNetwork]) -> dict[str, list[wiring.PodInfo]]:
    infos = wiring.pods(snapshot)
    return {n.name: [p for p in infos if p.node == n.name] for n in nodes}


class _Paint:
    """Strokes and fills, orange where the highlighted path goes."""

    def __init__(self, highlight: Highlight | None) -> None:
        self.hl = highlight or Highlight()

    def on(self, eid: str) -> bool:
        return eid in self.hl.nodes

    def edge(self, a: str, b: str) -> bool:
        return self.hl.has_edge(a, b)

    def arc(self, a: str, b: str) -> bool:
        return self.hl.has_arc(a, b)


def pod_network(snapshot: ClusterSnapshot, lang: str | None = None, max_pods: int | None = None,
                highlight: Highlight | None = None, title: str | None = None,
                slots: Slots | None = None, overlay: Overlay | None = None) -> Drawing:
    """The pod-to-pod layer of ``snapshot`` (see the module docstring).

    ``overlay`` draws on top, between the node network and the legend (``labkit.capture`` numbers
    its capture points there).

    ``slots`` (a previous drawing's ``.layout``) keeps every pod where it was; ``max_pods`` is
    accepted for compatibility (pods are never collapsed any more: each keeps its place).
    """
    cni = snapshot.cni or i18n.t("diagrams.unknown_cni", lang)
    paint = _Paint(highlight)
    scene = Scene("pods", style.WIDTH, title=title or i18n.t("diagrams.title.pods", lang, cni=cni))
    top = style.title(scene, scene.title)
    nodes = layout.node_order(snapshot)
    by_node = pods_by_node(snapshot, nodes)
    placed = layout.assign_slots(by_node, slots)
    grid = Grid(POD.cols, layout.rows_needed(placed, POD.cols), POD.cell_w, POD.cell_h, POD.gap_x, POD.gap_y)
    all_links = wiring.links(snapshot)
    routes = {n.name: node_routes(snapshot, n, all_links) for n in nodes}
    head_lines = 3 + max((sum(_route_lines(l) for l in routes[n.name]) + _bgp_lines(n) for n in nodes), default=0)
    head_h = 16 + HEAD + 6 + head_lines * (SMALL + 5)
    chains = {n.name: _chain(n) for n in nodes}
    chain_h = max(len(c) for c in chains.values()) * (DEVICE_H + 22)
    node_h = head_h + grid.height + 30 + chain_h + 10
    # the node network runs below each row of nodes (one bar per row, joined along the right margin)
    boxes = layout.node_boxes(len(nodes), MARGIN, top, NODE_W, node_h, NODE_GAP, row_gap=34 + 2 * 34)
    rows = layout.rows_of(boxes)
    bars = [boxes[row[0]].bottom + 34 for row in rows] or [top + 34]
    for r, row in enumerate(rows):
        for i in row:
            _draw_node(scene, paint, snapshot, nodes[i], boxes[i], head_h, grid, placed[nodes[i].name],
                       by_node[nodes[i].name], routes[nodes[i].name], chains[nodes[i].name], bars[r], lang)
    net_y = bars[-1]
    for key, found in multus.by_pod(multus.attachments(snapshot)).items():
        if f"p/{key}" in scene.anchors:                    # the pod's box, as drawn: a purple tab on it
            multus.mark_pod(scene, key, Box(*scene.anchors[f"p/{key}"]), found, lang)
    net = scene.group("pods", "net/nodes", "network", tip=i18n.t("diagrams.tip.node_network", lang))
    net_text = i18n.t("diagrams.node_network", lang, cidr=node_network_cidr(snapshot)).replace("\n", " ")
    stroke = style.HIGHLIGHT if paint.on("net/nodes") else style.GREY
    if len(bars) > 1:
        edge_x = style.WIDTH - MARGIN / 2
        net.add(Line([(style.WIDTH - MARGIN, bars[0] + 17), (edge_x, bars[0] + 17), (edge_x, bars[-1] + 17),
                      (style.WIDTH - MARGIN, bars[-1] + 17)], stroke=stroke, width=2))
    for bar in bars:
        net.add(Rect(MARGIN, bar, style.WIDTH - 2 * MARGIN, 34, fill=style.NODE_FILL, stroke=stroke, width=2, rx=6))
        net.add(Text(style.WIDTH / 2, bar + 23, net_text, TEXT, anchor="middle"))
    scene.anchor("net/nodes", MARGIN, net_y, style.WIDTH - 2 * MARGIN, 34)
    seconds = multus.attachments(snapshot)
    bottom = multus.draw_networks(scene, snapshot, seconds, net_y + 34, lang) if seconds else net_y + 34
    bottom = overlay(scene, bottom) if overlay is not None else bottom
    items = [("ring", i18n.t("diagrams.legend.routing", lang)),
             (f"line:{style.BLUE}", i18n.t("diagrams.legend.veth", lang)),
             (f"box:{style.BLUE}:{style.BLUE_FILL}", i18n.t("diagrams.legend.pod", lang)),
             (f"line:{style.GREY}:thick", i18n.t("diagrams.legend.wire", lang))]
    if any(l.kind == "vxlan" for l in all_links):
        items.append((f"line:{style.GREY}:dash", i18n.t("diagrams.legend.encap", lang)))
    if any(l.kind == "broken" for rs in routes.values() for l in rs):
        items.append((f"line:{style.RED}:dash", i18n.t("diagrams.legend.broken_route", lang)))
    if seconds:
        items.append((f"box:{multus.PURPLE}:{multus.PURPLE_FILL}", i18n.t("diagrams.legend.multus", lang)))
    if highlight is not None:
        items.append((f"line:{style.HIGHLIGHT}:thick", i18n.t("diagrams.legend.trace", lang)))
    scene.height = style.legend(scene, bottom + 18, items, i18n.t("diagrams.legend", lang)) + 6
    return Drawing(scene, placed)


def _chain(node: NodeNetwork) -> list[tuple[str, str, object]]:
    """The devices between the pods' bus and the node network: (kind, id, interface)."""
    out: list[tuple[str, str, object]] = []
    bridges = wiring.bridges(node)
    if bridges:
        out.append(("bridge", if_id(node.name, bridges[0].name), bridges[0]))
    else:
        out.append(("router", f"rt/{node.name}", None))
    tunnel = next(iter(wiring.tunnels(node)), None)
    if tunnel is not None:
        out.append(("tunnel", if_id(node.name, tunnel.name), tunnel))
    out.append(("uplink", uplink_id(node), wiring.uplink(node)))
    return out


def _draw_node(scene: Scene, paint: _Paint, snapshot: ClusterSnapshot, node: NodeNetwork, box: Box, head_h: float,
               grid: Grid, slots: dict[str, int], pods: list[wiring.PodInfo], routes: list[wiring.Link],
               chain: list, net_y: float, lang: str | None) -> None:
    frame = scene.group("nodes", f"node/{node.name}", "node", tip=_node_tip(node, lang), name=node.name)
    frame.add(Rect(box.x, box.y, box.w, box.h, fill=style.NODE_FILL, stroke=style.GREY, width=2, rx=12))
    inner = box.w - 2 * PAD
    y = box.y + 16 + HEAD
    frame.add(Text(box.x + PAD, y, fit(node_title(node, lang, f"{snapshot.name}-"), HEAD, inner, True), HEAD, bold=True, cls="node-title"))
    for line in node_addresses(node, lang):
        y += SMALL + 5
        frame.add(Text(box.x + PAD, y, line, SMALL))
    y = _draw_bgp(scene, snapshot, node, box, y, lang)
    if routes:
        y += SMALL + 5
        working = [l for l in routes if l.kind != "broken"]
        learned = node.bgp and working and all(l.route.protocol == "bird" for l in working)
        frame.add(Text(box.x + PAD, y, i18n.t("diagrams.routes_bgp" if learned else "diagrams.routes", lang), SMALL,
                       color=style.BLUE))
    for link in routes:
        if link.kind == "broken":
            y = _draw_broken_route(scene, snapshot, node, link, box, y, lang)
            continue
        a, b = link_ends(snapshot, link)
        lit = paint.arc(a, b)          # this node's route out, not the other node's route back
        g = scene.group("pods", f"route/{node.name}/{link.route.dst}", "route",
                        tip=f"{short(snapshot, link.src)}: {link.label}", **{"from": a, "to": b})
        colour = style.HIGHLIGHT if lit else style.BLUE
        head, _, rest = link.label.partition(" via ") if " via " in link.label else (link.label, "", "")
        y += SMALL + 5
        g.add(Text(box.x + PAD + 8, y, fit(i18n.t("diagrams.route_line", lang, node=short(snapshot, link.dst), dst=head), SMALL, inner - 8), SMALL,
                   color=colour, bold=lit))
        y += SMALL + 5
        if rest:
            via, _, dev = rest.partition(" dev ")
            g.add(Text(box.x + PAD + 24, y, fit(f"via {via}", SMALL, inner - 24), SMALL, color=colour, bold=lit))
            if dev:
                y += SMALL + 5
                g.add(Text(box.x + PAD + 24, y, fit(f"dev {dev}", SMALL, inner - 24), SMALL, color=colour, bold=lit))
    gx, gy = box.x + (box.w - grid.width) / 2 + 4, box.y + head_h
    bus_y = gy + grid.height + 16
    kind, first_id, _ = chain[0]
    junction_y = bus_y + 22
    for pod in sorted(pods, key=lambda p: slots[p.key]):
        cell = grid.cell(gx, gy, slots[pod.key])
        _draw_pod(scene, paint, node, pod, cell, bus_y, (box.cx, junction_y), lang)
    if not pods:
        frame.add(Text(box.cx, gy + grid.cell_h / 2 + 5, i18n.t("diagrams.no_pods", lang), SMALL, anchor="middle",
                       color=style.MUTED))
    y = junction_y
    prev = None
    for kind, eid, dev in chain:
        lit = paint.on(eid)
        if prev is not None:
            g = scene.group("wires", f"wire/{prev[0]}/{eid}", "wire", **{"from": prev[0], "to": eid})
            on = paint.edge(prev[0], eid)
            g.add(Line([(box.cx, prev[2]), (box.cx, y)], stroke=style.HIGHLIGHT if on else style.GREY, width=4 if on else 3,
                       dash="8 5" if kind == "uplink" and prev[1] == "tunnel" else None))
        if kind == "router":
            scene.anchor(eid, box.cx - 12, y, 24, 24)
            g = scene.group("pods", eid, "router", tip=i18n.t("diagrams.tip.router", lang, node=node.name))
            g.add(Circle(box.cx, y + 12, 12, "white", style.HIGHLIGHT if lit else style.BLUE, 3))
            g.add(Line([(box.cx - 8, y + 4), (box.cx + 8, y + 20)], stroke=style.BLUE, width=2))
            g.add(Line([(box.cx - 8, y + 20), (box.cx + 8, y + 4)], stroke=style.BLUE, width=2))
            prev = (eid, kind, y + 24)
            y += 24 + 22
            continue
        scene.anchor(eid, box.cx - DEVICE_W / 2, y, DEVICE_W, DEVICE_H)
        g = scene.group("pods", eid, "device", tip=_device_tip(dev, kind, lang), dev=dev.name if dev else "eth0")
        fill = style.BLUE_FILL if kind in ("bridge", "tunnel") else style.DEVICE_FILL
        g.add(Rect(box.cx - DEVICE_W / 2, y, DEVICE_W, DEVICE_H, fill=fill,
                   stroke=style.HIGHLIGHT if lit else style.GREY, width=3 if lit else 1.5, rx=6))
        for i, text in enumerate(_device_text(dev, kind, node, lang)):
            g.add(Text(box.cx, y + 18 + i * (SMALL + 4), fit(text, SMALL, DEVICE_W - 12), SMALL, anchor="middle"))
        prev = (eid, kind, y + DEVICE_H)
        y += DEVICE_H + 22
    up_id = chain[-1][1]
    on = paint.edge(up_id, "net/nodes")
    g = scene.group("wires", f"wire/{up_id}/net", "wire", **{"from": up_id, "to": "net/nodes"})
    g.add(Line([(box.cx, prev[2]), (box.cx, net_y)], stroke=style.HIGHLIGHT if on else style.GREY, width=4 if on else 3))


def _draw_broken_route(scene: Scene, snapshot: ClusterSnapshot, node: NodeNetwork, link: wiring.Link, box: Box,
                       y: float, lang: str | None) -> float:
    """A route that drops the other node's pods, in red: ``✕ worker2: 10.244.2.0/24``, then a dashed
    stroke and ``unreachable`` (``injoignable (unreachable)``; other types in brackets), two lines as
    a routed one takes; the group keeps the working route's id, only its style changes."""
    a, b = link_ends(snapshot, link)
    r = link.route
    g = scene.group("pods", f"route/{node.name}/{r.dst}", "route", tip=f"{short(snapshot, link.src)}: {r.type} {r.dst}",
                    broken=r.type, **{"from": a, "to": b})
    inner = box.w - 2 * PAD
    y += SMALL + 5
    g.add(Text(box.x + PAD + 8, y, fit(i18n.t("diagrams.route_broken", lang, node=short(snapshot, link.dst), dst=r.dst),
                                       SMALL, inner - 8, True), SMALL, color=style.RED, bold=True))
    y += SMALL + 5
    x = box.x + PAD + 24
    word = i18n.t("diagrams.route_unreachable", lang) if r.type == "unreachable" else \
        i18n.t("diagrams.route_broken_type", lang, type=r.type)
    g.add(Line([(x, y - SMALL / 3), (x + 22, y - SMALL / 3)], stroke=style.RED, width=2, dash="5 3"))
    g.add(Text(x + 30, y, fit(word, SMALL, inner - 54), SMALL, color=style.RED))
    return y


def _bgp_lines(node: NodeNetwork) -> int:
    return 1 + (len(node.bgp) if node.bgp else int(node.bird_down)) if node.bgp or node.bird_down else 0


def _draw_bgp(scene: Scene, snapshot: ClusterSnapshot, node: NodeNetwork, box: Box, y: float,
              lang: str | None) -> float:
    """The node's BGP sessions (BIRD's ``show protocols``): one line per peer, ✕ when not Established."""
    if not node.bgp and not node.bird_down:
        return y
    names = {n.internal_ip: short(snapshot, n.name) for n in snapshot.nodes}
    g = scene.group("pods", f"bgp/{node.name}", "bgp", tip=i18n.t("diagrams.tip.bgp", lang))
    y += SMALL + 5
    g.add(Text(box.x + PAD, y, i18n.t("diagrams.bgp", lang), SMALL, color=style.BLUE))
    inner = box.w - 2 * PAD
    for session in node.bgp:
        y += SMALL + 5
        peer = names.get(session.peer, session.peer or session.name)
        mark, colour = ("⇄", style.BLUE) if session.established else ("✕", style.RED)
        line = i18n.t("diagrams.bgp_line", lang, mark=mark, peer=peer, info=session.info or session.state)
        g.add(Text(box.x + PAD + 8, y, fit(line, SMALL, inner - 8), SMALL, color=colour, bold=not session.established))
    if node.bird_down:
        y += SMALL + 5
        g.add(Text(box.x + PAD + 8, y, fit(i18n.t("diagrams.bird_down", lang), SMALL, inner - 8), SMALL,
                   color=style.RED, bold=True))
    return y


def _draw_pod(scene: Scene, paint: _Paint, node: NodeNetwork, pod: wiring.PodInfo, cell: Box, bus_y: float,
              junction: tuple[float, float], lang: str | None) -> None:
    lit = paint.on(pod.key and f"p/{pod.key}")
    routed = _routed(node, pod)
    tip = pod_tip(pod, lang) + ("" if routed else "\n" + i18n.t("diagrams.tip.no_route", lang, ip=pod.ip))
    scene.anchor(f"p/{pod.key}", cell.x, cell.y, cell.w, cell.h)
    g = scene.group("pods", f"p/{pod.key}", "pod", tip=tip, ip=pod.ip or "", node=pod.node or "",
                    name=pod.key, route="ok" if routed else "missing")
    g.add(Rect(cell.x, cell.y, cell.w, cell.h, fill=style.BLUE_FILL, stroke=style.HIGHLIGHT if lit else style.BLUE,
               width=3 if lit else 1.5, rx=6))
    g.add(Text(cell.x + 6, cell.y + 17, fit_middle(pod_short_name(pod), SMALL, cell.w - 12), SMALL))
    ip_text = (pod.ip or i18n.t("diagrams.pod.no_ip", lang)) + ("" if routed else " ✕")
    g.add(Text(cell.x + 6, cell.y + 35, fit(ip_text, SMALL, cell.w - 12), SMALL,
               color=style.GREY if routed else style.RED, bold=not routed))
    if not pod.host_if:
        return
    vid = if_id(node.name, pod.host_if)
    on = paint.edge(f"p/{pod.key}", vid) or paint.on(vid)
    bus_x = cell.x - 8
    scene.anchor(vid, bus_x, cell.y + cell.h / 2)
    v = scene.group("wires" if not on else "trace", vid, "veth", tip=i18n.t("diagrams.tip.veth_pair", lang,
                    host_if=pod.host_if, pod=pod.key), **{"from": f"p/{pod.key}", "to": vid})
    colour = style.HIGHLIGHT if on else style.BLUE if routed else style.RED
    v.add(Line([(cell.x, cell.y + cell.h / 2), (bus_x, cell.y + cell.h / 2), (bus_x, bus_y), (junction[0], bus_y),
                (junction[0], junction[1])], stroke=colour, width=4 if on else 2, dash=None if routed else "6 4"))


def _routed(node: NodeNetwork, pod: wiring.PodInfo) -> bool:
    """Whether the node's routing table sends the pod's IP to its veth (or to the bridge it is a port of)."""
    if not pod.ip or not pod.host_if:
        return True                      # nothing to check yet
    exact = [r for r in node.routes if r.table == "main" and r.type == "unicast" and r.dst in (pod.ip, f"{pod.ip}/32")]
    route = exact[0] if exact else wiring.lookup(node, pod.ip)   # a host route is the longest prefix there is
    if route is None:
        return False
    host = wiring.interface(node, pod.host_if)
    return route.dev in (pod.host_if, host.master if host is not None else None)


def _node_tip(node: NodeNetwork, lang: str | None) -> str:
    return "\n".join([node.name, *node_addresses(node, lang)]
                     + [(f"{r.type} " if r.type != "unicast" else "") + r.describe()
                        for r in node.routes if r.table == "main"][:12])


def _device_text(dev, kind: str, node: NodeNetwork, lang: str | None) -> list[str]:
    if kind == "bridge":
        return i18n.t("diagrams.bridge", lang, name=dev.name, addr=", ".join(a.cidr for a in dev.ipv4()) or "-").split("\n")
    if kind == "tunnel":
        vx = dev.vxlan or {}
        return i18n.t("diagrams.tunnel", lang, name=dev.name, vni=vx.get("id", "?"), local=vx.get("local") or "?").split("\n")
    addr = next((a.cidr for a in dev.ipv4() if a.ip == node.internal_ip), node.internal_ip or "") if dev else ""
    return [dev.name if dev else "eth0", addr]


def _device_tip(dev, kind: str, lang: str | None) -> str:
    if dev is None:
        return "eth0"
    addrs = ", ".join(a.cidr for a in dev.addresses) or "-"
    return "\n".join([f"{dev.name} ({dev.kind or kind})", addrs, i18n.t("diagrams.tip.state", lang, state=dev.state or "?")])
