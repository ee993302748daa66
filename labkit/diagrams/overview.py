"""The three layers in one picture, at the chapter's level of abstraction (its first and last slides).

Nodes side by side in a fixed order, their pods in a stable grid; the pod network is one blue ring
through every node (a routing circle in each node, every pod's veth joins it); the Services in a
green lane above, an arrow from each to every node that runs one of its endpoints; the policies in
a red lane below, and every pod a policy isolates drawn with a thick red border. Names only: the
addresses, selectors and rules are in the tooltips and in the layer views.

``detail=True`` (the chapter's last picture) adds, in each Service box, the number of endpoints,
and in each policy box the number of pods it selects. For the reference snapshot the picture is
wider than tall, so a 1,280 × 720 slide shows it whole and enlarged.
"""
from __future__ import annotations

import math

from .. import i18n, wiring
from ..netpol.groups import selected_by, snapshot_engine
from ..snapshot import ClusterSnapshot
from . import (
    layout,
    style,
)
from .layout import Grid, Slots
from .pods import node_title, pod_short_name, pod_tip, pods_by_node
from .policies import check_port
from .services import service_entries, service_id
from .style import MARGIN, no_entry
from .svg import Circle, Drawing, Line, Rect, Scene, Text, fit, fit_middle, text_width

BIG, MID, POD_SIZE = 22, 17, 15
LANE_GAP = 12
MAX_LANE = 8
POLICIES_PER_ROW = 4
NODE_GAP = 24
ROW_GAP = 44
TRACK = 4.0            # px between two Services' lines in the gaps between nodes
NODE_W = (style.WIDTH - 2 * MARGIN - 2 * NODE_GAP) / 3
GRID = Grid(cols=2, rows=0, cell_w=118, cell_h=32, gap_x=20, gap_y=10)


