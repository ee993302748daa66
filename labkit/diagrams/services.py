"""The pod-to-service layer: each Service's ways in, and where kube-proxy sends new connections.

The shares on the arrows are read from the *parsed rules of one node* (``NodeNetwork.kube_proxy``,
see :mod:`labkit.kubeproxy.servicemap`), not computed from the EndpointSlices: the picture shows
what the node really does (the ``statistic`` cascade 1/3, 1/2, 1 gives a third each). With
``show_chains`` the chain names a connection traverses are written on the boxes and arrows, as
``iptables-save`` names them. A snapshot without rules (no kube-proxy yet) falls back to the
EndpointSlices, drawn dashed and without shares.
"""
from __future__ import annotations

import graphviz

from .. import i18n
from ..errors import BadInput
from ..kubeproxy.servicemap import EndpointEntry, ServiceEntry, ServiceMap
from ..snapshot import ClusterSnapshot, NodeNetwork
from . import messages  # noqa: F401  (registers the catalog)
from . import style, wiring
from .messages import percent
from .pods import lines, pod_label, short


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


def service_network(snapshot: ClusterSnapshot, lang: str | None = None, show_chains: bool = False,
                    node: str | None = None, max_pods: int = wiring.DEFAULT_MAX_PODS) -> graphviz.Digraph:
    """The pod-to-service layer of ``snapshot``, with the rules of ``node`` (see the module docstring)."""
    source = rules_node(snapshot, node)
    smap = source.kube_proxy if source is not None and source.kube_proxy is not None else None
    if smap is not None:
        title = i18n.t("diagrams.title.services", lang, mode=smap.mode, node=source.name)
    else:
        title = i18n.t("diagrams.title.services_no_rules", lang)
        smap = _slices_map(snapshot)
    g = style.new_graph("services", title, rankdir="LR")
    g.attr(ranksep="0.9", nodesep="0.25")
    groups = wiring.group_pods(wiring.pods(snapshot), max_pods)
    by_ip = {p.ip: grp for grp in groups for p in grp.pods if p.ip}
    g.node("svc/clients", i18n.t("diagrams.svc.clients", lang).replace("\n", "\\n"), shape="ellipse",
           style="filled", fillcolor=style.BLUE_FILL, color=style.BLUE)
    if any(s.node_port for s in smap.services):
        g.node("svc/outside", i18n.t("diagrams.svc.outside", lang).replace("\n", "\\n"), shape="ellipse",
               style="filled", fillcolor=style.NODE_FILL, color=style.GREY)
    used: set[str] = set()
    for entry in smap.services:
        used |= _draw_service(g, snapshot, entry, by_ip, show_chains, smap.mode == "endpointslices", lang)
    _draw_endpoint_nodes(g, snapshot, [grp for grp in groups if grp.id in used], lang)
    style.legend(g, [(i18n.t("diagrams.legend.dnat", lang), style.GREEN, "solid")], i18n.t("diagrams.legend", lang))
    return g


def _draw_service(g: graphviz.Digraph, snapshot: ClusterSnapshot, entry: ServiceEntry, by_ip: dict,
                  show_chains: bool, no_rules: bool, lang: str | None) -> set[str]:
    sid = service_id(entry)
    svc_chain = next((c for c in entry.chains if c.startswith(("KUBE-SVC-", "service-"))), None)
    head = [entry.service, i18n.t("diagrams.svc.cluster_ip", lang, ip=entry.cluster_ip or "-", port=entry.port or "-")]
    if show_chains:
        head.append(" → ".join(entry.chains))
    g.node(sid, lines(*head), style="rounded,filled", fillcolor=style.GREEN_FILL, color=style.GREEN, penwidth="2")
    g.edge("svc/clients", sid, color=style.GREEN, penwidth="1.5")
    if entry.node_port:
        np_id = f"{sid}/nodeport"
        front = next((f for f in entry.frontends if f.kind == "node_port"), None)
        ips = ", ".join(n.internal_ip for n in snapshot.nodes if n.internal_ip)
        parts = [i18n.t("diagrams.svc.node_port", lang, port=entry.node_port), ips]
        if show_chains and front is not None:
            parts.append(" → ".join(c for c in front.chains if c != svc_chain))
        g.node(np_id, lines(*parts), style="rounded,filled", fillcolor=style.GREEN_FILL, color=style.GREEN)
        g.edge("svc/outside", np_id, color=style.GREEN, penwidth="1.5")
        g.edge(np_id, sid, color=style.GREEN, penwidth="1.5")
    if not entry.endpoints:
        eid = f"{sid}/none"
        g.node(eid, i18n.t("diagrams.svc.no_endpoints", lang), shape="plaintext", style="", fontcolor=style.RED)
        g.edge(sid, eid, color=style.RED, style="dashed")
        return set()
    used = set()
    merged: dict[str, list[EndpointEntry]] = {}
    for ep in entry.endpoints:
        grp = by_ip.get(ep.ip)
        merged.setdefault(grp.id if grp else f"ep/{ep.ip}_{ep.port}", []).append(ep)
    for target, eps in merged.items():
        if target.startswith("ep/"):
            g.node(target, f"{eps[0].ip}:{eps[0].port}", color=style.GREY)
        used.add(target)
        label = "" if no_rules else percent(sum(e.share for e in eps), lang)
        if show_chains and len(eps) == 1:
            label = lines(label, *eps[0].chains)
        elif len(eps) > 1 and not no_rules:
            label = lines(f"{len(eps)} × {percent(eps[0].share, lang)}", f"= {label}")
        g.edge(sid, target, label=label, color=style.GREEN, fontcolor=style.GREEN, penwidth="2",
               style="dashed" if no_rules else "solid")
    return used


def _draw_endpoint_nodes(g: graphviz.Digraph, snapshot: ClusterSnapshot, groups: list[wiring.PodGroup],
                         lang: str | None) -> None:
    """Endpoints inside their node's box, so the picture shows the service spans the nodes."""
    for node in snapshot.nodes:
        members = [grp for grp in groups if grp.node == node.name]
        if not members:
            continue
        with g.subgraph(name=f"cluster_{node.name}") as c:
            c.attr(**style.node_cluster_attrs(i18n.t("diagrams.node.label", lang, name=short(snapshot, node.name))))
            for grp in members:
                c.node(grp.id, pod_label(grp, lang), style="rounded,filled", fillcolor=style.BLUE_FILL,
                       color=style.BLUE)
