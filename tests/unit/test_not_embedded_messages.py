"""Helpers that only work on the embedded lab name the cluster they were given, in a sentence that reads
(the template "not on a {kind} cluster" read "not on a cluster cluster" for any cluster but kind)."""
from __future__ import annotations

import contextlib
import re
from types import SimpleNamespace

import pytest

from labkit.errors import LabkitError

PROD = SimpleNamespace(kind="cluster", name="prod", lab=None)


def _messages(call) -> tuple[str, str]:
    with pytest.raises(LabkitError) as info:
        call()
    return info.value.message("en"), info.value.message("fr")


def _agent():
    from labkit import agents
    agents.call(PROD, "worker", "bird", "stop")


def _bird():
    from labkit import bgp
    bgp._agent(PROD, "worker", "stop")


def _companions(monkeypatch):
    import labkit.cluster
    from labkit import companions

    monkeypatch.delenv("LABKIT_LAB", raising=False)
    monkeypatch.setattr(labkit.cluster, "connect", lambda: contextlib.nullcontext(PROD))
    companions.parent_lab()


@pytest.mark.parametrize("call", ["agent", "bird", "companions"])
def test_another_cluster_is_named_once(call, monkeypatch):
    run = {"agent": _agent, "bird": _bird, "companions": lambda: _companions(monkeypatch)}[call]
    en, fr = _messages(run)
    assert "prod" in en and "is not one" in en and "n'en est pas un" in fr
    for text in (en, fr):
        assert not re.search(r"\b(\w+) \1\b", text), text