def overview(snapshot: ClusterSnapshot, lang: str | None = None, detail: bool = False, port: int = 80,
             protocol: str = "TCP", max_pods: int | None = None, slots: Slots | None = None,
             highlight=None, title: str | None = None) -> Drawing:
    """All three layers of ``snapshot`` (see the module docstring).

    ``highlight`` (a :class:`.pods.Highlight`, as :mod:`labkit.trace` marks a path) paints the pods
    and the routing circles the packet goes through, and the veths it takes, in orange; across the
    three layers (``labkit.trace.layers_highlight``) also the Service it went through (``svc/…``) and
    its arrow to the chosen backend's node, the policies that let it through (``pol/…``), and where
    it is dropped: ``drop/p/<pod>`` gets the no-entry sign, ``drop/pol/…`` a thick dashed red border.
    """
    port = check_port(port)
    cni = snapshot.cni or i18n.t("diagrams.unknown_cni", lang)
    title = title or (i18n.t("diagrams.title.overview_detail", lang, cni=cni, protocol=protocol, port=port) if detail
                      else i18n.t("diagrams.title.overview", lang))
    lit = set(highlight.nodes) if highlight is not None else set()
    lit_nodes = {m.split("/")[1] for m in lit if m.startswith("if/")}
    dropped = {m[len("drop/"):] for m in lit if m.startswith("drop/")}
    scene = Scene("overview", style.WIDTH, title=title)
    y = style.title(scene, title, 28)
    nodes = layout.node_order(snapshot)
    by_node = pods_by_node(snapshot, nodes)
    placed = layout.assign_slots(by_node, slots)
    grid = Grid(GRID.cols, layout.rows_needed(placed, GRID.cols), GRID.cell_w, GRID.cell_h, GRID.gap_x, GRID.gap_y)
    entries = service_entries(snapshot)
    eng = snapshot_engine(snapshot)
    selects = selected_by(eng)
    isolated = {k for k, pols in selects.items() if pols}

    # the services lane
    svc_y = y + 8
    lane = _lane(len(entries))
    svc_boxes = []
    if entries:
        cap = scene.group("services", None, "lane-caption")
        cap.add(Text(MARGIN, svc_y + MID, i18n.t("diagrams.lane.services", lang), MID, bold=True, color=style.GREEN))
        svc_y += MID + 10
        for i, entry in enumerate(entries[:lane]):
            x = MARGIN + i * (_lane_w(lane) + LANE_GAP)
            more = i == lane - 1 and len(entries) > lane
            svc_boxes.append((entry, x, more))
        y = svc_y + 40 + 70
    head_h = 16 + BIG + 10
    node_h = head_h + grid.height + 22 + 40
    boxes = layout.node_boxes(len(nodes), MARGIN, y, NODE_W, node_h, NODE_GAP, row_gap=ROW_GAP)
    routers = {}
    for node, box in zip(nodes, boxes):
        frame = scene.group("nodes", f"node/{node.name}", "node", name=node.name,
                            tip="\n".join([node.name, f"IP {node.internal_ip or '?'}",
                                           f"pod CIDR {node.pod_cidr or '?'}"]))
        frame.add(Rect(box.x, box.y, box.w, box.h, fill=style.NODE_FILL, stroke=style.GREY, width=2.5, rx=14))
        frame.add(Text(box.x + 16, box.y + 16 + BIG * 0.8, fit(node_title(node, lang, f"{snapshot.name}-"), BIG, box.w - 32, True), BIG,
                       bold=True, cls="node-title"))
        gx, gy = box.x + (box.w - grid.width) / 2 + 6, box.y + head_h
        router = (box.cx, gy + grid.height + 22 + 14)
        routers[node.name] = router
        for pod in sorted(by_node[node.name], key=lambda p: placed[node.name][p.key]):
            cell = grid.cell(gx, gy, placed[node.name][pod.key])
            bus_y = gy + grid.height + 8
            on = f"p/{pod.key}" in lit
            w = scene.group("trace" if on else "ring", f"veth/{pod.key}", "veth",
                            **{"from": f"p/{pod.key}", "to": f"rt/{node.name}"})
            w.add(Line([(cell.x, cell.y + cell.h / 2), (cell.x - 9, cell.y + cell.h / 2), (cell.x - 9, bus_y),
                        (router[0], bus_y), (router[0], router[1] - 12)], stroke=style.HIGHLIGHT if on else style.BLUE,
                       width=4 if on else 2))
            iso = pod.key in isolated
            g = scene.group("pods", f"p/{pod.key}", "pod", tip=pod_tip(pod, lang), ip=pod.ip or "", node=node.name,
                            name=pod.key, isolated="1" if iso else "0")
            stroke = style.HIGHLIGHT if on else style.RED if iso else style.BLUE
            g.add(Rect(cell.x, cell.y, cell.w, cell.h, fill=style.BLUE_FILL, stroke=stroke, width=4 if iso or on else 1.5,
                       rx=6))
            g.add(Text(cell.x + 7, cell.y + 22, fit_middle(pod_short_name(pod), POD_SIZE, cell.w - 14), POD_SIZE))
            if f"p/{pod.key}" in dropped:                    # the connection is dropped here
                no_entry(g, cell.x + cell.w - 2, cell.y + 2, 11)
        if not by_node[node.name]:
            frame.add(Text(box.cx, gy + 22, i18n.t("diagrams.no_pods", lang), POD_SIZE, anchor="middle", color=style.MUTED))
    # the ring: through every node's routing circle, back below the nodes (one row), or through the
    # routing circles of the last row (two rows: the ring runs along the first row, down the margins,
    # back along the second)
    ring_top = routers[nodes[0].name][1] if nodes else y
    below = max((b.bottom for b in boxes), default=y) + 26
    bottom = routers[nodes[-1].name][1] if len(layout.rows_of(boxes)) > 1 else below
    left, right = MARGIN + 6, style.WIDTH - MARGIN - 6
    ring = scene.group("ring", "net/pods", "ring", tip=i18n.t("diagrams.tip.pod_network", lang))
    ring.add(Line([(left + 20, ring_top), (right - 20, ring_top), (right, ring_top + 20), (right, bottom - 20),
                   (right - 20, bottom), (left + 20, bottom), (left, bottom - 20), (left, ring_top + 20)],
                  stroke=style.BLUE, width=5, closed=True))
    for name, (rx, ry) in routers.items():
        g = scene.group("ring", f"rt/{name}", "router", tip=i18n.t("diagrams.tip.router", lang, node=name))
        g.add(Circle(rx, ry, 13, "white", style.HIGHLIGHT if name in lit_nodes else style.BLUE, 4 if name in lit_nodes else 3))
        g.add(Line([(rx - 9, ry - 9), (rx + 9, ry + 9)], stroke=style.BLUE, width=2.5))
        g.add(Line([(rx - 9, ry + 9), (rx + 9, ry - 9)], stroke=style.BLUE, width=2.5))
    cap = scene.group("ring", None, "ring-caption")
    cap.add(Text(style.WIDTH / 2, below + 26, i18n.t("diagrams.ring", lang, cidr=_cluster_cidr(snapshot)), MID,
                 anchor="middle", bold=True, color=style.BLUE))
    y = below + 26 + 16
    # services: boxes, then an arrow to every node that runs an endpoint
    node_box = {n.name: b for n, b in zip(nodes, boxes)}
    infos = [p for drawn in by_node.values() for p in drawn]    # read once: every Service looks its pods up here
    ep_nodes = _endpoint_nodes(infos, entries)
    lower = [i for i, (entry, _x, more) in enumerate(svc_boxes)
             if not more and any(node_box[n].y > boxes[0].y + 1 for n in ep_nodes.get(entry.service, ()))]
    gutters = {i: _gutter(svc_boxes[i][1] + _lane_w(lane) / 2) for i in lower}   # the gap nearest the Service
    tracks = {}                                          # one track each in its gap, centred
    for gap in set(gutters.values()):
        mine = [i for i in lower if gutters[i] == gap]
        tracks.update({i: rank - (len(mine) - 1) / 2 for rank, i in enumerate(mine)})
    levels = {i: rank - (len(lower) - 1) / 2 for rank, i in enumerate(lower)}    # and its own level between rows
    for i, (entry, x, more) in enumerate(svc_boxes):
        w = _lane_w(lane)
        if more:
            rest = entries[i:]
            g = scene.group("services", "svc/more", "service", tip="\n".join(e.service for e in rest))
            g.add(Rect(x, svc_y, w, 40, fill=style.GREEN_FILL, stroke=style.GREEN, width=2.5, rx=8))
            g.add(Text(x + w / 2, svc_y + 26, i18n.t("diagrams.more", lang, count=len(rest)), POD_SIZE, anchor="middle"))
            continue
        targets = [p for p in (entry.endpoints or [])]
        keys = _endpoint_keys(infos, entry)
        g = scene.group("services", service_id(entry), "service", tip=_service_tip(entry, lang),
                        targets=" ".join(sorted({f"p/{k}" for k in keys})))
        on = service_id(entry) in lit
        lit_to = {p.node for p in infos if p.key in keys and f"p/{p.key}" in lit} if on else set()
        for n in sorted(ep_nodes.get(entry.service, ()), key=lambda n: [x.name for x in nodes].index(n)):
            b = node_box[n]
            px = b.x + 24 + (i + 0.5) * (b.w - 48) / max(1, min(len(entries), lane))
            down = b.y > boxes[0].y + 1
            g.add(Line(_service_path((x + w / 2, svc_y + 40), px, b, boxes[0].y, gutters.get(i, 0),
                                     (tracks.get(i, 0.0), levels.get(i, 0.0))),
                       stroke=style.HIGHLIGHT if n in lit_to else style.GREEN,
                       width=4 if n in lit_to else 2 if down else 3,
                       arrow="arrow-hl" if n in lit_to else "arrow-green"))
        g.add(Rect(x, svc_y, w, 40, fill=style.GREEN_FILL, stroke=style.HIGHLIGHT if on else style.GREEN,
                   width=4 if on else 2.5, rx=8))
        label = entry.service.split("/", 1)[-1]
        if detail:
            label = f"{label} ×{len(targets)}"
        g.add(Text(x + w / 2, svc_y + 26, fit(label, POD_SIZE, w - 12), POD_SIZE, anchor="middle"))
    # policies: a lane below
    pols = eng.policies
    if pols:
        y += 10
        cap = scene.group("policies", None, "lane-caption")
        cap.add(Text(MARGIN, y + MID, i18n.t("diagrams.lane.policies", lang), MID, bold=True, color=style.RED))
        y += MID + 10
        per_row = min(len(pols), POLICIES_PER_ROW)
        w = _lane_w(per_row)
        for i, pol in enumerate(pols):
            r, c = divmod(i, per_row)
            x, py = MARGIN + c * (w + LANE_GAP), y + r * (40 + LANE_GAP)
            chosen = sorted(k for k, ps in selects.items() if pol in ps)
            g = scene.group("policies", f"pol/{pol.key}", "policy", tip=_policy_tip(pol, chosen, lang),
                            targets=" ".join(f"p/{k}" for k in chosen))
            text = pol.name + (f" ×{len(chosen)}" if detail else "")
            drop, on = f"pol/{pol.key}" in dropped, f"pol/{pol.key}" in lit
            g.add(Rect(x, py, w, 40, fill=style.RED_FILL, stroke=style.HIGHLIGHT if on else style.RED,
                       width=5 if drop or on else 2.5, rx=8, dash="9 5" if drop else None))
            no_entry(g, x + 20, py + 20)
            g.add(Text(x + 36, py + 26, fit(text, POD_SIZE, w - 44), POD_SIZE, color=style.RED))
        y += math.ceil(len(pols) / per_row) * (40 + LANE_GAP) + 4
    items = [("ring", i18n.t("diagrams.legend.ring", lang)),
             (f"line:{style.GREEN}:arrow", i18n.t("diagrams.legend.service_to_node", lang)),
             (f"box:{style.RED}:{style.BLUE_FILL}:thick", i18n.t("diagrams.legend.isolated", lang))]
    if lit:
        items.append((f"line:{style.HIGHLIGHT}:thick", i18n.t("diagrams.legend.path", lang)))
    if dropped:
        items.append((f"box:{style.RED}:{style.RED_FILL}:thick", i18n.t("diagrams.legend.dropped", lang)))
    y = style.legend(scene, y + 6, items, i18n.t("diagrams.legend", lang), size=POD_SIZE)
    scene.height = y + 4
    return Drawing(scene, placed)


