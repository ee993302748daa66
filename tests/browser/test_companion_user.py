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

import json
import os
import pwd
import re
import subprocess
import sys

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, OUTPUT, ROOT, free_port, run_first_cell, wait_idle  # noqa: E402

LAB = "tcompu"
USER = "tkcompu"
PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
NOTEBOOK = ROOT / "notebooks" / "en" / "02-pod-to-pod.ipynb"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(420),
              pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]


def _cell_index(needle: str) -> int:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and needle in "".join(c["source"]))


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
        url = None
        for line in proc.stdout:
            found = re.search(r"(http://127\.0\.0\.1:\d+/\S+token=\w+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "labkit jupyter never printed the URL"
        OUTPUT.mkdir(exist_ok=True)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1100})
            pg = context.new_page()
            base, token = re.match(r"(http://127\.0\.0\.1:\d+)/.*token=(\w+)", url).groups()
            pg.goto(f"{base}/lab/tree/en/02-pod-to-pod.ipynb?reset&token={token}")
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
        from labkit.embedded import cleanup
        assert not cleanup.lab_namespaces("tcompubr") and not cleanup.lab_namespaces("tcompufl")


def _outputs(page) -> str:
    return page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                         ".map(o => o.textContent).join('\\n')")


def test_a_learner_starts_companion_labs_and_reads_their_nodes(page, learner):
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
    except Exception:
        page.screenshot(path=str(OUTPUT / "companion-user-not-open.png"))
        raise
    last = _cell_index('pods.interfaces_table(bridge.node("worker"))')
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
