"""Every layer, for the reference scenes: fits its viewBox, no label crossed by an edge or another label,
and type that reads at class scale (≥ 11 px in a 1,100 px notebook output at 1,280 px, ≥ 14 px on a slide)."""
from pathlib import Path

import pytest
from conftest import load
from geometry import problems, smallest_font_px, view_box

from labkit import diagrams
from labkit.diagrams.synthetic import synthetic
from labkit.trace import draw_trace, trace

SCENES = {
    "kindnet": lambda: load("kindnet"),
    "flannel": lambda: load("flannel"),
    "ref30": lambda: synthetic(load("kindnet"), pods=25, services=8, policies=6),   # + the 5 pods, 2 services, 2 policies
    "pods60": lambda: synthetic(load("kindnet"), pods=55, services=8, policies=6),
    "nodes4": lambda: synthetic(load("kindnet"), pods=25, services=8, policies=6, nodes=4),
    "nodes5": lambda: synthetic(load("kindnet"), pods=40, services=8, policies=6, nodes=5),
    "nodes6": lambda: synthetic(load("kindnet"), pods=55, services=8, policies=6, nodes=6),
    "longnames": lambda: long_names_on_a_second_network(),
}


def long_names_on_a_second_network():
    """The reference scene where 8 pods have long names that differ only at the end (no owner, so
    the diagram cannot shorten them to ``owner-…suffix``) and a Multus ``net1``."""
    import json

    snap = synthetic(load("kindnet"), pods=25, services=8, policies=6)
    renamed = 0
    for p in snap.pods:
        if p["metadata"]["name"].startswith("web") and renamed < 8:
            renamed += 1
            p["metadata"]["name"] = p["metadata"]["name"].replace("web", "frontend-deployment-7d9f8c6b5")
            p["metadata"].setdefault("annotations", {})["k8s.v1.cni.cncf.io/network-status"] = json.dumps([
                {"name": "kindnet", "interface": "eth0", "ips": [p["status"]["podIP"]], "default": True},
                {"name": "team0/macvlan-storage-network", "interface": "net1", "ips": [f"192.168.200.{10 + renamed}"]}])
    return snap
OUTPUT_PX = 850    # a notebook output area in JupyterLab at a 1,280 px window, file browser open


@pytest.fixture(scope="module", params=sorted(SCENES))
def scene(request):
    return request.param, SCENES[request.param]()


