"""The second network (Multus net1) on the pod layer: read from the network-status annotation, EN/FR."""
import json

import pytest

from labkit import diagrams

from conftest import load
from diagram_helpers import groups, svg_texts, tooltip
from geometry import problems, smallest_font_px

ATTACHED = {"demo/blue-1": "192.168.200.10", "demo/client": "192.168.200.11", "demo/blue-3": "192.168.200.12"}


def with_net1():
    snap = load("kindnet")
    for p in snap.pods:
        key = f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        if key in ATTACHED:
            p["metadata"].setdefault("annotations", {})["k8s.v1.cni.cncf.io/network-status"] = json.dumps([
                {"name": "kindnet", "interface": "eth0", "ips": [p["status"]["podIP"]], "default": True},
                {"name": "demo/macvlan-conf", "interface": "net1", "ips": [ATTACHED[key]], "mac": "02:42:ac:13:00:0a"}])
    return snap


@pytest.mark.parametrize("lang, bar, row", [
    ("en", "second network demo/macvlan-conf (Multus): 3 pods, interface net1", "demo/client on worker: net1 192.168.200.11"),
    ("fr", "second réseau demo/macvlan-conf (Multus) : 3 pods, interface net1",
     "demo/client sur worker : net1 192.168.200.11")])
def test_the_second_network_is_drawn_with_each_pods_net1_address(lang, bar, row):
    svg = diagrams.pod_network(with_net1(), lang=lang).svg
    texts = svg_texts(svg)
    assert bar in texts and row in texts
    tabs = {gid.removeprefix("multus/") for gid in groups(svg) if gid.startswith("multus/")}
    assert tabs == set(ATTACHED)
    assert "192.168.200.10" in tooltip(groups(svg)["multus/demo/blue-1"])
    assert problems(svg) == [] and smallest_font_px(svg, 850) >= 11


def test_no_second_network_no_bar():
    svg = diagrams.pod_network(load("kindnet"), lang="en").svg
    assert not any(g.startswith(("multus/", "net2/")) for g in groups(svg))
    assert not any("Multus" in t for t in svg_texts(svg))
