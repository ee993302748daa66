"""The layout is labkit's: nodes in a fixed order, each pod in its slot. A new pod moves nothing else,
deleting it gives the first drawing back byte for byte, an unchanged cluster redraws identically."""
import copy

import pytest

from labkit import diagrams
from labkit.diagrams.synthetic import _wire, synthetic
from labkit.snapshot import ClusterSnapshot

from conftest import load
from diagram_helpers import coordinates, groups

LAYOUT_LAYERS = ["pods", "overview", "services"]


@pytest.fixture
def ref30():
    return synthetic(load("kindnet"), pods=25, services=8, policies=6)


def add_pod(snap: ClusterSnapshot, name: str, node: str, ip: str) -> ClusterSnapshot:
    grown = ClusterSnapshot.from_json(snap.to_json())
    pod = copy.deepcopy(next(p for p in grown.pods if p["spec"]["nodeName"] == node))
    pod["metadata"].update(name=name, namespace="demo", labels={"run": name})
    pod["metadata"].pop("ownerReferences", None)
    pod["status"].update(podIP=ip, podIPs=[{"ip": ip}])
    grown.pods.append(pod)
    _wire(grown.node(node), ip, 999)
    return grown


@pytest.mark.parametrize("layer", LAYOUT_LAYERS + ["policies"])
def test_unchanged_cluster_redraws_byte_identical(ref30, layer):
    first = diagrams.LAYERS[layer](ref30).svg
    again = diagrams.LAYERS[layer](ClusterSnapshot.from_json(ref30.to_json())).svg
    assert first == again


def test_node_order_is_fixed_whatever_the_snapshot_order(ref30):
    first = diagrams.pod_network(ref30).svg
    ref30.nodes.reverse()
    ref30.pods.reverse()
    assert diagrams.pod_network(ref30).svg == first


@pytest.mark.parametrize("layer", LAYOUT_LAYERS)
@pytest.mark.parametrize("ip,keep", [("10.244.1.200", False),   # a new address, after the others
                                     ("10.244.1.5", True)])    # a reused low address: the live view keeps slots
def test_adding_a_pod_moves_no_other_element(ref30, layer, ip, keep):
    build = diagrams.LAYERS[layer]
    first = build(ref30)
    grown = add_pod(ref30, "newcomer", "kubenet-worker", ip)
    second = build(grown, slots=first.layout) if keep else build(grown)
    before, after = groups(first.svg), groups(second.svg)
    assert "p/demo/newcomer" in after and "p/demo/newcomer" not in before
    moved = [gid for gid, g in before.items() if coordinates(g) != coordinates(after[gid])]
    assert moved == []
    # and deleting it gives the first drawing back, byte for byte
    third = build(ref30, slots=second.layout) if keep else build(ref30)
    assert third.svg == first.svg


def test_without_memory_a_low_address_would_shift_pods(ref30):
    """The check above can fail: without the previous slots, a reused low address takes an early slot."""
    first = diagrams.pod_network(ref30)
    second = diagrams.pod_network(add_pod(ref30, "newcomer", "kubenet-worker", "10.244.1.5"))
    before, after = groups(first.svg), groups(second.svg)
    assert any(coordinates(g) != coordinates(after[gid]) for gid, g in before.items() if gid.startswith("p/"))


@pytest.mark.parametrize("layer", ["pods", "overview"])
def test_two_rows_of_nodes_stay_still_too(layer):
    """Six nodes (two rows, Services routed down the gaps): a pod added on the second row moves no other
    element, its deletion gives the first drawing back byte for byte. (The services layer stacks its
    nodes in one column: there a node whose grid grows by a step pushes the nodes below it.)"""
    six = synthetic(load("kindnet"), pods=55, services=8, policies=6, nodes=6)
    build = diagrams.LAYERS[layer]
    first = build(six)
    grown = add_pod(six, "newcomer", "kubenet-worker4", "10.244.4.200")
    before, after = groups(first.svg), groups(build(grown).svg)
    assert "p/demo/newcomer" in after
    assert [gid for gid, g in before.items() if coordinates(g) != coordinates(after[gid])] == []
    assert build(six).svg == first.svg
