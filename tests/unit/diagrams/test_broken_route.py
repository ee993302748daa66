"""Notebook 02's exercise 6 breaks the lab with ``ip route replace unreachable <CIDR of worker2>`` on
worker: the pod network diagram shows that route broken (red, dashed, "unreachable" / "injoignable")
where the working route was, instead of dropping it, and nothing else moves."""
from __future__ import annotations

import dataclasses

import pytest

from labkit import diagrams
from labkit.diagrams import style
from labkit.snapshot import ClusterSnapshot

from conftest import load
from diagram_helpers import NS, coordinates, group_texts, groups, svg_texts, tooltip

WORKER, WORKER2 = "kubenet-worker", "kubenet-worker2"


def broken(snap: ClusterSnapshot, kind: str = "unreachable", keep_working: bool = False) -> ClusterSnapshot:
    """``snap`` after ``ip route replace <kind> <pod CIDR of worker2>`` on worker (the route as the
    snapshot reads it back: a type, no gateway, no device); ``keep_working`` adds it beside the working
    route instead (a fallback with a higher metric: the working route still wins)."""
    out = ClusterSnapshot.from_json(snap.to_json())
    node, cidr = out.node(WORKER), out.node(WORKER2).pod_cidr
    dead = [dataclasses.replace(r, type=kind, dev=None, gateway=None, onlink=False) for r in node.routes
            if r.dst == cidr]
    assert len(dead) == 1
    node.routes = [r for r in node.routes if keep_working or r.dst != cidr] + dead
    return out


@pytest.mark.parametrize("flavor", ["kindnet", "flannel"])
def test_the_broken_route_is_drawn_where_the_route_was_and_nothing_moves(flavor):
    healthy = load(flavor)
    cidr = healthy.node(WORKER2).pod_cidr
    before, after = groups(diagrams.pod_network(healthy).svg), groups(diagrams.pod_network(broken(healthy)).svg)
    route = f"route/{WORKER}/{cidr}"
    assert route in after, "the unreachable route is not drawn"
    g = after[route]
    assert g.get("data-broken") == "unreachable" and tooltip(g) == f"worker: unreachable {cidr}"
    assert group_texts(g) == [f"✕ worker2: {cidr}", "unreachable"]
    assert {t.get("fill") for t in g.iter(f"{NS}text")} == {style.RED}
    strokes = [(p.get("stroke"), p.get("stroke-dasharray")) for p in g.iter(f"{NS}path")]
    assert len(strokes) == 1 and strokes[0][0] == style.RED and strokes[0][1]
    # the same place: every other element keeps its coordinates, the route its first line
    assert set(after) == set(before)
    moved = [gid for gid in before
             if gid not in (route, "legend") and coordinates(before[gid]) != coordinates(after[gid])]
    assert moved == []
    legend = coordinates(before["legend"])          # the legend gets one entry more, after the others
    assert coordinates(after["legend"])[:len(legend)] == legend
    assert coordinates(after[route])[0] == coordinates(before[route])[0]


def test_french_and_the_legend_only_when_a_route_is_broken(kindnet):
    cidr = kindnet.node(WORKER2).pod_cidr
    svg_fr = diagrams.pod_network(broken(kindnet), lang="fr").svg
    texts = svg_texts(svg_fr)
    assert f"✕ worker2 : {cidr}" in texts and "injoignable (unreachable)" in texts
    assert "route cassée : le nœud rejette les paquets vers ces pods" in texts
    assert "broken route: the node drops packets for those pods" in svg_texts(diagrams.pod_network(broken(kindnet)).svg)
    for lang in ("en", "fr"):
        healthy = svg_texts(diagrams.pod_network(kindnet, lang=lang).svg)
        assert not any("cassée" in t or "broken" in t for t in healthy)


@pytest.mark.parametrize("kind", ["blackhole", "prohibit"])
def test_other_route_types_that_drop_are_broken_too(kindnet, kind):
    cidr = kindnet.node(WORKER2).pod_cidr
    g = groups(diagrams.pod_network(broken(kindnet, kind)).svg)[f"route/{WORKER}/{cidr}"]
    assert group_texts(g)[1] == f"unreachable ({kind})"
    g = groups(diagrams.pod_network(broken(kindnet, kind), lang="fr").svg)[f"route/{WORKER}/{cidr}"]
    assert group_texts(g)[1] == f"injoignable ({kind})"


def test_a_fallback_beside_the_working_route_is_not_a_break(kindnet):
    route = f"route/{WORKER}/{kindnet.node(WORKER2).pod_cidr}"
    svg = diagrams.pod_network(broken(kindnet, keep_working=True)).svg
    assert group_texts(groups(svg)[route]) == group_texts(groups(diagrams.pod_network(kindnet).svg)[route])
    assert not any("broken" in t for t in svg_texts(svg))


@pytest.mark.parametrize("kind", ["unreachable", "prohibit", "blackhole"])
def test_the_trace_stops_at_the_broken_route_instead_of_leaving_by_the_default_route(kindnet, kind):
    from labkit.trace import trace

    def on(node: str) -> str:
        return next(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in kindnet.pods
                    if p["spec"]["nodeName"] == node)

    cidr = kindnet.node(WORKER2).pod_cidr
    t = trace(broken(kindnet, kind), on(WORKER), on(WORKER2))
    text = str(t)
    assert f"node {WORKER}: route {kind} {cidr}, the kernel drops the packet" in text, text
    assert "leaves the cluster" not in text and WORKER2 not in text.split("drops the packet", 1)[1]
