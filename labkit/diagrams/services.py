"""The pod-to-service layer: each Service's ways in, and where kube-proxy sends new connections.

The shares on the arrows are read from the *parsed rules of one node* (``NodeNetwork.kube_proxy``,
see :mod:`labkit.inspect.servicemap`), not computed from the EndpointSlices: the picture shows
what the node really does (the ``statistic`` cascade 1/3, 1/2, 1 gives a third each). With
``show_chains`` the chain names a connection traverses are written in the Service boxes, as
``iptables-save`` names them (always in the tooltips).

Layout: the Services in a column on the left, one row per endpoint inside each box with its share
of new connections; the pods on the right, inside their nodes (fixed order, stable rows); a green
arrow from each row to its pod, along its node's lane in the band between them (:class:`_Lanes`). Text stays inside boxes, arrows in the free band between them. A snapshot without rules (no kube-proxy yet) falls back to the
EndpointSlices, drawn dashed and without shares.
"""
from __future__ import annotations

from .. import i18n, wiring
from ..errors import BadInput
from ..inspect.servicemap import EndpointEntry, ServiceEntry, ServiceMap
from ..snapshot import ClusterSnapshot, NodeNetwork
from . import (
    layout,
    style,
)
from .layout import Grid, Slots
from .messages import percent
from .pods import pod_short_name, pod_tip, pods_by_node, short
from .style import MARGIN, SMALL, TEXT
from .svg import Circle, Drawing, Line, Rect, Scene, Text, fit, fit_middle


def rules_node(snapshot: ClusterSnapshot, node: str | None = None) -> NodeNetwork | None:
    """The node whose rules are drawn: ``node`` if given, else the first with kube-proxy rules."""
    if node is not None:
        try:
            return snapshot.node(node)
        except KeyError:
            raise BadInput("diagrams.error.unknown_node", node=node,
                           known=", ".join(n.name for n in snapshot.nodes) or "-") from None
    return next((n for n in snapshot.nodes if n.kube_proxy is not None), None)


def service_id(entry: ServiceEntry) -> str:
    # graphviz reads "a:b" in an edge as node a, port b: ids never carry a colon
    return f"svc/{entry.service}/{entry.protocol}".replace(":", "_")


def _slices_map(snapshot: ClusterSnapshot) -> ServiceMap:
    """Without rules: what the EndpointSlices promise (shares left out, see the module docstring)."""
    services = []
    by_service: dict[tuple[str, str], list[dict]] = {}
    for sl in snapshot.endpointslices:
        meta = sl.get("metadata") or {}
        name = (meta.get("labels") or {}).get("kubernetes.io/service-name")
        by_service.setdefault((meta.get("namespace", "default"), str(name)), []).append(sl)
    for svc in snapshot.services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ns = meta.get("namespace", "default")
        for port in spec.get("ports") or []:
            eps = [EndpointEntry(ep["addresses"][0], int(p.get("port") or 0), 0.0)
                   for sl in by_service.get((ns, meta.get("name")), []) for p in sl.get("ports") or []
                   for ep in sl.get("endpoints") or [] if ep.get("addresses")
                   if (p.get("name") or "") == (port.get("name") or "")]
            name = f"{ns}/{meta.get('name')}" + (f":{port['name']}" if port.get("name") else "")
            services.append(ServiceEntry(name, str(port.get("protocol", "TCP")).lower(), spec.get("clusterIP"),
                                         port.get("port"), port.get("nodePort"), [], eps, []))
    return ServiceMap("endpointslices", services)


SVC_W, POD_X, POD_W = 360.0, 620.0, 360.0
ROW = 21
POD_GRID = Grid(cols=1, rows=0, cell_w=POD_W - 28, cell_h=24, gap_x=0, gap_y=6)


def service_entries(snapshot: ClusterSnapshot, node: str | None = None) -> list[ServiceEntry]:
    """The Services as one node's rules see them (the EndpointSlices when no node has rules)."""
    source = rules_node(snapshot, node)
    smap = source.kube_proxy if source is not None and source.kube_proxy is not None else _slices_map(snapshot)
    return sorted(smap.services, key=lambda e: (e.service, e.protocol))


