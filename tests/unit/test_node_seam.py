"""The node seam's two rules: every seam refuses a write before anything runs (one place:
``nodes.ReadOnlySeam``), and exec in a pod streams on each thread's own API client."""
import subprocess
import threading

import pytest

from labkit import nodes
from labkit.errors import BadInput


class Untouchable:
    """An API client that fails the test if anything uses it."""

    def __getattr__(self, name):
        raise AssertionError(f"the API was used ({name}) for a refused command")


@pytest.fixture
def no_process(monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a) or pytest.fail(f"ran {a}"))
    return started


SEAMS = {
    "netns": lambda: nodes.NetnsAccess("kubenet-worker", "kubenet-worker"),
    "lab api": lambda: nodes.LabApiAccess(Untouchable(), "kubenet-worker"),
    "docker": lambda: nodes.DockerExecAccess("kind-worker"),
    "probe pod": lambda: nodes.ProbePodAccess(Untouchable(), "kind-worker"),
}


@pytest.mark.parametrize("seam", SEAMS)
@pytest.mark.parametrize("argv", [["ip", "route", "flush", "all"], ["nft", "flush", "ruleset"], ["sh", "-c", "id"]])
def test_every_seam_refuses_a_write_before_running_anything(no_process, seam, argv):
    access = SEAMS[seam]()
    assert isinstance(access, nodes.ReadOnlySeam)
    with pytest.raises(BadInput) as err:
        access.run(argv)
    assert err.value.key == "nodes.not_read_only" and access.name in str(err.value)
    assert no_process == []


def test_a_local_namespace_runs_what_the_rule_allows(monkeypatch):
    seen = []

    def run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "[]", "")

    monkeypatch.setattr(subprocess, "run", run)
    assert nodes.NetnsAccess("kubenet-worker", "kubenet-worker").run(["ip", "-j", "route", "show"]) == "[]"
    assert seen == [["nsenter", "--net=/run/netns/kubenet-worker", "ip", "-j", "route", "show"]]


def test_exec_streams_on_one_client_per_thread():
    from kubernetes import client

    shared = client.ApiClient(client.Configuration())
    here = nodes.thread_client(shared)
    assert here is nodes.thread_client(shared) and here is not shared
    assert here.configuration is shared.configuration
    others = []
    threads = [threading.Thread(target=lambda: others.append(nodes.thread_client(shared))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in [here, *others]}) == 4


def test_acting_in_a_lab_namespace_enters_it_as_a_node_or_as_a_pod(monkeypatch):
    seen = []

    def run(cmd, **kwargs):
        seen.append((cmd, kwargs.get("input")))
        return subprocess.CompletedProcess(cmd, 0, "ok", "")

    monkeypatch.setattr(subprocess, "run", run)
    assert nodes.LabNetns("worker", "h21-worker").call(["nft", "-f", "-"], input="flush ruleset").stdout == "ok"
    nodes.LabNetns("demo/client", "h21-pod-1", pod=True).call(["nc", "-N", "10.0.0.1", "80"])
    assert seen == [(["nsenter", "--net=/run/netns/h21-worker", "nft", "-f", "-"], "flush ruleset"),
                    (["ip", "netns", "exec", "h21-pod-1", "nc", "-N", "10.0.0.1", "80"], None)]
    # reading the same namespace goes through the read-only seam
    with pytest.raises(BadInput):
        nodes.LabNetns("worker", "h21-worker").reader().run(["nft", "flush", "ruleset"])


def test_a_stream_hands_output_as_it_comes_and_ends_at_stop():
    stream = nodes.Stream(["sh", "-c", "echo listening on any >&2; echo first; exec sleep 30"])
    assert stream.wait_until(lambda: any("listening on" in ln for ln in stream.err), 10)
    assert stream.wait_until(lambda: b"first\n" in stream.out, 10)
    assert not stream.ended
    assert stream.stop() == b"first\n" and stream.ended


def test_a_stream_that_ends_stops_the_wait_with_what_it_wrote():
    stream = nodes.Stream(["sh", "-c", "echo partial; echo broken >&2; exit 1"])
    assert not stream.wait_until(lambda: b"never" in stream.out, 30)   # returns when the process ends
    assert stream.ended and stream.text() == "partial\n" and stream.err == ["broken"]


def test_a_pod_read_through_the_api_obeys_the_read_only_rule(monkeypatch):
    from labkit.exercises import pods

    calls = []
    monkeypatch.setattr(pods, "pod_exec", lambda cluster, ns, pod, argv: calls.append((ns, pod, list(argv))) or "[]")
    access = pods.pod_access(object(), "nb02/a1")
    assert access.run(["ip", "-j", "addr", "show"]) == "[]"
    with pytest.raises(BadInput) as err:
        access.run(["ip", "route", "flush", "all"])
    assert err.value.key == "nodes.not_read_only" and "nb02/a1" in str(err.value)
    assert calls == [("nb02", "a1", ["ip", "-j", "addr", "show"])]
