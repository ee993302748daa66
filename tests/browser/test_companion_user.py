"""Notebook 02's companion labs as a learner gets them: JupyterLab and its kernel as an ordinary user.

The kernel is not root, yet ``labkit.companion("bridge")`` and ``("flannel")`` start two small labs
(the lab's daemon builds them) and the next cell shows the bridge lab's node with its ``cni0``,
read through that lab's API. The lab is started as root, then ``labkit jupyter`` under
``SUDO_USER`` (``make lab``'s two steps); cells run one by one down to that table, whose screenshot
goes to ``test-output/``. The lab's ``down`` removes the companions.

The interpreter must be runnable by the user: this one, or ``LABKIT_USER_PYTHON`` (a venv of
Debian's ``/usr/bin/python3`` when this one lives under ``/root``, mode 700).
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
    code_cell_index,
    learner_fixtures,
    open_notebook,
    wait_idle,
)

LAB = "tcompu"
USER = "tkcompu"
NOTEBOOK = ROOT / "notebooks" / "en" / "02-pod-to-pod.ipynb"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(420),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


def _companions_gone() -> None:
    from labkit.embedded import cleanup  # the lab's down removed its companions

    assert not cleanup.lab_namespaces("tcompubr") and not cleanup.lab_namespaces("tcompufl")


learner, jupyter, page = learner_fixtures(USER, LAB, "en/02-pod-to-pod.ipynb", after=_companions_gone)


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def test_a_learner_starts_companion_labs_and_reads_their_nodes(page, learner):
    open_notebook(page, "companion-user-not-open")
    last = code_cell_index(NOTEBOOK, 'pods.interfaces_table(bridge.node("worker"))')
    for _ in range(last):
        page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                               ".some(o => o.textContent.includes('cni0'))", timeout=240_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "companion-user-no-table.png"))
        raise
    wait_idle(page, 120_000)
    text = _outputs(page)
    assert "companion lab tcompubr (the bridge CNI flavor, 2 nodes) runs beside tcompu" in text, text[-3000:]
    assert "companion lab tcompufl" in text and "Traceback" not in text and "Error" not in text, text[-3000:]
    owner = os.stat(f"{learner.pw_dir}/.kube/labkit-tcompubr.yaml").st_uid   # the daemon's copy, theirs
    assert owner == learner.pw_uid != 0
    page.get_by_text("companion lab tcompubr").first.scroll_into_view_if_needed()
    shot = OUTPUT / "notebook02-companions-as-user.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
