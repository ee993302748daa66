"""The three layers in one picture, as the seed chapter's overview: nodes and pods, the routes that
join the nodes (blue), the services in front of the pods (green), the policies around them (red).

``detail=False`` keeps only the shapes of the layers (the first picture of the chapter);
``detail=True`` adds what the previous pictures taught: the shares of new connections and the
pairs the policies block for ``port`` (the chapter's last picture; the route labels stay in the
pod-network picture, where they have room).
"""
from __future__ import annotations

import graphviz

from .. import i18n
from .. import netpol
from ..snapshot import ClusterSnapshot
from . import messages  # noqa: F401  (registers the catalog)
from . import style, wiring
from .messages import percent
from .pods import _pairs, lines, node_network_cidr, node_title, pod_label, uplink_id
from .policies import check_port, decided_pairs, engine, policy_id, selected_by
from .services import rules_node, service_id


def overview(snapshot: ClusterSnapshot, lang: str | None = None, detail: bool = False, port: int = 80,
             protocol: str = "TCP", max_pods: int = wiring.DEFAULT_MAX_PODS) -> graphviz.Digraph:
    """All three layers of ``snapshot`` (see the module docstring)."""
    port = check_port(port)
    cni = snapshot.cni or i18n.t("diagrams.unknown_cni", lang)
    title = (i18n.t("diagrams.title.overview_detail", lang, cni=cni, protocol=protocol, port=port) if detail
             else i18n.t("diagrams.title.overview", lang))
    g = style.new_graph("overview", title)
    g.attr(ranksep="0.6", newrank="false")
    groups = wiring.group_pods(wiring.pods(snapshot), max_pods)
    _pod_layer(g, snapshot, groups, detail, lang)
    _service_layer(g, snapshot, groups, detail, lang)
    _policy_layer(g, snapshot, groups, detail, port, protocol, lang)
    style.legend(g, [(i18n.t("diagrams.legend.pod_route", lang), style.BLUE, "solid"),
                     (i18n.t("diagrams.legend.dnat", lang), style.GREEN, "solid"),
                     (i18n.t("diagrams.legend.selects", lang), style.RED, "dotted")]
                 + ([(i18n.t("diagrams.legend.blocked", lang), style.RED, "dashed")] if detail else []),
                 i18n.t("diagrams.legend", lang))
    return g


def _pod_layer(g: graphviz.Digraph, snapshot: ClusterSnapshot, groups: list[wiring.PodGroup], detail: bool,
               lang: str | None) -> None:
    for node in snapshot.nodes:
        with g.subgraph(name=f"cluster_{node.name}") as c:
            c.attr(**style.node_cluster_attrs(node_title(node, lang)))
            up = wiring.uplink(node)
            c.node(uplink_id(node), lines(up.name if up else "eth0", node.internal_ip or ""), fontsize=style.EDGE_SIZE)
            for gr in (gr for gr in groups if gr.node == node.name):
                c.node(gr.id, pod_label(gr, lang), fillcolor=style.BLUE_FILL, color=style.BLUE)
                c.edge(gr.id, uplink_id(node), dir="none", color=style.BLUE, penwidth="1.5")
    g.node("net/nodes", i18n.t("diagrams.node_network", lang, cidr=node_network_cidr(snapshot)).replace("\n", "\\n"),
           style="filled", fillcolor=style.NODE_FILL, width="6")
    for node in snapshot.nodes:
        g.edge(uplink_id(node), "net/nodes", dir="none", color=style.GREY, penwidth="2")
    for pair in _pairs(wiring.links(snapshot)):
        a, b = uplink_id(snapshot.node(pair[0].src)), uplink_id(snapshot.node(pair[0].dst))
        g.edge(a, b, color=style.BLUE, constraint="false", penwidth="2",
               dir="both" if len(pair) > 1 else "forward", style="dashed" if pair[0].kind == "vxlan" else "solid")


def _service_layer(g: graphviz.Digraph, snapshot: ClusterSnapshot, groups: list[wiring.PodGroup], detail: bool,
                   lang: str | None) -> None:
    source = rules_node(snapshot)
    if source is None or source.kube_proxy is None:
        return
    by_ip = {p.ip: gr for gr in groups for p in gr.pods if p.ip}
    with g.subgraph(name="services_rank") as s:
        s.attr(rank="source")
        for entry in source.kube_proxy.services:
            s.node(service_id(entry), lines(entry.service, f"{entry.cluster_ip}:{entry.port}"),
                   fillcolor=style.GREEN_FILL, color=style.GREEN, penwidth="2")
    for entry in source.kube_proxy.services:
        shares: dict[str, float] = {}
        for ep in entry.endpoints:
            if ep.ip in by_ip:
                shares[by_ip[ep.ip].id] = shares.get(by_ip[ep.ip].id, 0.0) + ep.share
        for target, share in shares.items():
            g.edge(service_id(entry), target, color=style.GREEN, fontcolor=style.GREEN, penwidth="2",
                   label=percent(share, lang) if detail else "")


def _policy_layer(g: graphviz.Digraph, snapshot: ClusterSnapshot, groups: list[wiring.PodGroup], detail: bool,
                  port: int, protocol: str, lang: str | None) -> None:
    if not snapshot.networkpolicies:
        return
    eng = engine(snapshot)
    index = wiring.group_index(groups)
    with g.subgraph(name="policies_rank") as s:
        s.attr(rank="source")
        for pol in eng.policies:
            s.node(policy_id(pol), i18n.t("diagrams.pol.policy", lang, name=pol.key), shape="note", style="filled",
                   fillcolor=style.RED_FILL, color=style.RED, fontcolor=style.RED)
    seen = set()
    for key, pols in selected_by(eng).items():
        for pol in pols:
            if (pol.key, index[key].id) not in seen:
                seen.add((pol.key, index[key].id))
                g.edge(policy_id(pol), index[key].id, color=style.RED, style="dotted", arrowhead="odot",
                       penwidth="1.5")
    if detail:
        reach = eng.reachability(port, protocol)
        iso_in, iso_out = set(eng.isolated(netpol.INGRESS)), set(eng.isolated(netpol.EGRESS))
        for src, dst, allowed, decided in decided_pairs(eng, reach, groups, iso_in, iso_out):
            if allowed < decided:
                g.edge(src.id, dst.id, color=style.RED, style="dashed", arrowhead="tee", penwidth="1.5",
                       constraint="false")
