"""JupyterLab as ``sudo make lab`` starts it: the lab as root, JupyterLab and kernels as the user.

The test creates an ordinary user, starts the lab (root), then ``labkit jupyter`` with
``SUDO_USER`` set to that user, exactly the command the Makefile's ``lab`` target runs. In headless
Debian Chromium it opens notebook 00, runs it down to the live diagram and checks what the learner
sees: the kernel's ``os.getuid()`` is the user's (not 0) and the live diagram draws the lab's nodes,
read through the lab daemon's API. A screenshot goes to ``test-output/``.
"""
from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")
pytest.importorskip("jupyterlab", reason="needs JupyterLab: pip install -e .")

from .browserkit import (
    CHROMIUM,
    NO_CHROMIUM,
    OUTPUT,
    browser_page,
    jupyter_as,
    ordinary_user,
    run_first_cell,
    wait_idle,
)

LAB = "tjlusr"
USER = "tklearner"
LIVE_CELL = 11            # `view = labkit.live.show("overview", cluster)` in en/00-welcome.ipynb

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300),
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason=NO_CHROMIUM)]



@pytest.fixture(scope="module")
def learner():
    """An ordinary user with a home, created for the test and removed after."""
    with ordinary_user(USER) as user:
        yield user


@pytest.fixture(scope="module")
def jupyter(learner):
    """``make lab``'s two steps: the lab as root, then ``labkit jupyter`` under sudo for the user."""
    with jupyter_as(learner, LAB) as running:
        assert any(f"run as {USER}" in line for line in running.lines), running.lines
        yield running


@pytest.fixture(scope="module")
def page(jupyter):
    with browser_page(jupyter.url("en/00-welcome.ipynb"), height=1000) as pg:
        yield pg


def test_kernel_is_not_root_and_the_live_diagram_draws(page, learner):
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page)
    run_first_cell(page)
    for _ in range(LIVE_CELL):
        page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function("() => document.querySelector('.lk-canvas svg') !== null", timeout=90_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "jupyterlab-user-no-diagram.png"))
        raise
    wait_idle(page, 90_000)
    svg = page.evaluate("() => [...document.querySelectorAll('.lk-canvas svg')]"
                        ".map(s => s.textContent).join('\\n')")
    assert f"{LAB}-control-plane" in svg and f"{LAB}-worker2" in svg

    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.keyboard.type('import os; print("kernel uid", os.getuid())')
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                           ".some(o => o.textContent.includes('kernel uid'))", timeout=30_000)
    text = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")
    uid = int(re.search(r"kernel uid (\d+)", text).group(1))
    assert uid == learner.pw_uid and uid != 0
    page.locator(".lk-canvas svg").first.scroll_into_view_if_needed()
    shot = OUTPUT / "jupyterlab-00-as-user.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