def test_reference_scene_has_the_issue_sizes():
    snap = SCENES["ref30"]()
    assert (len(snap.nodes), len(snap.pods), len(snap.services), len(snap.networkpolicies)) == (3, 30, 10, 8)
    assert len(SCENES["pods60"]().pods) == 60


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("layer", sorted(diagrams.LAYERS))
def test_no_collision_and_readable_type(scene, layer, lang):
    name, snap = scene
    svg = diagrams.to_svg(diagrams.LAYERS[layer](snap, lang=lang))
    assert problems(svg) == []
    assert 'width="100%"' in svg and view_box(svg)[2] <= 1280
    assert smallest_font_px(svg, OUTPUT_PX) >= 11


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_trace_painting_collides_with_nothing(lang):
    snap = load("flannel")
    svg = diagrams.to_svg(draw_trace(trace(snap, "demo/client", "prod/db:5432"), lang))
    assert problems(svg) == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_slide_pictures_read_from_the_back_of_the_room(lang):
    """The chapter's pictures on a 1,280 × 720 slide (the picture gets 1,280 × 680 px, see slides/theme/deck.css,
    and reveal.js's margin of 0.04 scales the slide by 0.96 in a 1,280 × 720 window): the smallest text is at
    least 14 px (tests/browser/test_slides_browser.py measures it in Chromium)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("make_images", root / "scripts" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, drawing in module.pictures(load("kindnet"), lang).items():
        svg = diagrams.to_svg(drawing)
        _, _, w, h = view_box(svg)
        scale = min(1280 / w, 680 / h) * 0.96
        assert min_font(svg) * scale >= 14, name
        assert problems(svg) == [], name


def min_font(svg):
    from geometry import labels
    return min(t.size for t in labels(svg))


def _circles(svg, prefix):
    from diagram_helpers import NS, groups

    return {gid: next(g.iter(f"{NS}circle")) for gid, g in groups(svg).items() if gid.startswith(prefix)}


@pytest.mark.parametrize("count", [4, 5, 6])
def test_more_nodes_take_a_second_row_and_the_ring_goes_through_every_node(count):
    """4-6 nodes: a second row under the first, nothing moved in the first row, every node box inside the
    width, no two boxes overlapping (the first row's boxes where three nodes put them), and the pod network ring passing through every node's routing circle."""
    from diagram_helpers import NS, groups
    from geometry import segments

    base = synthetic(load("kindnet"), pods=25, services=8, policies=6)
    snap = synthetic(load("kindnet"), pods=25, services=8, policies=6, nodes=count)
    for layer in ("overview", "pods"):
        svg = diagrams.to_svg(diagrams.LAYERS[layer](snap, lang="en"))
        rects = {gid: next(g.iter(f"{NS}rect")) for gid, g in groups(svg).items() if gid.startswith("node/")}
        assert len(rects) == count
        boxes = {gid: (float(r.get("x")), float(r.get("y")), float(r.get("x")) + float(r.get("width")),
                       float(r.get("y")) + float(r.get("height"))) for gid, r in rects.items()}
        width = view_box(svg)[2]
        assert all(0 <= b[0] and b[2] <= width for b in boxes.values())
        items = list(boxes.values())
        assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
                       for i, a in enumerate(items) for b in items[i + 1:]), "two node boxes overlap"
        assert len({b[1] for b in items}) == 2, "4 to 6 nodes: two rows"
        first = diagrams.to_svg(diagrams.LAYERS[layer](base, lang="en"))
        for gid in ("node/kubenet-control-plane", "node/kubenet-worker", "node/kubenet-worker2"):
            old = groups(first)[gid].find(f"{NS}rect").attrib
            assert [rects[gid].get(k) for k in ("x", "y", "width")] == [old.get(k) for k in ("x", "y", "width")]
    svg = diagrams.to_svg(diagrams.overview(snap, lang="en"))
    from geometry import _seg_hits_box

    ring_group = groups(svg)["net/pods"]
    ring_d = next(ring_group.iter(f"{NS}path")).get("d")
    ring_only = segments(f'<svg xmlns="http://www.w3.org/2000/svg"><path class="edge" d="{ring_d}"/></svg>')
    assert len(_circles(svg, "rt/")) == count
    for gid, c in _circles(svg, "rt/").items():
        x, y = float(c.get("cx")), float(c.get("cy"))
        assert any(_seg_hits_box(a, b, (x, y, x, y), pad=0.5) for a, b in ring_only), f"the ring misses {gid}"


@pytest.mark.parametrize("layer", ["pods", "overview", "services"])
def test_long_pod_names_keep_the_end_that_tells_them_apart(layer):
    """Pods whose names differ only at the end are cut in the middle (``frontend-de…3``), never to one
    same ``frontend-depl…`` for all: the learner can still tell them apart."""
    from diagram_helpers import group_texts, groups

    svg = diagrams.LAYERS[layer](SCENES["longnames"](), lang="en").svg
    shown = [group_texts(g)[0] for gid, g in groups(svg).items() if gid.startswith("p/team0/frontend-")]
    assert len(shown) == 8 and len(set(shown)) == 8, shown
    assert all(t.startswith("frontend") and "…" in t for t in shown), shown


def test_services_to_a_lower_row_keep_apart():
    """Six nodes: each Service reaching the second row has its own track in the gap between two nodes
    and its own level between the rows, at least 4 px from the next (2 px lines, 2 px of white between):
    thin lines, not one green bar."""
    from diagram_helpers import NS, groups

    svg = diagrams.overview(SCENES["nodes6"](), lang="en").svg
    first_top = min(float(g.find(f"{NS}rect").get("y")) for gid, g in groups(svg).items() if gid.startswith("node/"))
    xs, ys = {}, {}
    for gid, g in groups(svg).items():
        if not gid.startswith("svc/"):
            continue
        for path in g.iter(f"{NS}path"):
            pts = [tuple(float(v) for v in part.split()) for part in path.get("d")[1:].split(" L")]
            if len(pts) == 5:                      # to a lower row: down a gap, along the rows' gap
                xs.setdefault(round(pts[1][0], 1), set()).add(gid)
                ys.setdefault(round(pts[2][1], 1), set()).add(gid)
                assert pts[1][1] < first_top
    assert len(xs) >= 4 and all(len(v) == 1 for v in xs.values()), xs        # one track per Service
    assert all(len(v) == 1 for v in ys.values()), ys
    for found in (sorted(xs), sorted(ys)):
        close = [(a, b) for a, b in zip(found, found[1:]) if b - a < 3.9 and abs(b - a) < 30]
        assert close == [], close


CNI_SETS = Path(__file__).resolve().parents[2] / "fixtures" / "cni"


def recorded(name):
    """A recorded kind cluster as notebook 05 draws it (its ``recorded`` helper, same files)."""
    import json

    from labkit.cluster import build_snapshot

    files = {"addr": "ip-addr.json", "route": "ip-route.json", "iptables": "iptables-save.txt",
             "nft": "nft-ruleset.json", "ipvsadm": "ipvsadm.txt"}
    base = CNI_SETS / name
    objects = json.loads((base / "cluster.json").read_text())["objects"]
    outputs = {node.name: {k: (node / f).read_text() if (node / f).exists() else None for k, f in files.items()}
               for node in sorted(base.iterdir()) if node.is_dir()}
    return build_snapshot(name, "kind", objects, outputs)[0]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", sorted(d.name for d in CNI_SETS.iterdir() if (d / "cluster.json").exists()))
def test_notebook_05s_recorded_clusters_draw_without_collision(name, lang):
    """Notebook 05 draws the pod network of recorded kind clusters (kindnet, flannel, Calico, Cilium...):
    the same geometry as the reference scenes."""
    svg = diagrams.to_svg(diagrams.pod_network(recorded(name), lang=lang))
    assert problems(svg) == []
    assert smallest_font_px(svg, OUTPUT_PX) >= 11


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("layer", sorted(diagrams.LAYERS))
def test_titles_are_whole_in_both_languages(scene, layer, lang):
    """A title is never cut: French titles run longer (the services layer's once lost the node it reads
    the rules on: ``règles lues sur kubenet-control-…``)."""
    from diagram_helpers import NS, parse

    _, snap = scene
    svg = diagrams.to_svg(diagrams.LAYERS[layer](snap, lang=lang))
    titles = [t.text for t in parse(svg).iter(f"{NS}text") if t.get("class") == "title"]
    assert titles and not any("…" in t for t in titles), titles
