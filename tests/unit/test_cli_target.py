"""`labkit status|probe|capture` on a kubeconfig that is not an embedded lab: the message says which
case it is and what to do, in English and French (it read "... is a cluster cluster: pass --name LAB"
when a learner's KUBECONFIG named a server that did not answer). Servers are on 127.0.0.1 only."""
from __future__ import annotations

import argparse
import re
import socket

import pytest

from labkit.cli import target
from labkit.errors import LabkitError
from tests.apikit import json_api, write_kubeconfig


def _kubeconfig(tmp_path, context: str, server: str) -> argparse.Namespace:
    path = write_kubeconfig(tmp_path / "kubeconfig", context, server)
    return argparse.Namespace(name=None, context=None, kubeconfig=str(path))


def _closed_port() -> int:
    with socket.socket() as s:          # bound, never listening: connecting is refused at once
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def plain_server():
    """A Kubernetes-like API that is not a lab: /version answers, the lab's own path is 404."""
    with json_api(lambda path: (200, {"major": "1", "minor": "31"}) if path == "/version"
                  else (404, {"kind": "Status", "code": 404})) as url:
        yield url


def _raised(args: argparse.Namespace) -> LabkitError:
    with pytest.raises(LabkitError) as caught:
        target.lab_name_from(args, "status")
    return caught.value


def _no_repeated_word(text: str) -> None:
    assert not re.search(r"\b(\w+) \1\b", text), text


def test_a_server_that_does_not_answer_is_said_so_with_what_to_do(tmp_path):
    port = _closed_port()
    err = _raised(_kubeconfig(tmp_path, "alice", f"https://127.0.0.1:{port}"))
    assert err.key == "target.not_answering" and err.exit_code == 1
    en, fr = err.message("en"), err.message("fr")
    assert f"https://127.0.0.1:{port}" in en and "does not answer (Connection refused)" in en
    assert "labkit up --name LAB" in en and "--name LAB" in fr and "ne répond pas" in fr
    for text in (en, fr):
        _no_repeated_word(text)
        assert "\n" not in text


def test_a_cluster_that_answers_but_is_no_lab(tmp_path, plain_server):
    err = _raised(_kubeconfig(tmp_path, "prod", plain_server))
    assert err.key == "target.not_a_lab" and err.exit_code == 2
    assert f"context prod ({plain_server}) is another Kubernetes cluster: pass --name LAB" in err.message("en")
    assert "est un autre cluster Kubernetes : passez --name LAB" in err.message("fr")
    for lang in ("en", "fr"):
        _no_repeated_word(err.message(lang))


def test_a_kind_cluster_is_named_once(tmp_path):
    err = _raised(_kubeconfig(tmp_path, "kind-kind", f"https://127.0.0.1:{_closed_port()}"))
    assert err.key == "target.needs_embedded"
    assert "and kind is a kind cluster: pass --name LAB" in err.message("en")
    for lang in ("en", "fr"):
        _no_repeated_word(err.message(lang))


def test_in_a_class_a_silent_own_lab_is_the_learners_lab_down(tmp_path, monkeypatch):
    from labkit.classroom.client import own_lab_down

    monkeypatch.setenv("LABKIT_LAB", "alice")
    err = _raised(_kubeconfig(tmp_path, "alice", f"https://127.0.0.1:{_closed_port()}"))
    assert own_lab_down(err, None).key == "class.own_lab_down"
