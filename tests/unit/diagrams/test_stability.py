"""The layout is labkit's: nodes in a fixed order, each pod in its slot. A new pod moves nothing else,
deleting it gives the first drawing back byte for byte, an unchanged cluster redraws identically."""
import copy

import pytest

from labkit import diagrams
from labkit.diagrams import layout
from labkit.diagrams.synthetic import _wire, synthetic
from labkit.snapshot import ClusterSnapshot

from conftest import load
from diagram_helpers import coordinates, groups, tooltip

LAYOUT_LAYERS = ["pods", "overview", "services"]


@pytest.fixture
def ref30():
    return synthetic(load("kindnet"), pods=25, services=8, policies=6)


def add_pod(snap: ClusterSnapshot, name: str, node: str, ip: str, n: int = 999) -> ClusterSnapshot:
    grown = ClusterSnapshot.from_json(snap.to_json())
    pod = copy.deepcopy(next(p for p in grown.pods if p["spec"]["nodeName"] == node))
    pod["metadata"].update(name=name, namespace="demo", labels={"run": name})
    pod["metadata"].pop("ownerReferences", None)
    pod["status"].update(podIP=ip, podIPs=[{"ip": ip}])
    grown.pods.append(pod)
    _wire(grown.node(node), ip, n)
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
    element, its deletion gives the first drawing back byte for byte. (Only a pod taking the fullest
    node's last reserved slot grows every box and moves the second row: see the test below.)"""
    six = synthetic(load("kindnet"), pods=55, services=8, policies=6, nodes=6)
    build = diagrams.LAYERS[layer]
    first = build(six)
    grown = add_pod(six, "newcomer", "kubenet-worker4", "10.244.4.200")
    before, after = groups(first.svg), groups(build(grown).svg)
    assert "p/demo/newcomer" in after
    assert [gid for gid, g in before.items() if coordinates(g) != coordinates(after[gid])] == []
    assert build(six).svg == first.svg


COLS = {"pods": 2, "overview": 2, "services": 1}   # pods per row of a node's grid, per layer


@pytest.mark.parametrize("layer", LAYOUT_LAYERS)
def test_pods_added_one_by_one_move_nothing_until_the_reserve_is_full(ref30, layer):
    """Pods added one by one to a node, as the live view redraws (keeping its slots): a pod that opens a
    new row of the node's grid moves no other element; the grid grows only when a pod takes the node's
    last reserved slot (layout.capacity: pods and overview size every node for the fullest, services each
    node for itself), and then no pod above moves; each deletion gives the previous drawing back, byte for byte."""
    build, cols, node = diagrams.LAYERS[layer], COLS[layer], "kubenet-worker"
    snap, drawing = ref30, build(ref30)
    opened_rows = grew = 0
    for i in range(40):
        scope = drawing.layout if layer != "services" else {node: drawing.layout[node]}
        step = layout.SERVICES_STEP if layer == "services" else None
        reserved = layout.capacity(layout.used_slots(scope), step)
        grown = add_pod(snap, f"newcomer{i}", node, f"10.244.1.{200 + i}", 1000 + i)
        second = build(grown, slots=drawing.layout)
        slot = second.layout[node][f"demo/newcomer{i}"]
        scope2 = second.layout if layer != "services" else {node: second.layout[node]}
        before, after = groups(drawing.svg), groups(second.svg)
        moved = [gid for gid, g in before.items() if coordinates(g) != coordinates(after[gid])]
        if layout.capacity(layout.used_slots(scope2), step) == reserved:
            assert moved == [], (i, slot)
            opened_rows += slot % cols == 0
        else:                                    # the documented growth: the pod took the last free slot
            assert slot == reserved - 1 and moved
            # no pod moves, but in the services layer those of the nodes stacked below this one
            order = [n.name for n in layout.node_order(grown)]
            below = {f"p/{k}" for n in order[order.index(node) + 1:] for k in second.layout[n]}
            assert [gid for gid in moved if gid.startswith("p/") and gid not in below] == []
            assert layer == "services" or not below & set(moved)
            grew += 1
        assert build(snap, slots=second.layout).svg == drawing.svg     # deleting it: the drawing before
        snap, drawing = grown, second
    assert opened_rows >= 3 and 1 <= grew <= (10 if layer == "services" else 3)


def test_capacities_grow_by_about_half_beyond_sixteen():
    assert layout.CAPACITIES == (4, 8, 12, 16, 24, 32, 48, 64)
    assert [layout.capacity(n) for n in (0, 3, 4, 11, 12, 23, 24, 60)] == [4, 4, 8, 12, 16, 24, 32, 64]
    assert [layout.capacity(n, layout.SERVICES_STEP) for n in (0, 1, 2, 3, 4, 16, 19)] == [2, 2, 4, 4, 8, 20, 20]


def test_policy_layer_a_pod_joining_its_group_moves_nothing(ref30):
    """The policy layer draws groups of pods (what the policies select), not pods: a pod that joins an
    existing group (a deployment scaled up) moves no element; deleting it gives the drawing back. A pod
    with labels of its own forms a new group, a new row of groups and of the matrix: that one grows."""
    build = diagrams.LAYERS["policies"]
    first = build(ref30)
    grown = add_pod(ref30, "web-new", "kubenet-worker", "10.244.1.200", 1000)
    grown.pods[-1]["metadata"].update(namespace="team0", labels={"app": "web"})
    second = build(grown, slots=first.layout)
    before, after = groups(first.svg), groups(second.svg)
    assert set(before) == set(after)
    assert [gid for gid, g in before.items() if coordinates(g) != coordinates(after[gid])] == []
    assert "team0/web-new" in tooltip(after["g/team0/app=web"])
    assert build(ref30, slots=second.layout).svg == first.svg
