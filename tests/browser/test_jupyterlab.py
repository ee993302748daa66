"""JupyterLab in a real browser: notebook 02's live diagram fits, gains pods, answers hover and clicks.

JupyterLab serves ``notebooks/`` as ``make lab`` does; headless Debian Chromium (Playwright, never
``playwright install``) at 1,280 px opens ``en/02-pod-to-pod.ipynb``, runs its cells down to the
live diagram, inserts a cell that runs ``kubectl run`` twice, and waits until the SVG the widget
shows names the new pods. Then: the diagram fits the output area (no horizontal scrollbar),
hovering a pod shows its IP, clicking one pod then the other paints the packet's path and prints
its hops. What is checked is what the learner sees: the rendered widget in the page, not the
kernel's state. Screenshots go to ``test-output/`` (git-ignored). Needs root (the embedded lab).
"""
from __future__ import annotations

import os

import pytest

pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")
pytest.importorskip("jupyterlab", reason="needs JupyterLab: pip install -e .")

from .browserkit import (
    CHROMIUM,
    NO_CHROMIUM,
    OUTPUT,
    ROOT,
    browser_page,
    jupyter_server,
    run_first_cell,
    wait_idle,
)

LAB = f"tjl{os.getpid() % 1000}"
LIVE_CELL = 5              # index of `view = labkit.live.show("pods", cluster)` in en/02-pod-to-pod.ipynb
NEW_POD, OTHER_POD = "frombrowser", "frombrowser2"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300),
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason=NO_CHROMIUM)]



