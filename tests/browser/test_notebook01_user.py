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
import os
import pwd
import re
import subprocess
import sys

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, OUTPUT, ROOT, free_port, run_first_cell, wait_idle  # noqa: E402

LAB = "tnb01usr"
USER = "tklearn01"
PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
NOTEBOOK = ROOT / "notebooks" / "en" / "01-network-model.ipynb"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(480),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


@pytest.fixture(scope="module")
def learner():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, a test user): run `sudo make test`")
    created = subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], capture_output=True, text=True)
    assert created.returncode in (0, 9), created.stderr
    user = pwd.getpwnam(USER)
    probe = subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
                            PYTHON, "-c", "import jupyterlab, labkit"], capture_output=True, text=True, cwd="/",
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if probe.returncode != 0:
        subprocess.run(["userdel", "-r", USER], capture_output=True)
        pytest.skip(f"{PYTHON} cannot be run by an ordinary user here (set LABKIT_USER_PYTHON): "
                    f"{probe.stderr.strip()[-120:]}")
    yield user
    subprocess.run(["userdel", "-r", USER], capture_output=True)


@pytest.fixture(scope="module")
def page(learner):
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    lifecycle.down(LAB)
    lifecycle.up(LabSpec(name=LAB))
    port = free_port()
    env = dict(os.environ, SUDO_USER=learner.pw_name, LABKIT_LANG="en", LABKIT_LAB=LAB,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("KUBECONFIG", None)
    proc = subprocess.Popen([PYTHON, "-m", "labkit", "jupyter", "--name", LAB, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url, lines = None, []
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/\S+token=\w+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "labkit jupyter never printed the URL:\n" + "".join(lines)[-2000:]
        OUTPUT.mkdir(exist_ok=True)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1100})
            pg = context.new_page()
            base, token = re.match(r"(http://127\.0\.0\.1:\d+)/.*token=(\w+)", url).groups()
            pg.goto(f"{base}/lab/tree/en/01-network-model.ipynb?reset&token={token}")
            yield pg
            context.close()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        lifecycle.down(LAB)


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def test_a_learner_sees_the_node_proofs_hold_without_root(page):
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook01-user-not-open.png"))
        raise
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
    assert re.search(r"-worker2: the node saw 10\.244\.\d+\.\d+ \(no NAT\): claim holds", text), text[-3000:]
    assert re.search(r"-worker: the node saw 172\.\d+\.\d+\.\d+ \(SNAT to the pod's node\)", text), text[-3000:]
    assert "the server saw the connection come from 10.244." in text         # pod to pod, no NAT
    proofs = page.locator(".jp-OutputArea-output", has_text="SNAT to the pod").first
    proofs.scroll_into_view_if_needed()
    shot = OUTPUT / "notebook01-proofs-as-user.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
