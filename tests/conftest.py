"""Shared test setup: markers by folder, and lab tests skipped, with the reason, when not root.

Tests are organised by what they need; the folder says it, and this hook marks each test so that
``pytest -m "not lab"`` (an ordinary user, no network namespaces) runs everything else:

- ``tests/unit/``: nothing but Python (the pure packages, recorded fixtures, temporary files);
- ``tests/apiserver/``: the lab API server in-process, the real ``kubectl`` when installed;
- ``tests/browser/``: Chromium (``browser``); those that also start a lab carry ``lab`` themselves;
- ``tests/lab/``, ``tests/notebooks/``: root and the real kernel (``lab``).
"""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path.insert(0, str(ROOT))

# first folder under tests/ -> markers every test in it gets
FOLDER_MARKERS = {
    "lab": ("lab",),
    "notebooks": ("lab",),
    "browser": ("browser",),
}


def folder_markers(path: Path) -> tuple[str, ...]:
    try:
        first = Path(path).resolve().relative_to(TESTS).parts[0]
    except (ValueError, IndexError):
        return ()
    return FOLDER_MARKERS.get(first, ())


@pytest.hookimpl(tryfirst=True)       # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in folder_markers(item.path):
            item.add_marker(getattr(pytest.mark, name))
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces): run `sudo make test`")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(skip)
