"""Snapshots built from each CNI fixture set: nodes, kube-proxy maps, and every diagram layer renders."""
from __future__ import annotations

import json

import pytest

from labkit import diagrams
from labkit.cluster import build_snapshot
from labkit import wiring
from labkit.snapshot import ClusterSnapshot

from .conftest import SETS, load_set


def _snapshot(name):
    meta, outputs = load_set(name)
    return build_snapshot(name, "fixture", meta["objects"], outputs)


@pytest.mark.parametrize("name", SETS)
def test_snapshot_from_fixture_set(name):
    meta, _ = load_set(name)
    snap, rec = _snapshot(name)
    assert snap.cni == meta["cni"] == rec.cni
    assert [n.name for n in snap.nodes] == ["kind-control-plane", "kind-worker", "kind-worker2"]
    assert snap.node("kind-control-plane").roles == ["control-plane"]
    assert all(n.interfaces and n.routes for n in snap.nodes)
    assert len(snap.pods) == 5 and len(snap.services) == 3
    # JSON round trip: a snapshot taken this way is also a fixture
    again = ClusterSnapshot.from_json(json.loads(snap.dumps()))
    assert again.cni == snap.cni and len(again.nodes) == 3


@pytest.mark.parametrize("name", [s for s in SETS if s != "cilium"])
def test_kube_proxy_shares(name):
    snap, _ = _snapshot(name)
    for node in snap.nodes:
        web = node.kube_proxy.get("demo/web")
        assert sorted(e.ip for e in web.endpoints) == sorted(
            p["status"]["podIP"] for p in snap.pods if p["metadata"]["labels"]["app"] == "web")
        assert sum(e.share for e in web.endpoints) == pytest.approx(1.0)


def test_proxy_modes():
    assert _snapshot("kindnet-nftables")[0].proxy_mode == "nftables"
    assert _snapshot("kindnet")[0].proxy_mode == "iptables"
    assert _snapshot("calico-bgp")[0].proxy_mode == "ipvs"
    cilium, _ = _snapshot("cilium")
    assert cilium.proxy_mode == "ebpf" and all(n.kube_proxy is None for n in cilium.nodes)


def test_calico_nodes_draw_their_ipam_block():
    snap, _ = _snapshot("calico-ipip")
    assert snap.node("kind-worker").pod_cidr == "192.168.110.128/26"
    links = wiring.links(snap)
    assert links and all(l.route.dev == "tunl0" for l in links)


def test_links_follow_the_topology():
    snap, _ = _snapshot("flannel-vxlan")
    assert {l.kind for l in wiring.links(snap)} == {"vxlan"}
    snap, _ = _snapshot("kindnet")
    assert {l.kind for l in wiring.links(snap)} == {"routed"}


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("layer", sorted(diagrams.LAYERS))
def test_every_layer_renders(name, layer):
    snap, _ = _snapshot(name)
    graph = diagrams.LAYERS[layer](snap)
    if layer == "pods":
        assert snap.cni in graph.source and "kind-worker2" in graph.source
    svg = diagrams.to_svg(graph)
    assert svg.lstrip().startswith(("<?xml", "<svg"))


def test_french_pod_layer():
    snap, _ = _snapshot("weave")
    assert "Réseau de pod à pod (weave)" in diagrams.pod_network(snap, lang="fr").svg
