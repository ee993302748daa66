"""Notebook 03 as a learner runs it: JupyterLab and its kernel as an ordinary user (``sudo make lab``).

The kernel is not root, yet the observed trace names kube-proxy's chains of the endpoint that
answered and the capture draws its packets on the pod-network diagram: both go through the lab
daemon's API. The lab is started as root, then ``labkit jupyter`` under ``SUDO_USER``; cells run
one by one down to the capture's drawing, whose screenshot goes to ``test-output/``.

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

LAB = "tnb03usr"
USER = "tklearn03"
PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
NOTEBOOK = ROOT / "notebooks" / "en" / "03-pod-to-service.ipynb"

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
            pg.goto(f"{base}/lab/tree/en/03-pod-to-service.ipynb?reset&token={token}")
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


def test_a_learner_sees_the_kernel_trace_and_the_capture_drawn(page):
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
    except Exception:
        page.screenshot(path=str(OUTPUT / "notebook03-user-not-open.png"))
        raise
    last = _cell_index("captured.draw(")
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
    assert re.search(r'data-src="10\.244\.\d+\.\d+:\d+"', svg)
    page.locator("g.capture-steps").first.scroll_into_view_if_needed()
    shot = OUTPUT / "notebook03-capture-as-user.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