@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """An embedded lab, and JupyterLab on notebooks/ with the lab in its environment."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces): run `sudo make test`")
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    lifecycle.down(LAB)
    try:
        lifecycle.up(LabSpec(name=LAB))
        with jupyter_server(ROOT / "notebooks", tmp_path_factory.mktemp("home"), LABKIT_LAB=LAB) as running:
            yield running
    finally:
        lifecycle.down(LAB)


@pytest.fixture(scope="module")
def page(jupyter):
    with browser_page(jupyter.url("en/02-pod-to-pod.ipynb"), width=1280, height=900) as pg:
        yield pg


def _live_svg_text(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.lk-canvas svg')]"
                         ".map(s => s.textContent).join('\\n')")


def test_live_diagram_gains_a_pod_created_from_a_cell(page):
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page)
    run_first_cell(page)
    for _ in range(LIVE_CELL):                                # run on down to the live diagram, included
        page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function("() => document.querySelector('.lk-canvas svg') !== null", timeout=90_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "jupyterlab-02-no-diagram.png"))
        raise
    wait_idle(page, 90_000)
    assert NEW_POD not in _live_svg_text(page)

    page.keyboard.press("Escape")                             # the cell after the diagram is active:
    page.keyboard.press("a")                                  # a new cell above it, below the diagram
    page.keyboard.press("Enter")
    page.keyboard.type(f"!kubectl -n nb02 run {NEW_POD} --image=jpetazzo/color; "
                       f"kubectl -n nb02 run {OTHER_POD} --image=jpetazzo/color")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "names => [...document.querySelectorAll('.lk-canvas svg')].some(s => names.every(n => s.textContent.includes(n)))",
        arg=[NEW_POD, OTHER_POD], timeout=30_000)

    # the live view draws a change twice (the API objects at once, then the full snapshot), replacing
    # its <svg>: scroll with the DOM call, which needs no element kept stable across the redraw
    page.evaluate("() => document.querySelector('.lk-canvas svg').scrollIntoView({block: 'start'})")
    wait_idle(page)
    shot = OUTPUT / "jupyterlab-02-live-diagram.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert NEW_POD in _live_svg_text(page)
    status = page.evaluate("() => [...document.querySelectorAll('.lk-status')].map(l => l.textContent)")
    assert any(s.startswith("updated at") for s in status), status   # the view's status line

    # it fits: neither the widget nor the output area scrolls sideways
    widths = page.evaluate("""() => {
        const c = document.querySelector('.lk-canvas'), o = c.closest('.jp-OutputArea-output');
        const s = c.querySelector('svg').getBoundingClientRect();
        return {canvas: [c.scrollWidth, c.clientWidth], output: [o.scrollWidth, o.clientWidth], svg: s.width};
    }""")
    assert widths["canvas"][0] <= widths["canvas"][1] and widths["output"][0] <= widths["output"][1], widths
    assert widths["svg"] <= widths["output"][1], widths
    smallest = page.evaluate("""() => { const s = document.querySelector('.lk-canvas svg');
        const k = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
        return Math.min(...[...s.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * k)); }""")
    assert smallest >= 11, f"smallest text {smallest:.1f} px in an output area {widths['output'][1]} px wide"

    # hover a pod: its IP shows
    for name in (NEW_POD, OTHER_POD):                        # drawn at once, given an address soon after
        page.wait_for_selector(f'.lk-canvas g.pod[id="p/nb02/{name}"]:not([data-ip=""])', timeout=30_000)
    pod = page.locator(f'.lk-canvas g.pod[id="p/nb02/{NEW_POD}"]')
    ip = pod.get_attribute("data-ip")
    assert ip and ip.count(".") == 3
    pod.locator("rect").hover()
    page.wait_for_function("ip => { const t = document.querySelector('.lk-tip');"
                           " return t && t.style.display === 'block' && t.textContent.includes(ip); }", arg=ip,
                           timeout=5_000)
    page.screenshot(path=str(OUTPUT / "jupyterlab-02-hover.png"))

    # click one pod, then the other: the path is painted and its hops are written
    pod.locator("rect").click()
    page.locator(f'.lk-canvas g.pod[id="p/nb02/{OTHER_POD}"] rect').click()
    page.wait_for_function("""id => {
        const g = document.querySelector(`.lk-canvas g.pod[id="${id}"] rect`);
        const t = document.querySelector('.lk-trace');
        return g && g.getAttribute('stroke') === '#ff8f00' && t && t.textContent.includes(id.slice(2));
    }""", arg=f"p/nb02/{NEW_POD}", timeout=15_000)
    page.locator(".lk-canvas svg").first.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / "jupyterlab-02-trace.png"))


def test_shift_enter_through_welcome_with_no_answer_says_not_yet(jupyter, page):
    """A learner who presses Shift+Enter through notebook 00 without writing anything is told
    "not yet": no solution runs by itself. The collapsed hints and solution are on the page."""
    import nbformat

    path = ROOT / "notebooks" / "en" / "00-welcome.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    check = next(i for i, c in enumerate(cells) if c.source.startswith('ex.check("00.0"'))
    OUTPUT.mkdir(exist_ok=True)
    # one Playwright per thread: a second sync_playwright() while the module's is open fails, so a new
    # context of the module's browser
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(jupyter.url("en/00-welcome.ipynb"))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
        for _ in range(check):                             # down to the exercise's check, included
            page.keyboard.press("Shift+Enter")
        wait_idle(page, 120_000)
        cell = page.locator(".jp-Notebook .jp-Cell").nth(check)
        cell.scroll_into_view_if_needed()
        page.wait_for_function(
            "i => document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('.jp-OutputArea-output')",
            arg=check, timeout=60_000)
        text = cell.locator(".jp-OutputArea").inner_text()
        page.locator(".jp-Notebook .jp-Cell").nth(check - 3).scroll_into_view_if_needed()
        page.screenshot(path=str(OUTPUT / "jupyterlab-00-not-yet.png"))
        assert "✘ Not yet:" in text and "no pod nb00/hello" in text and "Well done" not in text, text
        summaries = page.evaluate("() => [...document.querySelectorAll('details summary')].map(s => s.textContent)")
        assert any("Hint 1" in s for s in summaries) and any("Solution of exercise 00.0" in s for s in summaries)
    finally:
        context.close()
