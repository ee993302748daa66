"""Crash consistency of the API server: an object is committed only once persisted, the port
survives a restart, a restart shows in the containers' status as on a real node, and after a
``kill -9`` resourceVersions go on from above every one handed out before."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from labkit.apiserver import journal as journal_mod

from .conftest import Lab

PODS = "/api/v1/namespaces/default/pods"


def pod(name):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_an_object_that_could_not_be_persisted_is_not_committed(lab, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(journal_mod, "append", broken)
    code, _, _ = lab.request("POST", PODS, pod("lost"))
    monkeypatch.undo()
    assert code == 500
    assert lab.request("GET", f"{PODS}/lost")[0] == 404
    assert [p["metadata"]["name"] for p in lab.request("GET", PODS)[2]["items"]] == []
    assert lab.request("POST", PODS, pod("kept"))[0] == 201


def test_a_restart_keeps_the_port_and_counts_container_restarts(tmp_path):
    first = Lab(tmp_path).start()
    try:
        assert first.request("POST", PODS, pod("p"))[0] == 201
        first.wait_for(lambda: first.request("GET", f"{PODS}/p")[2]["status"].get("phase")
                       == "Running", what="p running")
        port = first.server.port
    finally:
        first.stop()
    second = Lab(tmp_path).start()
    try:
        assert second.server.port == port            # a kubeconfig copied elsewhere still works

        def restarted():
            statuses = second.request("GET", f"{PODS}/p")[2]["status"].get("containerStatuses")
            return statuses if statuses and statuses[0]["restartCount"] == 1 else None
        status = second.wait_for(restarted, what="the restart counted")[0]
        assert status["lastState"]["terminated"]["reason"] == "Unknown"
        assert "running" in status["state"]
        events = second.request("GET", "/api/v1/namespaces/default/events")[2]["items"]
        assert any(e["reason"] == "SandboxChanged" for e in events)
    finally:
        second.stop()


def test_the_state_is_readable_by_root_only(lab):
    assert lab.request("POST", PODS, pod("secret"))[0] == 201
    state = lab.server.state_dir
    for path in [state, *state.rglob("*")]:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:       # a temporary file the store's writer renamed meanwhile
            continue
        if path.is_dir() or "journal" in path.parts or path.name == "token":
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"    # (certificates are public)


def test_a_name_of_253_characters_is_stored_and_reloaded(tmp_path):
    first = Lab(tmp_path).start()
    name = "b" * 253
    try:
        assert first.request("POST", PODS, pod(name))[0] == 201
    finally:
        first.stop()
    second = Lab(tmp_path).start()
    try:
        assert second.request("GET", f"{PODS}/{name}")[0] == 200
    finally:
        second.stop()


# The API server alone in a process of its own (LocalRuntime: no data plane), for a real crash.
SERVER = """
import sys, time
from pathlib import Path
from labkit.apiserver import ApiServer, LocalRuntime
root = Path(sys.argv[1])
server = ApiServer(root / "state", LocalRuntime(), name="crashlab").start_in_thread()
server.write_kubeconfig(root / "kubeconfig.tmp")
(root / "kubeconfig.tmp").rename(root / "kubeconfig")
time.sleep(3600)
"""


def _server(root):
    (root / "kubeconfig").unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(root)])
    deadline = time.monotonic() + 60
    while not (root / "kubeconfig").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.1)
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=str(root / "kubeconfig"))
    return proc, client.CoreV1Api(api), client.AppsV1Api(api)


def test_resource_versions_go_on_from_above_after_kill_9(tmp_path):
    from kubernetes import client, watch
    from kubernetes.client.rest import ApiException

    proc, core, apps = _server(tmp_path)
    try:
        labels = {"app": "crash"}
        apps.create_namespaced_deployment("default", {
            "metadata": {"name": "crash"}, "spec": {
                "replicas": 30, "selector": {"matchLabels": labels}, "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        # The controllers write pods, their status and Events from the store's writer thread: the
        # last resourceVersions handed out may not be on disk when the process dies.
        seen = 0
        deadline = time.monotonic() + 60
        while seen < 150 and time.monotonic() < deadline:
            seen = max(seen, int(core.list_namespaced_pod("default").metadata.resource_version),
                       int(core.list_namespaced_event("default").metadata.resource_version))
        assert seen >= 150, seen
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    proc, core, apps = _server(tmp_path)
    try:
        made = core.create_namespaced_pod("default", pod("after"))
        assert int(made.metadata.resource_version) > seen
        listed = core.list_namespaced_pod("default")
        assert int(listed.metadata.resource_version) > seen
        assert all(int(p.metadata.resource_version) <= int(listed.metadata.resource_version)
                   for p in listed.items)
        # a watch from a resourceVersion of before the crash: 410 Gone, as upstream's once
        # etcd compacted it (the client lists again)
        with pytest.raises(ApiException) as gone:
            for event in watch.Watch().stream(core.list_namespaced_pod, "default",
                                              resource_version=str(seen), timeout_seconds=5):
                if event["type"] == "ERROR":
                    raise ApiException(status=event["raw_object"].get("code"))
        assert gone.value.status == 410
        assert isinstance(made, client.V1Pod)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