def service_network(snapshot: ClusterSnapshot, lang: str | None = None, show_chains: bool = False,
                    node: str | None = None, max_pods: int | None = None, slots: Slots | None = None) -> Drawing:
    """The pod-to-service layer of ``snapshot``, with the rules of ``node`` (see the module docstring)."""
    source = rules_node(snapshot, node)
    no_rules = source is None or source.kube_proxy is None
    if not no_rules:
        ebpf = source.kube_proxy.mode == "ebpf"          # the socket LB's maps (issue 19)
        title = i18n.t("diagrams.title.services_ebpf" if ebpf else "diagrams.title.services", lang,
                       mode=source.kube_proxy.mode, node=short(snapshot, source.name))
    else:
        title = i18n.t("diagrams.title.services_no_rules", lang)
    entries = service_entries(snapshot, node)
    scene = Scene("services", style.WIDTH, title=title)
    top = style.title(scene, title)
    nodes = layout.node_order(snapshot)
    by_node = pods_by_node(snapshot, nodes)
    placed = layout.assign_slots(by_node, slots)
    # the pods, right, inside their nodes
    where: dict[str, tuple[float, float]] = {}
    node_at: dict[str, tuple[float, float]] = {}
    node_of: dict[str, str] = {}
    y = top
    for n in nodes:
        rows = layout.rows_needed({n.name: placed[n.name]}, 1, layout.SERVICES_STEP)
        grid = Grid(1, rows, POD_GRID.cell_w, POD_GRID.cell_h, 0, POD_GRID.gap_y)
        h = 40 + grid.height + 12
        frame = scene.group("nodes", f"node/{n.name}", "node", name=n.name)
        node_at[n.name] = (POD_X, y + 22)
        frame.add(Rect(POD_X, y, POD_W, h, fill=style.NODE_FILL, stroke=style.GREY, width=2, rx=10))
        frame.add(Text(POD_X + 14, y + 26, fit(i18n.t("diagrams.node.label", lang, name=short(snapshot, n.name)),
                                                 TEXT, POD_W - 28, True), TEXT, bold=True, cls="node-title"))
        for pod in by_node[n.name]:
            cell = grid.cell(POD_X + 14, y + 40, placed[n.name][pod.key])
            g = scene.group("pods", f"p/{pod.key}", "pod", tip=pod_tip(pod, lang), ip=pod.ip or "", name=pod.key)
            g.add(Rect(cell.x, cell.y, cell.w, cell.h, fill=style.BLUE_FILL, stroke=style.BLUE, width=1.5, rx=5))
            g.add(Text(cell.x + 8, cell.y + 17, fit_middle(pod_short_name(pod), SMALL, cell.w * 0.55), SMALL))
            g.add(Text(cell.right - 8, cell.y + 17, pod.ip or "-", SMALL, anchor="end", color=style.GREY))
            if pod.ip:
                where[pod.ip] = (cell.x, cell.y + cell.h / 2)
                node_of[pod.ip] = n.name
        y += h + 16
    pods_bottom = y
    # the services, left, one row per endpoint, an arrow from each row to its pod
    y = top
    lanes = _Lanes([n.name for n in nodes])
    for entry in entries:
        y = _draw_service(scene, snapshot, entry, where, (node_at, node_of), y, show_chains, no_rules, lang,
                          lanes) + 14
    items = [(f"box:{style.GREEN}:{style.GREEN_FILL}", i18n.t("diagrams.legend.service", lang)),
             (f"line:{style.GREEN}:arrow", i18n.t("diagrams.legend.dnat_ebpf" if snapshot.proxy_mode == "ebpf"
                                                  else "diagrams.legend.dnat", lang)),
             (f"box:{style.BLUE}:{style.BLUE_FILL}", i18n.t("diagrams.legend.pod", lang))]
    if no_rules:
        items.append((f"line:{style.GREEN}:dash:arrow", i18n.t("diagrams.legend.slices", lang)))
    scene.height = style.legend(scene, max(y, pods_bottom) + 6, items, i18n.t("diagrams.legend", lang)) + 6
    return Drawing(scene, placed)


COLLAPSE = 4  # endpoints: beyond this, one row (and arrow) per node instead of one per endpoint
BAND = (MARGIN + SVC_W + 16, POD_X - 36)    # the free band between the Services and the nodes


class _Lanes:
    """Where the arrows run: a vertical lane per node in the free band (the first node's lane on the right,
    the last's on the left, fixed whatever the pods), every arrow to a node's pods or to the node going
    out of its row straight to that node's lane (a dot where it joins: a line without one only crosses),
    along it, then straight into the pod or the node. The arrows to one node share their lane like a bus: six nodes make six lanes, not one diagonal per
    Service and node (a row says which node or pod it goes to; hovering a Service lights its own)."""

    def __init__(self, nodes: list[str]) -> None:
        left, right = BAND
        n = len(nodes)
        self.x = {name: right - (right - left) * (i / (n - 1) if n > 1 else 0.0) for i, name in enumerate(nodes)}

    def path(self, start: tuple[float, float], end: tuple[float, float], node: str) -> list[tuple[float, float]]:
        x = self.x.get(node, BAND[0])
        return [start, (x, start[1]), (x, end[1]), end]


