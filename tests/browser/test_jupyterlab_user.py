"""JupyterLab as ``sudo make lab`` starts it: the lab as root, JupyterLab and kernels as the user.

The test creates an ordinary user, starts the lab (root), then ``labkit jupyter`` with
``SUDO_USER`` set to that user, exactly the command the Makefile's ``lab`` target runs. In headless
Debian Chromium it opens notebook 00, runs it down to the live diagram and checks what the learner
sees: the kernel's ``os.getuid()`` is the user's (not 0) and the live diagram draws the lab's nodes,
read through the lab daemon's API. A screenshot goes to ``test-output/``.
"""
from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")
pytest.importorskip("jupyterlab", reason="needs JupyterLab: pip install -e .")

from .browserkit import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, OUTPUT, ROOT, free_port, run_first_cell, wait_idle  # noqa: E402

LAB = "tjlusr"
USER = "tklearner"
LIVE_CELL = 11            # `view = labkit.live.show("overview", cluster)` in en/00-welcome.ipynb

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300),
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason=NO_CHROMIUM)]



@pytest.fixture(scope="module")
def learner():
    """An ordinary user with a home, created for the test and removed after."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, a test user): run `sudo make test`")
    created = subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], capture_output=True, text=True)
    assert created.returncode in (0, 9), created.stderr          # 9: exists (an earlier run)
    user = pwd.getpwnam(USER)
    # Kernels are started by the user's JupyterLab with this interpreter: it must be theirs to run
    probe = subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
                            "sh", "-c", f"{sys.executable} -c 'import jupyterlab'"], capture_output=True, text=True)
    if probe.returncode != 0:
        subprocess.run(["userdel", "-r", USER], capture_output=True)
        pytest.skip(f"{sys.executable} cannot be run by an ordinary user here: {probe.stderr.strip()[:120]}")
    settings = Path(user.pw_dir) / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    subprocess.run(["chown", "-R", f"{USER}:", user.pw_dir], check=True)
    yield user
    subprocess.run(["userdel", "-r", USER], capture_output=True)


@pytest.fixture(scope="module")
def jupyter(learner, tmp_path_factory):
    """``make lab``'s two steps: the lab as root, then ``labkit jupyter`` under sudo for the user."""
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    lifecycle.down(LAB)
    lifecycle.up(LabSpec(name=LAB))
    port = free_port()
    env = dict(os.environ, SUDO_USER=learner.pw_name, LABKIT_LANG="en",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("KUBECONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "jupyter", "--name", LAB, "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:                  # the URL is printed once JupyterLab answers
            lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/\S+token=\w+)", line)
            if found:
                break
        else:
            raise AssertionError("labkit jupyter never printed the URL:\n" + "".join(lines[-30:]))
        assert any(f"run as {USER}" in l for l in lines), lines
        yield found.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        lifecycle.down(LAB)


@pytest.fixture(scope="module")
def page(jupyter):
    OUTPUT.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(jupyter.replace("?token", "?reset&token"))
        yield page
        context.close()
        browser.close()


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
