"""The bigger scenes in JupyterLab as a learner sees them: 5 and 6 nodes (two rows), long pod names on a
Multus second network, the 6-node overview with its Services reaching the second row.

JupyterLab (no lab needed: the scenes are snapshots, drawn by ``labkit.show`` as a recorded cluster)
opens a notebook written here, in headless Debian Chromium at 1,280 px with the file browser open.
For each drawing: the widget fits the output area (no horizontal scrollbar), the smallest text is at
least 11 px on screen, every text lies inside the drawing, and the long names shown differ. Screenshots
go to ``test-output/jupyterlab-scene-*.png`` for review.
"""
from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")
nbformat = pytest.importorskip("nbformat", reason="needs JupyterLab: pip install -e .")

from .browserkit import (  # noqa: E402
    CHROMIUM,
    NO_CHROMIUM,
    OUTPUT,
    ROOT,
    browser_page,
    jupyter_server,
    run_first_cell,
    wait_idle,
)

pytestmark = [pytest.mark.timeout(240), pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

SETUP = f"""import json, labkit
from labkit.diagrams.synthetic import synthetic
from labkit.snapshot import ClusterSnapshot
base = ClusterSnapshot.load({str(ROOT / "tests" / "fixtures" / "snapshots" / "reference-kindnet.json")!r})
def long_names():
    snap = synthetic(base, pods=25, services=8, policies=6)
    renamed = 0
    for p in snap.pods:
        if p["metadata"]["name"].startswith("web") and renamed < 8:
            renamed += 1
            p["metadata"]["name"] = p["metadata"]["name"].replace("web", "frontend-deployment-7d9f8c6b5")
            p["metadata"].setdefault("annotations", {{}})["k8s.v1.cni.cncf.io/network-status"] = json.dumps([
                {{"name": "kindnet", "interface": "eth0", "ips": [p["status"]["podIP"]], "default": True}},
                {{"name": "team0/macvlan-storage-network", "interface": "net1", "ips": [f"192.168.200.{{10 + renamed}}"]}}])
    return snap
"""
SCENES = [   # (screenshot name, cell source)
    ("6-nodes-overview", 'labkit.show("overview", synthetic(base, pods=55, services=8, policies=6, nodes=6), lang="en")'),
    ("5-nodes-pods", 'labkit.show("pods", synthetic(base, pods=40, services=8, policies=6, nodes=5), lang="en")'),
    ("long-names-multus-pods", 'labkit.show("pods", long_names(), lang="en")'),
    ("6-nodes-overview-fr", 'labkit.show("overview", synthetic(base, pods=55, services=8, policies=6, nodes=6), lang="fr")'),
]
MEASURE = """(i) => {
    const c = document.querySelectorAll('.lk-canvas')[i], o = c.closest('.jp-OutputArea-output');
    const s = c.querySelector('svg'), box = s.getBoundingClientRect();
    const k = box.width / s.viewBox.baseVal.width;
    const texts = [...s.querySelectorAll('text')];
    const outside = texts.filter(t => { const r = t.getBoundingClientRect();
        return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1; })
        .map(t => t.textContent);
    const names = [...s.querySelectorAll('g.pod[id^="p/team0/frontend-"]')].map(g => g.querySelector('text').textContent);
    return {canvas: [c.scrollWidth, c.clientWidth], output: [o.scrollWidth, o.clientWidth],
            smallest: Math.min(...texts.map(t => parseFloat(t.getAttribute('font-size')) * k)), outside, names};
}"""


@pytest.fixture(scope="module")
def notebook_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(src) for _, src in SCENES]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "scenes.ipynb")
    with jupyter_server(root, tmp_path_factory.mktemp("home")) as running:
        yield running.url("scenes.ipynb")


def test_big_scenes_fit_read_and_keep_their_texts_inside(notebook_url):
    with browser_page(notebook_url, width=1280, height=900) as page:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
        for _ in SCENES:
            page.keyboard.press("Shift+Enter")
        page.wait_for_function(f"() => document.querySelectorAll('.lk-canvas svg').length === {len(SCENES)}",
                               timeout=90_000)
        wait_idle(page, 60_000)
        for i, (name, _src) in enumerate(SCENES):
            page.locator(".lk-canvas").nth(i).scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / f"jupyterlab-scene-{name}.png"))
            m = page.evaluate(MEASURE, i)
            assert m["canvas"][0] <= m["canvas"][1] and m["output"][0] <= m["output"][1], (name, m)
            assert m["smallest"] >= 11, (name, m["smallest"])
            assert m["outside"] == [], (name, m["outside"])
            if "long-names" in name:
                assert len(m["names"]) == 8 and len(set(m["names"])) == 8, m["names"]
