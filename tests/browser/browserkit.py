"""What the browser tests share: Debian's Chromium, where screenshots go, JupyterLab started as
root (:func:`jupyter_server`) or as an ordinary user the way ``sudo make lab`` does
(:func:`ordinary_user`, :func:`jupyter_as`), a page in the browser (:func:`browser_page`) and
driving a notebook in it."""
from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.userkit import as_user
from tests.userkit import ordinary_user as userkit_user

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
NO_CHROMIUM = "needs Debian's chromium: `make test` installs it (apt-get install chromium)"
# The interpreter an ordinary user's JupyterLab and kernels run: this one, or a venv of Debian's
# /usr/bin/python3 when this one lives under /root (mode 700), as pyenv's does.
USER_PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
JUPYTER_URL = re.compile(r"(http://127\.0\.0\.1:\d+)/\S*token=(\w+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_idle(page, timeout: float = 60_000) -> None:
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout)


def open_notebook(page, failure_shot: str) -> None:
    """Wait for the notebook and its kernel, run its first (setup) cell; on a failure, a screenshot
    ``test-output/<failure_shot>.png`` of what the page showed."""
    try:
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        run_first_cell(page)
    except Exception:
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"{failure_shot}.png"))
        raise


def code_cell_index(notebook: Path, needle: str) -> int:
    """The index (among all cells) of the first code cell of ``notebook`` whose source holds ``needle``."""
    cells = json.loads(notebook.read_text())["cells"]
    return next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and needle in "".join(c["source"]))


def run_first_cell(page) -> None:
    """Run cell 0 once the kernel takes requests: a Shift+Enter sent while the session is still
    connecting moves the selection but runs nothing, so wait until the status bar says the kernel
    is idle, then for the cell's execution count (the first cell is a hidden setup cell: it must
    run first, or later cells miss what it defines)."""
    from playwright.sync_api import TimeoutError

    page.wait_for_function("() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                           ".some(t => /\\| Idle/.test(t.textContent))", timeout=60_000)
    for _ in range(10):
        page.locator(".jp-Notebook .jp-Cell").first.click(position={"x": 10, "y": 5})
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function("() => [...document.querySelectorAll('.jp-InputPrompt')]"
                                   ".some(p => /\\[\\d+\\]/.test(p.textContent))", timeout=6_000)
            return
        except TimeoutError:
            continue
    raise AssertionError("the kernel never ran the first cell")


# --- JupyterLab: as root, or as an ordinary user the way `sudo make lab` starts it -----------------
@dataclass
class Jupyter:
    """A running JupyterLab: its address, its token and what its command printed."""

    base: str
    token: str
    lines: list[str] = field(default_factory=list)

    def url(self, notebook: str) -> str:
        """The notebook's page, in a fresh workspace (``reset``: no layout from an earlier run)."""
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"


def news_off(home: Path) -> None:
    """No "Would you like to get notified about official Jupyter news?" pop-up over the page."""
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))


def _pythonpath() -> str:
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def jupyter_server(root_dir: Path, home: Path, **env: str) -> Iterator[Jupyter]:
    """JupyterLab as root (``--allow-root``) on ``root_dir``, its home (settings, log) in ``home``,
    with ``env`` added to its environment (``LABKIT_LAB``...); stopped after."""
    import secrets

    news_off(home)
    port, token = free_port(), secrets.token_hex(16)
    environ = dict(os.environ, HOME=str(home), PYTHONPATH=_pythonpath(), **env)
    environ.pop("KUBECONFIG", None)
    log_path = home / "jupyter.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={root_dir}"],
            env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, f"jupyter lab exited:\n{log_path.read_text(errors='replace')[-3000:]}"
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("jupyter lab did not answer:\n"
                                             + log_path.read_text(errors="replace")[-3000:]) from None
                    time.sleep(0.3)
            yield Jupyter(base, token)
        finally:
            _stop(server)