def _draw_service(scene: Scene, snapshot: ClusterSnapshot, entry: ServiceEntry, where: dict, nodes: tuple,
                  y: float, show_chains: bool, no_rules: bool, lang: str | None, lanes: _Lanes) -> float:
    sid = service_id(entry)
    inner = SVC_W - 24
    head = [i18n.t("diagrams.svc.cluster_ip", lang, ip=entry.cluster_ip or "-", port=entry.port or "-")]
    if entry.node_port:
        head.append(i18n.t("diagrams.svc.node_port", lang, port=entry.node_port))
    chains = list(entry.chains) if show_chains else []
    front = next((f for f in entry.frontends if f.kind == "node_port"), None)
    if show_chains and front is not None:
        chains += [c for c in front.chains if c not in chains]
    rows = []
    merged: dict[str, list[EndpointEntry]] = {}
    for ep in entry.endpoints:
        merged.setdefault(ep.ip, []).append(ep)
    node_at, node_of = nodes
    per_node = len(merged) > COLLAPSE and all(ip in node_of for ip in merged)
    if per_node:
        by: dict[str, list[EndpointEntry]] = {}
        for ip, eps in merged.items():
            by.setdefault(node_of[ip], []).extend(eps)
        for name, eps in by.items():
            shares = {round(e.share, 6) for e in eps}
            each = percent(eps[0].share, lang) if len(shares) == 1 else "…"
            total = percent(sum(e.share for e in eps), lang)
            text = (i18n.t("diagrams.svc.node_row", lang, count=len(eps), share=each, total=total,
                           node=short(snapshot, name)) if not no_rules
                    else i18n.t("diagrams.svc.node_row_slices", lang, count=len(eps), node=short(snapshot, name)))
            rows.append((f"node/{name}", eps, text))
    else:
        for ip, eps in merged.items():
            share = "" if no_rules else percent(sum(e.share for e in eps), lang)
            label = f"{share}  → {eps[0].ip}:{eps[0].port}" if share else f"→ {eps[0].ip}:{eps[0].port}"
            rows.append((ip, eps, label))
    n_rows = len(rows) or 1
    n_chain_rows = sum(1 for r in rows if len(r[1]) == 1) if show_chains else 0
    h = 30 + len(head) * ROW + len(chains) * ROW + n_rows * ROW + n_chain_rows * ROW + 8
    g = scene.group("services", sid, "service", tip=_tip(entry, lang), name=entry.service,
                    targets=" ".join(sorted(f"p/{k}" for k in (_pod_key(snapshot, ep.ip) for ep in entry.endpoints) if k)))
    g.add(Rect(MARGIN, y, SVC_W, h, fill=style.GREEN_FILL, stroke=style.GREEN, width=2.5, rx=10))
    ty = y + 22
    g.add(Text(MARGIN + 12, ty, fit(entry.service, TEXT, inner, True), TEXT, bold=True))
    for text in head:
        ty += ROW
        g.add(Text(MARGIN + 12, ty, fit(text, SMALL, inner), SMALL))
    for text in chains:
        ty += ROW
        g.add(Text(MARGIN + 12, ty, fit(text, SMALL, inner), SMALL, color=style.GREY))
    if not rows:
        ty += ROW
        g.add(Text(MARGIN + 12, ty, fit(i18n.t("diagrams.svc.no_endpoints", lang), SMALL, inner), SMALL, color=style.RED))
    for ip, eps, label in rows:
        ty += ROW
        key = _pod_key(snapshot, ip) if not ip.startswith("node/") else None
        target = ip if ip.startswith("node/") else f"p/{key}" if key else f"ep/{ip}"
        tip = [entry.service, label, *eps[0].chains] if len(eps) == 1 else [entry.service, *(
            f"{percent(e.share, lang)} → {e.ip}:{e.port}" for e in eps)]
        e = scene.group("edges", f"ep/{sid}/{ip}", "endpoint", tip="\n".join(tip), **{"from": sid, "to": target})
        e.add(Text(MARGIN + 24, ty, fit(label, SMALL, inner - 12), SMALL, color=style.GREEN, bold=True))
        end = node_at.get(ip[5:]) if ip.startswith("node/") else where.get(ip)
        if end is not None:
            px, py = end
            node = ip[5:] if ip.startswith("node/") else node_of.get(ip, "")
            path = lanes.path((MARGIN + SVC_W, ty - 5), (px - 2, py), node)
            e.add(Circle(path[1][0], path[1][1], 3, style.GREEN, style.GREEN, 0))   # joins the lane: a dot
            e.add(Line(path, stroke=style.GREEN, width=2,
                       dash="8 5" if no_rules else None, arrow="arrow-green"))
        if show_chains and len(eps) == 1:
            ty += ROW
            e.add(Text(MARGIN + 36, ty, fit(eps[0].chains[-1] if eps[0].chains else "-", SMALL, inner - 24), SMALL,
                       color=style.GREY))
    return y + h


def _pod_key(snapshot: ClusterSnapshot, ip: str) -> str | None:
    for p in snapshot.pods:
        if wiring.pod_ip(p) == ip:
            return f"{p['metadata'].get('namespace', 'default')}/{p['metadata']['name']}"
    return None


def _tip(entry: ServiceEntry, lang: str | None) -> str:
    out = [entry.service, i18n.t("diagrams.svc.cluster_ip", lang, ip=entry.cluster_ip or "-", port=entry.port or "-")]
    if entry.node_port:
        out.append(i18n.t("diagrams.svc.node_port", lang, port=entry.node_port))
    if entry.chains:
        out.append(" → ".join(entry.chains))
    return "\n".join(out)
