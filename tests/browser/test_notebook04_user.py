"""Notebook 04 as a learner sees it: JupyterLab and its kernel as an ordinary user (``sudo make lab``).

The instructor build (solutions as code cells, so every section has its policies) runs in
JupyterLab down to the clean-up cell, with a kernel that is not root: the ``nopol`` companion lab
comes from the lab's daemon, its probe warns that nothing enforces policies while the learner's
lab denies; the capstone's trace is allowed, then denied at the policy layer. Screenshots of the
live policy view, the cell without a policy controller and the capstone go to ``test-output/``.

The interpreter must be runnable by the user: this one, or ``LABKIT_USER_PYTHON``.
"""
from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install -e '.[test]'")

from .browserkit import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM, OUTPUT, ROOT, free_port, run_first_cell, wait_idle  # noqa: E402

LAB = "tnb04usr"
USER = "tklearn04"
PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
BUILT = ROOT / "notebooks" / "en" / "04-network-policies.learner-test.ipynb"     # removed after the test

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
    import nbformat

    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec
    from labkit.notebook_build import build

    src = ROOT / "notebooks" / "src" / "04-network-policies.py"
    built = build(src.read_text(), "en", f"src/{src.name}", instructor=True)
    shipped = nbformat.read(ROOT / "notebooks" / "en" / "04-network-policies.ipynb", as_version=4)
    built.metadata = shipped.metadata                 # its kernelspec: no "Select Kernel" dialog
    nbformat.write(built, BUILT)
    os.chown(BUILT, learner.pw_uid, learner.pw_gid)
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
            pg.goto(f"{base}/lab/tree/en/{BUILT.name}?reset&token={token}")
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
