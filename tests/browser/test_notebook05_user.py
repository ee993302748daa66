"""Notebook 05's live comparison as a learner runs it: JupyterLab and its kernel as an ordinary user.

The setup cell, then the comparison cell alone (``compare.run``): a progress line in the notebook's
language while it runs (screenshot), then the table of the three stacks and the plot (screenshot),
in English, then in French, where the companions kept running by the English run are reused (the
summary line says they were already running). Screenshots go to ``test-output/``. The lab's ``down``
removes the companions. The user and the interpreter: ``browserkit.ordinary_user``.
"""
from __future__ import annotations

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    NO_CHROMIUM,
    OUTPUT,
    ROOT,
    code_cell_index,
    jupyter_as,
    ordinary_user,
    run_first_cell,
    wait_idle,
)

LAB = "tnbcmp"
USER = "tkcmp05"
DONE = {"en": "3 stacks measured in", "fr": "3 piles mesurées en"}
RUNNING = {"en": "Stack 1 of 3", "fr": "Pile 1 sur 3"}

pytestmark = [pytest.mark.lab, pytest.mark.timeout(420),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


def _cell_index(lang: str, needle: str) -> int:
    return code_cell_index(ROOT / "notebooks" / lang / "05-network-stacks.ipynb", needle)


def _companions_gone() -> None:
    from labkit.embedded import cleanup  # the lab's down removed its companions

    assert not cleanup.lab_namespaces(f"{LAB}ca") and not cleanup.lab_namespaces(f"{LAB}eb")


@pytest.fixture(scope="module")
def learner():
    with ordinary_user(USER) as user:
        yield user


@pytest.fixture(scope="module")
def jupyter(learner):
    """JupyterLab as the learner (``make lab``'s two steps) and a browser: (browser, base, token)."""
    with jupyter_as(learner, LAB, lang=None) as running:   # EN, then FR
        OUTPUT.mkdir(exist_ok=True)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield browser, running.base, running.token
            finally:
                browser.close()
    _companions_gone()


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_comparison_cell_shows_progress_then_the_three_stacks(jupyter, lang):
    browser, base, token = jupyter
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(f"{base}/lab/tree/{lang}/05-network-stacks.ipynb?reset&token={token}")
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
        wait_idle(page, 60_000)
        for needle in ("LAB = os.environ", "compare.run("):    # the notebook's setup cell, then the comparison
            index = _cell_index(lang, needle)
            page.evaluate("(i) => document.querySelectorAll('.jp-Notebook .jp-Cell')[i].scrollIntoView()", index)
            page.locator(".jp-Notebook .jp-Cell").nth(index).click(position={"x": 40, "y": 8})   # its prompt
            page.keyboard.press("Shift+Enter")
            if needle.startswith("LAB"):
                page.wait_for_timeout(500)
                wait_idle(page, 60_000)
        page.wait_for_function("(t) => [...document.querySelectorAll('.jp-OutputArea-output')]"
                               ".some(o => o.textContent.includes(t))", arg=RUNNING[lang], timeout=60_000)
        page.screenshot(path=str(OUTPUT / f"notebook05-compare-running-{lang}.png"))
        page.wait_for_function("(t) => [...document.querySelectorAll('.jp-OutputArea-output')]"
                               ".some(o => o.textContent.includes(t))", arg=DONE[lang], timeout=240_000)
        wait_idle(page, 60_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / f"notebook05-compare-failed-{lang}.png"))
        raise
    text = _outputs(page)
    assert "Traceback" not in text and "Error" not in text, text[-3000:]
    assert all(s in text for s in ("kindnet + iptables", "calico + iptables", "kindnet + ebpf")), text[-3000:]
    rows = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output table tr')].slice(1, 7)"
                         ".map(r => [...r.querySelectorAll('td')].map(td => td.textContent))")
    figures = [[float(v.replace("\u202f", "").replace(",", ".")) for v in r] for r in rows]   # 0,606 in French
    assert len(rows) == 6 and all(len(r) == 3 and all(v > 0 for v in r) for r in figures), (lang, rows)
    if lang == "fr":
        assert any("," in v for r in rows for v in r), rows
    assert text.count("(5/5)") >= 2, text[-3000:]        # kube-proxy's and the socket LB's Service still answer
    summary = next(line for line in text.splitlines() if DONE[lang] in line)
    if lang == "fr":              # the English run left the companions running: reused, not started again
        assert "labs compagnons déjà en marche" in summary, summary
    page.evaluate("(i) => document.querySelectorAll('.jp-Notebook .jp-Cell')[i].scrollIntoView()",
                  _cell_index(lang, "compare.run("))
    shot = OUTPUT / f"notebook05-compare-{lang}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    context.close()
