"""Shared test setup: lab tests need root and are skipped, with the reason, otherwise."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces): run `sudo make test`")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(skip)
