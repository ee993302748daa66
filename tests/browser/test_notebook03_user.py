"""Notebook 03 as a learner runs it: JupyterLab and its kernel as an ordinary user (``sudo make lab``).

The kernel is not root, yet the observed trace names kube-proxy's chains of the endpoint that
answered and the capture draws its packets on the pod-network diagram: both go through the lab
daemon's API. The lab is started as root, then ``labkit jupyter`` under ``SUDO_USER``; cells run
one by one down to the capture's drawing, whose screenshot goes to ``test-output/``.

The interpreter must be runnable by the user: this one, or ``LABKIT_USER_PYTHON`` (a venv of
Debian's ``/usr/bin/python3`` when this one lives under ``/root``, mode 700).
"""
from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import (
    CHROMIUM,
    NO_CHROMIUM,
    OUTPUT,
    ROOT,
    code_cell_index,
    learner_fixtures,
    open_notebook,
    wait_idle,
)

LAB = "tnb03usr"
USER = "tklearn03"
NOTEBOOK = ROOT / "notebooks" / "en" / "03-pod-to-service.ipynb"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(420),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


learner, jupyter, page = learner_fixtures(USER, LAB, "en/03-pod-to-service.ipynb")


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def test_a_learner_sees_the_kernel_trace_and_the_capture_drawn(page):
    open_notebook(page, "notebook03-user-not-open")
    last = code_cell_index(NOTEBOOK, "captured.draw(")
    for _ in range(last):
        page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function("() => document.querySelector('g.capture-steps') !== null", timeout=240_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook03-user-no-capture.png"))
        raise
    wait_idle(page, 120_000)
    text = _outputs(page)
    assert "Observed by the kernel" in text and "KUBE-SEP-" in text.split("Observed by the kernel")[1], text[-3000:]
    assert "Observed = predicted" in text
    svg = page.evaluate("() => document.querySelector('g.capture-steps').closest('svg').outerHTML")
    assert svg.count('class="capture-point"') >= 4 and 'data-nat="1"' in svg
    assert re.search(r'data-src="10\.\d+\.\d+\.\d+:\d+"', svg)
    page.locator("g.capture-steps").first.scroll_into_view_if_needed()
    shot = OUTPUT / "notebook03-capture-as-user.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
