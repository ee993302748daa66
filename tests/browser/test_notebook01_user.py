"""Notebook 01 as a learner runs it: JupyterLab and its kernel as an ordinary user (``sudo make lab``).

The kernel is not root, yet the node proofs hold and print the address the other side saw: node to
node and node to pod without NAT, a pod to its own node without NAT, and to another node SNATed to
its node's address (kindnet), all through the lab daemon's ``peer`` flow. The whole notebook runs
(the learner version: the exercise checks say "not yet"), and screenshots of the pod diagram and
of the proofs go to ``test-output/``.

The interpreter must be runnable by the user: this one, or ``LABKIT_USER_PYTHON`` (a venv of
Debian's ``/usr/bin/python3`` when this one lives under ``/root``, mode 700).
"""
from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import (
    CHROMIUM,
    NO_CHROMIUM,
    OUTPUT,
    ROOT,
    learner_fixtures,
    open_notebook,
    wait_idle,
)

LAB = "tnb01usr"
USER = "tklearn01"
NOTEBOOK = ROOT / "notebooks" / "en" / "01-network-model.ipynb"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(480),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


learner, jupyter, page = learner_fixtures(USER, LAB, "en/01-network-model.ipynb")


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def test_a_learner_sees_the_node_proofs_hold_without_root(page):
    open_notebook(page, "notebook01-user-not-open")
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    for _ in range(len(cells) - 1):                  # every cell, down to the clean-up
        page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function("() => document.body.textContent.includes('SNAT to the pod')", timeout=240_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook01-user-no-proofs.png"))
        raise
    wait_idle(page, 240_000)
    text = _outputs(page)
    assert "Traceback" not in text, text[-3000:]
    assert re.search(r"saw the connection come from 172\.\d+\.\d+\.\d+: claim holds", text), text[-3000:]
    assert re.search(r"the pod saw 172\.\d+\.\d+\.\d+ \(no NAT\): claim holds", text), text[-3000:]
    # pod and node addresses: the lab's ranges (10.244/16 and 172.18/16 unless other labs hold them)
    assert re.search(r"-worker2: the node saw 10\.\d+\.\d+\.\d+ \(no NAT\): claim holds", text), text[-3000:]
    assert re.search(r"-worker: the node saw 172\.\d+\.\d+\.\d+ \(SNAT to the pod's node\)", text), text[-3000:]
    assert re.search(r"the server saw the connection come from 10\.\d+\.", text)  # pod to pod, no NAT
    try:     # the Multus cell, after the proofs: both pods have net1 and ping over it (kernel not root)
        page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                               ".some(o => o.textContent.includes('packet loss'))", timeout=120_000)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook01-user-no-multus.png"))
        raise
    wait_idle(page, 120_000)
    text = _outputs(page)
    assert " 0% packet loss" in text and len(re.findall(r"net1@\S+\s+UP\s+192\.168\.100\.", text)) == 2, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    proofs = page.locator(".jp-OutputArea-output", has_text="SNAT to the pod").first
    proofs.scroll_into_view_if_needed()
    shot = OUTPUT / "notebook01-proofs-as-user.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_labkit_jupyter_says_when_the_learner_cannot_save(jupyter, learner):
    """JupyterLab opens a notebook its user cannot write read-only ("notebook is read-only": nothing
    can be saved). A learner's own clone is theirs; this checkout is root's, and `labkit jupyter`
    says so, with the fix."""
    import os

    from labkit.cli.jupyter import unwritable

    locked = unwritable(ROOT / "notebooks", learner.pw_uid, set(os.getgrouplist(learner.pw_name, learner.pw_gid)))
    said = "".join(jupyter.lines)
    assert (f"not writable by {learner.pw_name}" in said) == bool(locked), said
    if locked:
        assert f"sudo chown -R {learner.pw_name}: {ROOT / 'notebooks'}" in said
