"""The live view without a cluster: it redraws on a watch event, keeps pods in place, paints a trace on two picks."""
import threading

from labkit.diagrams import style
from labkit.live import LiveView, renderer

from conftest import load
from diagram_helpers import coordinates, groups


def painted(svg, gid="p/demo/client"):
    return style.HIGHLIGHT in "".join(el.get("stroke", "") for el in groups(svg)[gid].iter())


def test_watch_event_redraws_and_two_picks_paint_the_trace():
    snap = load("kindnet")
    fired = threading.Event()
    view = LiveView(renderer("pods", "en"), lambda: snap, lambda: "1", "en", changes=lambda stop: (fired, lambda: None))
    try:
        assert view.wait_for(lambda svg: "<svg" in svg, 10)
        first, before = view.redraws, view.svg
        fired.set()                                     # what a watch event does
        assert view.wait_for(lambda svg: view.redraws > first, 10)
        assert view.svg == before                       # unchanged cluster: the same bytes
        view.widget.pick = ["p/demo/client", "p/prod/db"]   # what two clicks send
        assert not painted(before) and view.wait_for(painted, 10)
        assert "demo/client" in view.widget.trace and "prod/db" in view.widget.trace
        lit, plain = groups(view.svg), groups(before)
        assert coordinates(lit["p/demo/blue-1"]) == coordinates(plain["p/demo/blue-1"])   # nothing moved
        view.widget.pick = []
        assert view.wait_for(lambda svg: not painted(svg), 10) and view.widget.trace == ""
    finally:
        view.stop()


def test_the_widget_carries_the_front_end_and_the_learners_words():
    snap = load("kindnet")
    view = LiveView(renderer("overview", "fr"), lambda: snap, lambda: "1", "fr")
    try:
        assert view.wait_for(lambda svg: "<svg" in svg, 10)
        w = view.widget
        assert "export default" in w._esm and "lk-tip" in w._css
        assert w.toggles["ring"] == "réseau des pods" and "cliquez" in w.texts["pick_source"]
        assert "mis à jour" in view.status.value
    finally:
        view.stop()


def test_a_static_drawing_shows_inline_at_the_output_width():
    from labkit import diagrams

    html = diagrams.pod_network(load("kindnet"))._repr_html_()
    assert html.startswith('<div class="labkit-drawing"') and "<?xml" not in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'width="100%"' in html


def test_a_new_pod_shows_from_the_api_objects_before_the_nodes_are_read():
    """A watch event draws the API objects at once on the last node state; the full snapshot (slow:
    every node and pod read) follows and adds the pod's veth."""
    import copy

    from labkit.snapshot import ClusterSnapshot

    snap = load("kindnet")
    grown = ClusterSnapshot.from_json(snap.to_json())
    pod = copy.deepcopy(next(p for p in grown.pods if p["spec"].get("nodeName", "").endswith("-worker")))
    pod["metadata"].update(name="newcomer", namespace="demo")
    pod["metadata"].pop("ownerReferences", None)
    pod["status"].update(podIP="10.244.1.77", podIPs=[{"ip": "10.244.1.77"}])
    grown.pods.append(pod)
    nodes_read = threading.Event()
    state = {"snap": snap}

    def full():
        if state["snap"] is grown:
            nodes_read.wait(10)                   # the nodes are slow to read
        return state["snap"]

    fired = threading.Event()
    view = LiveView(renderer("pods", "en"), full, lambda: "1", "en", changes=lambda stop: (fired, lambda: None),
                    objects=lambda: grown)
    try:
        assert view.wait_for(lambda svg: "<svg" in svg, 10) and "p/demo/newcomer" not in groups(view.svg)
        state["snap"] = grown
        fired.set()
        assert view.wait_for(lambda svg: 'id="p/demo/newcomer"' in svg, 5), "not drawn from the API objects"
        assert not nodes_read.is_set()
        nodes_read.set()
        assert view.wait_for(lambda svg: view._snap is grown, 10)
    finally:
        nodes_read.set()
        view.stop()
