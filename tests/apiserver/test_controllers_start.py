"""The controllers read the message catalog when they start, not in their first pass.

The first pass that wrote an Event read it (~150 ms), and the pass after it waits as long as the
pass took: a learner's first Deployment got its pod ~300 ms after ``kubectl create deployment``
returned, and ``kubectl wait -l app=...`` run right after found no pod.
"""
from __future__ import annotations

from labkit import i18n

from .conftest import Lab


def test_the_catalog_is_read_before_the_first_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "_loaded", False)
    lab = Lab(tmp_path).start()
    try:
        assert i18n._loaded
    finally:
        lab.stop()