def _gutter(x: float) -> int:
    """The gap between two columns of nodes nearest to ``x`` (0: right of the first column)."""
    pitch = NODE_W + NODE_GAP
    return max(0, min(layout.NODES_PER_ROW - 2, round((x - MARGIN - NODE_W - NODE_GAP / 2) / pitch)))


def _service_path(start: tuple[float, float], px: float, box, first_top: float, gap: int,
                  place: tuple[float, float]) -> list[tuple[float, float]]:
    """From a Service box to the top of a node box: straight to the first row; to a lower row down the
    gap between two columns of nodes nearest the Service (``gap``), then along the gap between the rows.
    Each Service that reaches a lower row has its own track in its gap and its own level between the rows
    (``place``: its ranks, centred on 0), :data:`TRACK` px (at most) from the next, so that the lines stay
    apart instead of merging into one bar."""
    track, level = place
    if box.y <= first_top + 1:
        return [start, (px, box.y - 2)]
    spread = min(TRACK, (NODE_GAP - 8) / max(1.0, 2 * abs(track))) if track else TRACK
    gx = MARGIN + (gap + 1) * NODE_W + gap * NODE_GAP + NODE_GAP / 2 + track * spread
    ty = box.y - ROW_GAP / 2 - 4 + level * (min(TRACK, (ROW_GAP - 20) / max(1.0, 2 * abs(level))) if level else 0)
    return [start, (gx, first_top - 12), (gx, ty), (px, ty), (px, box.y - 2)]