@contextlib.contextmanager
def ordinary_user(name: str, python: str = USER_PYTHON) -> Iterator[pwd.struct_passwd]:
    """An ordinary user with a home, created for the test and removed after (``tests.userkit``). Skips,
    saying why, unless this is root and ``python`` (with JupyterLab and labkit) runs for that user.

    The check runs the interpreter from a shell of the user's, as JupyterLab starts its kernels:
    ``setpriv`` itself keeps root's capabilities up to its own exec, so ``setpriv python`` starts
    an interpreter under ``/root`` (mode 700) that no process of the user could start (pyenv's
    falls back to Debian's libpython and runs; its kernels then fail with EACCES)."""
    def probe(user: pwd.struct_passwd) -> subprocess.CompletedProcess:
        return subprocess.run(as_user(user, ["sh", "-c", 'exec "$0" -c "import jupyterlab, labkit"', python]),
                              capture_output=True, text=True, cwd="/", env=dict(os.environ, PYTHONPATH=str(ROOT)))

    with userkit_user(name, probe, why=f"{python} cannot be run by an ordinary user here (set LABKIT_USER_PYTHON "
                                       f"to a venv of /usr/bin/python3)") as user:
        yield user                # labkit jupyter turns JupyterLab's news pop-up off by itself


@contextlib.contextmanager
def jupyter_as(user: pwd.struct_passwd, lab: str, python: str = USER_PYTHON,
               lang: str | None = "en") -> Iterator[Jupyter]:
    """``make lab``'s two steps: the lab ``lab`` as root, then ``labkit jupyter`` under sudo for
    ``user`` (``SUDO_USER``, ``LABKIT_LANG=lang`` unless None: each notebook's own language);
    JupyterLab once it printed its URL. The lab and JupyterLab are stopped after."""
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    lifecycle.down(lab)
    proc = None
    try:
        lifecycle.up(LabSpec(name=lab))
        env = dict(os.environ, SUDO_USER=user.pw_name, LABKIT_LAB=lab, PYTHONPATH=_pythonpath())
        env.pop("KUBECONFIG", None)
        env.pop("LABKIT_LANG", None)
        if lang:
            env["LABKIT_LANG"] = lang
        proc = subprocess.Popen([python, "-m", "labkit", "jupyter", "--name", lab, "--port", str(free_port())],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:                  # the URL is printed once JupyterLab answers
            lines.append(line)
            found = JUPYTER_URL.search(line)
            if found:
                break
        else:
            raise AssertionError("labkit jupyter never printed the URL:\n" + "".join(lines[-30:]))
        yield Jupyter(found.group(1), found.group(2), lines)
    finally:
        if proc is not None:
            _stop(proc)
        lifecycle.down(lab)


@contextlib.contextmanager
def browser_page(url: str, width: int = 1400, height: int = 1100) -> Iterator:
    """``url`` in headless Debian Chromium (Playwright, never ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(url)
            yield page
            context.close()
        finally:
            browser.close()


def learner_fixtures(user: str, lab: str, notebook: str, after=None, **viewport: int) -> tuple:
    """The three module fixtures of a test of a notebook as a learner runs it (``sudo make lab``):
    ``learner`` (:func:`ordinary_user`), ``jupyter`` (:func:`jupyter_as` on the lab ``lab``; then
    ``after()`` once the lab is down) and ``page`` (``notebook`` in the browser). In the module:
    ``learner, jupyter, page = learner_fixtures(USER, LAB, "en/01-network-model.ipynb")``."""
    import pytest

    @pytest.fixture(scope="module", name="learner")
    def learner_() -> Iterator[pwd.struct_passwd]:
        with ordinary_user(user) as made:
            yield made

    @pytest.fixture(scope="module", name="jupyter")
    def jupyter_(learner: pwd.struct_passwd) -> Iterator[Jupyter]:
        with jupyter_as(learner, lab) as running:
            yield running
        if after is not None:
            after()

    @pytest.fixture(scope="module", name="page")
    def page_(jupyter: Jupyter) -> Iterator:
        with browser_page(jupyter.url(notebook), **viewport) as page:
            yield page

    return learner_, jupyter_, page_
