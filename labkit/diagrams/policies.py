"""The policy layer: pods by namespace, the policies that select them, what is blocked and allowed.

Verdicts come from :mod:`labkit.netpol` (the same engine as ``labkit netpol``), for one port and
protocol. Only the pairs policies *decide* are drawn: pairs blocked (red, dashed, a bar at the
end) and pairs a rule lets into an isolated pod (solid). Every other pair is allowed because
nothing isolates it, which the legend says once instead of drawing n² arrows. Replicas collapse
as in the other layers; an arrow between two groups is "partly allowed" when its pairs differ.
"""
from __future__ import annotations

from typing import Any

import graphviz

from .. import i18n
from .. import netpol
from ..errors import BadInput
from ..snapshot import ClusterSnapshot
from . import messages  # noqa: F401  (registers the catalog)
from . import style, wiring
from .pods import lines, pod_label

EXPLAIN_LIMIT = 30  # pods: beyond this, allowed arrows are not labelled with their rule


def engine(snapshot: ClusterSnapshot, **options: bool) -> netpol.Engine:
    """A policy engine over the snapshot's namespaces, pods (labels, IP, named ports) and policies."""
    namespaces = [netpol.Namespace(ns["metadata"]["name"], (ns["metadata"].get("labels") or {}))
                  for ns in snapshot.namespaces]
    pods = []
    for p in snapshot.pods:
        meta = p["metadata"]
        ports = tuple(netpol.ContainerPort(int(cp["containerPort"]), cp.get("protocol") or "TCP", cp.get("name"))
                      for c in (p.get("spec") or {}).get("containers") or [] for cp in c.get("ports") or [])
        pods.append(netpol.Pod(meta.get("namespace", "default"), meta["name"], meta.get("labels") or {},
                               wiring.pod_ip(p), ports))
    return netpol.Engine(namespaces, pods, snapshot.networkpolicies, **options)


def check_port(port: Any) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise BadInput("diagrams.error.bad_port", port=port)
    return port


def selected_by(eng: netpol.Engine) -> dict[str, list[netpol.NetworkPolicy]]:
    """Pod key -> the policies whose podSelector picks it (in its own namespace)."""
    out: dict[str, list[netpol.NetworkPolicy]] = {p.key: [] for p in eng.pods}
    for pol in eng.policies:
        for pod in eng.pods:
            if pod.namespace == pol.namespace and pol.pod_selector.matches(pod.labels):
                out[pod.key].append(pol)
    return out


def policy_id(pol: netpol.NetworkPolicy) -> str:
    return f"pol/{pol.key}"


def policy_network(snapshot: ClusterSnapshot, port: int = 80, protocol: str = "TCP", lang: str | None = None,
                   max_pods: int = wiring.DEFAULT_MAX_PODS) -> graphviz.Digraph:
    """The policy layer of ``snapshot`` for ``port``/``protocol`` (see the module docstring)."""
    port = check_port(port)
    eng = engine(snapshot)
    reach = eng.reachability(port, protocol)
    g = style.new_graph("policies", i18n.t("diagrams.title.policies", lang, protocol=protocol, port=port))
    g.attr(ranksep="0.8")
    groups = wiring.group_pods(wiring.pods(snapshot), max_pods, by_node=False)
    iso_in, iso_out = set(eng.isolated(netpol.INGRESS)), set(eng.isolated(netpol.EGRESS))
    selectors = selected_by(eng)
    for ns in sorted({gr.namespace for gr in groups} | {p.namespace for p in eng.policies}):
        with g.subgraph(name=f"cluster_ns_{ns}") as c:
            c.attr(**{**style.node_cluster_attrs(i18n.t("diagrams.ns.label", lang, name=ns)), "fillcolor": "#fafafa"})
            for gr in (gr for gr in groups if gr.namespace == ns):
                c.node(gr.id, _pod_text(gr, iso_in, iso_out, lang), style="rounded,filled",
                       fillcolor=style.BLUE_FILL, color=style.RED if _isolated(gr, iso_in, iso_out) else style.BLUE,
                       penwidth="2" if _isolated(gr, iso_in, iso_out) else "1")
            for pol in (p for p in eng.policies if p.namespace == ns):
                c.node(policy_id(pol), lines(i18n.t("diagrams.pol.policy", lang, name=pol.name),
                                             ", ".join(pol.policy_types)),
                       shape="note", style="filled", fillcolor=style.RED_FILL, color=style.RED, fontcolor=style.RED)
    index = wiring.group_index(groups)
    for key, pols in selectors.items():
        for pol in pols:
            g.edge(policy_id(pol), index[key].id, color=style.RED, style="dotted", arrowhead="odot", penwidth="1.5")
    explain = len(eng.pods) <= EXPLAIN_LIMIT
    _draw_pairs(g, eng, reach, groups, iso_in, iso_out, explain, port, protocol, lang)
    items = [(i18n.t("diagrams.legend.selects", lang), style.RED, "dotted"),
             (i18n.t("diagrams.legend.allowed", lang), style.GREY, "solid"),
             (i18n.t("diagrams.legend.blocked", lang), style.RED, "dashed"),
             (i18n.t("diagrams.pol.rest_allowed" if eng.policies else "diagrams.pol.no_policies", lang),
              "white", "solid")]
    style.legend(g, items, i18n.t("diagrams.legend", lang))
    return g


