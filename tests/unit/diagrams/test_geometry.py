"""Every layer, for the reference scenes: fits its viewBox, no label crossed by an edge or another label,
and type that reads at class scale (≥ 11 px in a 1,100 px notebook output at 1,280 px, ≥ 14 px on a slide)."""
import pytest

from labkit import diagrams
from labkit.diagrams.synthetic import synthetic
from labkit.trace import draw_trace, trace

from conftest import load
from geometry import problems, smallest_font_px, view_box

SCENES = {
    "kindnet": lambda: load("kindnet"),
    "flannel": lambda: load("flannel"),
    "ref30": lambda: synthetic(load("kindnet"), pods=25, services=8, policies=6),   # + the 5 pods, 2 services, 2 policies
    "pods60": lambda: synthetic(load("kindnet"), pods=55, services=8, policies=6),
}
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
    """The chapter's pictures on a 1,280 × 720 slide (the picture gets 1,280 × 680 px, see slides/theme/deck.css):
    the smallest text is at least 14 px."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("make_images", root / "scripts" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, drawing in module.pictures(load("kindnet"), lang).items():
        svg = diagrams.to_svg(drawing)
        _, _, w, h = view_box(svg)
        scale = min(1280 / w, 680 / h)
        assert min_font(svg) * scale >= 14, name
        assert problems(svg) == [], name


def min_font(svg):
    from geometry import labels
    return min(t.size for t in labels(svg))
