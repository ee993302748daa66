"""What the browser tests share: Debian's Chromium, where screenshots go, and driving JupyterLab."""
from __future__ import annotations

import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
NO_CHROMIUM = "needs Debian's chromium: `make test` installs it (apt-get install chromium)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_idle(page, timeout: float = 60_000) -> None:
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout)


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