def _isolated(gr: wiring.PodGroup, iso_in: set[str], iso_out: set[str]) -> bool:
    return any(p.key in iso_in or p.key in iso_out for p in gr.pods)


def _pod_text(gr: wiring.PodGroup, iso_in: set[str], iso_out: set[str], lang: str | None) -> str:
    dirs = []
    if any(p.key in iso_in for p in gr.pods):
        dirs.append(i18n.t("diagrams.pol.ingress", lang))
    if any(p.key in iso_out for p in gr.pods):
        dirs.append(i18n.t("diagrams.pol.egress", lang))
    state = i18n.t("diagrams.pol.isolated", lang, directions=", ".join(dirs)) if dirs else i18n.t("diagrams.pol.open", lang)
    return lines(pod_label(gr, lang), state)


def decided_pairs(eng: netpol.Engine, reach: netpol.Reachability, groups: list[wiring.PodGroup],
                  iso_in: set[str], iso_out: set[str]) -> list[tuple[wiring.PodGroup, wiring.PodGroup, int, int]]:
    """(source group, destination group, allowed pairs, decided pairs) where a policy decides.

    A pair is decided when the source is isolated for egress or the destination for ingress;
    self pairs are left out (a pod may always reach itself).
    """
    out = []
    for src in groups:
        for dst in groups:
            allowed = decided = 0
            for s in src.pods:
                for d in dst.pods:
                    if s.key == d.key or (s.key not in iso_out and d.key not in iso_in):
                        continue
                    decided += 1
                    allowed += reach.allowed(s.key, d.key)
            if decided:
                out.append((src, dst, allowed, decided))
    return out


def _draw_pairs(g: graphviz.Digraph, eng: netpol.Engine, reach: netpol.Reachability, groups: list[wiring.PodGroup],
                iso_in: set[str], iso_out: set[str], explain: bool, port: int, protocol: str,
                lang: str | None) -> None:
    for src, dst, allowed, decided in decided_pairs(eng, reach, groups, iso_in, iso_out):
        if allowed == 0:
            g.edge(src.id, dst.id, color=style.RED, style="dashed", arrowhead="tee", penwidth="2",
                   label="✕", fontcolor=style.RED)
        elif allowed == decided:
            label = ""
            if explain and not src.collapsed and not dst.collapsed:
                why = eng.explain(src.pods[0].key, dst.pods[0].key, port, protocol)
                refs = [str(r) for r in (*why.ingress.allowed_by, *why.egress.allowed_by)]
                label = lines(*refs)
            g.edge(src.id, dst.id, color=style.GREY, penwidth="2.5", label=label)
        else:
            g.edge(src.id, dst.id, color=style.RED, style="dashed", penwidth="2",
                   label=i18n.t("diagrams.pol.mixed", lang) + f" ({allowed}/{decided})", fontcolor=style.RED)
