"""Notebook 04 as a learner sees it: JupyterLab and its kernel as an ordinary user (``sudo make lab``).

The instructor build (solutions as code cells, so every section has its policies) runs in
JupyterLab down to the clean-up cell, with a kernel that is not root: the ``nopol`` companion lab
comes from the lab's daemon, its probe warns that nothing enforces policies while the learner's
lab denies; the capstone's trace is allowed, then denied at the policy layer. Screenshots of the
live policy view, the cell without a policy controller and the capstone go to ``test-output/``.

The user and the interpreter: ``browserkit.ordinary_user``.
"""
from __future__ import annotations

import os

import pytest

pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import (
    CHROMIUM,
    NO_CHROMIUM,
    OUTPUT,
    ROOT,
    browser_page,
    jupyter_as,
    ordinary_user,
    run_first_cell,
    wait_idle,
)

LAB = "tnb04usr"
USER = "tklearn04"
BUILT = ROOT / "notebooks" / "en" / "04-network-policies.learner-test.ipynb"     # removed after the test

pytestmark = [pytest.mark.lab, pytest.mark.timeout(480),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


@pytest.fixture(scope="module")
def learner():
    with ordinary_user(USER) as user:
        yield user


@pytest.fixture(scope="module")
def page(learner):
    import nbformat

    from labkit.notebook_build import build

    src = ROOT / "notebooks" / "src" / "04-network-policies.py"
    built = build(src.read_text(), "en", f"src/{src.name}", instructor=True)
    shipped = nbformat.read(ROOT / "notebooks" / "en" / "04-network-policies.ipynb", as_version=4)
    built.metadata = shipped.metadata                 # its kernelspec: no "Select Kernel" dialog
    nbformat.write(built, BUILT)
    os.chown(BUILT, learner.pw_uid, learner.pw_gid)
    try:
        with jupyter_as(learner, LAB) as running, browser_page(running.url(f"en/{BUILT.name}")) as pg:
            yield pg
    finally:
        BUILT.unlink(missing_ok=True)


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def _shot(page, text: str, name: str) -> None:
    """The output area holding ``text``, scrolled into view, as the learner sees it."""
    area = page.locator(".jp-Cell-outputArea", has_text=text).first
    area.scroll_into_view_if_needed()
    path = OUTPUT / name
    area.screenshot(path=str(path))
    assert path.stat().st_size > 5_000


def test_a_learner_runs_notebook_04_and_sees_each_section(page):
    import nbformat

    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        news = page.locator(".jp-toast-button", has_text="No")   # JupyterLab's "notified about news?" toast
        if news.count():
            news.first.click(timeout=5_000)
        run_first_cell(page)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook04-user-not-open.png"))
        raise
    cells = nbformat.read(BUILT, as_version=4).cells
    for _ in range(len(cells) - 2):                  # every cell but the clean-up (the live view stays)
        page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                               ".some(o => o.textContent.includes('network policies: denied'))", timeout=300_000)
        wait_idle(page, 240_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook04-user-stuck.png"))
        raise
    text = _outputs(page)
    assert "Traceback" not in text and "Error" not in text.replace("Error from server", ""), text[-3000:]
    assert "Nothing seems to enforce NetworkPolicies in this cluster" in text, text[-3000:]
    assert "network policies: denied" in text and "network policies: allowed" in text
    _shot(page, "Nothing seems to enforce", "notebook04-nopol-as-user.png")
    _shot(page, "network policies: denied", "notebook04-capstone-as-user.png")
    page.evaluate("() => document.querySelector('.lk-canvas').scrollIntoView({block: 'start'})")  # redraws replace its svg
    path = OUTPUT / "notebook04-policy-view-as-user.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 20_000
    svg = page.evaluate("() => document.querySelector('.lk-canvas svg').outerHTML")
    assert "web-from-front" in svg and "nb04-np" not in svg      # the policies of nb04; the other namespace gone
