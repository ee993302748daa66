"""The live diagram's front end in headless Chromium, without JupyterLab: fit, hover, layers, two clicks.

The anywidget module (``labkit.diagrams.widget.ESM``) is loaded in a plain page with a stand-in for
the widget model (``get``/``set``/``on``/``save_changes``), fed the 60-pod overview and the pod layer
of the reference scene; Python's side of a click (the trace) is played by the page's ``save_changes``
recording what was picked. Screenshots go to ``test-output/`` for review.
"""
from __future__ import annotations

import json

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from labkit import diagrams  # noqa: E402
from labkit.diagrams.synthetic import synthetic  # noqa: E402
from labkit.diagrams.widget import CSS, ESM  # noqa: E402
from labkit.snapshot import ClusterSnapshot  # noqa: E402

from .browserkit import CHROMIUM, CHROMIUM_ARGS as ARGS, OUTPUT, ROOT  # noqa: E402

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;font-family:sans-serif}
#out{width:850px;margin:8px;border:1px solid #ddd}</style><style>%(css)s</style></head>
<body><div id="out"></div><script type="module">
const state = %(state)s;
const handlers = {};
window.picks = [];
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; if (k === "pick") window.picks.push(v); },
  on: (ev, fn) => { (handlers[ev] = handlers[ev] || []).push(fn); },
  save_changes: () => {},
};
window.setModel = (k, v) => { state[k] = v; (handlers["change:" + k] || []).forEach(f => f()); };
const mod = await import(URL.createObjectURL(new Blob([%(esm)s], {type: "text/javascript"})));
mod.default.render({model, el: document.getElementById("out")});
window.ready = true;
</script></body></html>"""


def _state(svg: str) -> dict:
    return {"svg": svg, "status": "updated", "trace": "", "pick": [],
            "toggles": {"ring": "pod network", "services": "Services", "policies": "policies"},
            "texts": {"pick_source": "click a pod", "pick_destination": "from {src}: click the destination",
                      "zoom_in": "+", "zoom_out": "-", "zoom_fit": "fit", "clear": "clear"}}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _open(browser, tmp_path, svg: str):
    html = tmp_path / "widget.html"
    html.write_text(PAGE % {"css": CSS, "esm": json.dumps(ESM), "state": json.dumps(_state(svg))})
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(html.as_uri())
    page.wait_for_function("() => window.ready === true", timeout=20_000)
    return page


def test_overview_of_60_pods_fits_and_answers_hover_and_layer_toggles(browser, tmp_path):
    base = ClusterSnapshot.load(ROOT / "tests" / "fixtures" / "snapshots" / "reference-kindnet.json")
    snap = synthetic(base, pods=55, services=8, policies=6)
    page = _open(browser, tmp_path, diagrams.overview(snap).svg)
    widths = page.evaluate("""() => { const c = document.querySelector('.lk-canvas');
        return [c.scrollWidth, c.clientWidth, document.documentElement.scrollWidth, window.innerWidth]; }""")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    ip = page.get_attribute('g.pod[id="p/team0/web-3"]', "data-ip")
    page.hover('g.pod[id="p/team0/web-3"] rect')
    assert ip in page.inner_text(".lk-tip") and page.is_visible(".lk-tip")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "widget-overview-60-hover.png"))
    # a Service lights its pods while hovered
    page.hover('g.service[id^="svc/team0/web"] rect')
    assert page.evaluate("() => document.querySelectorAll('g.pod.lk-hl').length") >= 10
    # the services layer can be hidden
    page.get_by_label("Services").uncheck()
    assert page.evaluate("() => getComputedStyle(document.querySelector('g.layer-services')).display") == "none"
    page.screenshot(path=str(OUTPUT / "widget-overview-60-no-services.png"))
    page.close()


def test_two_clicks_pick_a_trace_and_zoom_scrolls_only_inside(browser, tmp_path):
    base = ClusterSnapshot.load(ROOT / "tests" / "fixtures" / "snapshots" / "reference-kindnet.json")
    page = _open(browser, tmp_path, diagrams.pod_network(base).svg)
    page.click('g.pod[id="p/demo/client"] rect')
    assert "demo/client" in page.inner_text(".lk-hint")
    page.click('g.pod[id="p/prod/db"] rect')
    assert page.evaluate("() => window.picks") == [["p/demo/client", "p/prod/db"]]
    from labkit.trace import draw_trace, trace
    t = trace(base, "demo/client", "prod/db")
    page.evaluate("([svg, text]) => { window.setModel('svg', svg); window.setModel('trace', text); }",
                  [draw_trace(t).svg, t.to_text("en")])
    assert page.get_attribute('g.pod[id="p/demo/client"] rect', "stroke") == "#ff8f00"
    assert "prod/db" in page.inner_text(".lk-trace")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "widget-pods-trace.png"), full_page=True)
    page.click(".lk-zoom_in")
    sizes = page.evaluate("""() => { const c = document.querySelector('.lk-canvas');
        return [c.scrollWidth, c.clientWidth, document.documentElement.scrollWidth, window.innerWidth]; }""")
    assert sizes[0] > sizes[1] and sizes[2] <= sizes[3], sizes   # the drawing scrolls, the page does not
    page.click(".lk-zoom_fit")
    page.close()