def _lane(count: int) -> int:
    return min(max(count, 1), MAX_LANE)


def _lane_w(count: int) -> float:
    return min(220.0, (style.WIDTH - 2 * MARGIN - (count - 1) * LANE_GAP) / count)


def _cluster_cidr(snapshot: ClusterSnapshot) -> str:
    """The cluster's pod network when the snapshot knows it, else the smallest range holding every
    node's (a guess: 10.244.0.0/22 for three /24s where the cluster has a /16)."""
    import ipaddress

    if snapshot.pod_cidr:
        return snapshot.pod_cidr
    nets = [ipaddress.ip_network(n.pod_cidr, strict=False) for n in snapshot.nodes if n.pod_cidr]
    if not nets:
        return "?"
    net = nets[0]
    while not all(n.subnet_of(net) for n in nets) and net.prefixlen > 0:
        net = net.supernet()
    return str(net)


def _endpoint_keys(infos: list[wiring.PodInfo], entry) -> set[str]:
    by_ip = {p.ip: p.key for p in infos if p.ip}
    return {by_ip[e.ip] for e in entry.endpoints if e.ip in by_ip}


def _endpoint_nodes(infos: list[wiring.PodInfo], entries) -> dict[str, set[str]]:
    by_ip = {p.ip: p.node for p in infos if p.ip and p.node}
    return {e.service: {by_ip[ep.ip] for ep in e.endpoints if ep.ip in by_ip} for e in entries}


def _service_tip(entry, lang: str | None) -> str:
    lines = [i18n.t("diagrams.tip.service", lang, name=entry.service),
             i18n.t("diagrams.svc.cluster_ip", lang, ip=entry.cluster_ip or "-", port=entry.port or "-")]
    if entry.node_port:
        lines.append(i18n.t("diagrams.svc.node_port", lang, port=entry.node_port))
    lines += [f"→ {e.ip}:{e.port}" for e in entry.endpoints]
    return "\n".join(lines)


def _policy_tip(pol, chosen: list[str], lang: str | None) -> str:
    import json

    spec = pol.spec if hasattr(pol, "spec") else {}
    return "\n".join([i18n.t("diagrams.pol.policy", lang, name=pol.key), ", ".join(pol.policy_types),
                      i18n.t("diagrams.tip.selects", lang, pods=", ".join(chosen) or "-"),
                      json.dumps(spec, sort_keys=True)[:400] if spec else ""]).strip()


def width_ok(text: str, size: float, w: float) -> bool:
    return text_width(text, size) <= w
