"""Crash consistency of the API server: an object is committed only once persisted, the port
survives a restart, and a restart shows in the containers' status as on a real node."""
from __future__ import annotations

import os
import stat

from labkit.apiserver import store as store_mod

from .conftest import Lab

PODS = "/api/v1/namespaces/default/pods"


def pod(name):
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_an_object_that_could_not_be_persisted_is_not_committed(lab, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(store_mod, "write_atomic", broken)
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
        if path.is_dir() or "objects" in path.parts or path.name in ("token", "meta.json"):
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
