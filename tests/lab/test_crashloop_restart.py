"""A crash-looping container across a restart of the lab's daemon (``kill -9`` then ``labkit
up``): the pod never shows it running or ready while it waits in CrashLoopBackOff, its restart
count goes on from where it was, and the back-off goes on doubling instead of starting over.

Every status the API held after the restart is checked in order (the list, then the watch from
it): no timing is asserted, only what the statuses say and in which order.
"""
from __future__ import annotations

import os
import signal

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file, pid_file

from .helpers import labkit

NAME = "tbackoff"
POD = {"metadata": {"name": "loop"}, "spec": {"restartPolicy": "Always", "containers": [
    {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 1"]}]}}


@pytest.fixture
def core():
    from kubernetes import client, config

    lifecycle.down(NAME)
    labkit("up", "--name", NAME, check=True)

    def connect():
        return client.CoreV1Api(config.new_client_from_config(
            config_file=str(kubeconfig_file(NAME))))
    yield connect
    lifecycle.down(NAME)


def container(pod: dict) -> dict:
    return ((pod.get("status") or {}).get("containerStatuses") or [{}])[0]


def ready(pod: dict) -> str | None:
    return next((c["status"] for c in (pod.get("status") or {}).get("conditions") or []
                 if c["type"] == "Ready"), None)


def backing_off(pod: dict) -> str:
    return ((container(pod).get("state") or {}).get("waiting") or {}).get("message", "")


def statuses_until(core, done, seconds: int = 90) -> list[dict]:
    """The pod as listed, then as each watch event showed it, until ``done(pod)``."""
    from kubernetes import watch

    listed = core.list_namespaced_pod("default", _preload_content=False)
    import json
    body = json.loads(listed.data)
    pods = [p for p in body["items"] if p["metadata"]["name"] == "loop"]
    if pods and done(pods[0]):
        return pods
    for event in watch.Watch().stream(core.list_namespaced_pod, "default",
                                      resource_version=body["metadata"]["resourceVersion"],
                                      timeout_seconds=seconds):
        pod = event["raw_object"]
        if event["type"] == "ERROR" or pod["metadata"]["name"] != "loop":
            continue
        pods.append(pod)
        if done(pod):
            return pods
    raise AssertionError(f"not reached in {seconds} s; last: {container(pods[-1]) if pods else None}")


def test_a_crash_looping_container_keeps_its_back_off_across_a_daemon_restart(core):
    api = core()
    api.create_namespaced_pod("default", POD)
    before = statuses_until(api, lambda p: backing_off(p).startswith("back-off 10s"))[-1]
    assert container(before)["restartCount"] == 1          # at once the first time, then 10 s

    os.kill(int(pid_file(NAME).read_text()), signal.SIGKILL)
    labkit("up", "--name", NAME, check=True)

    after = statuses_until(core(), lambda p: backing_off(p).startswith("back-off 20s"))
    seen = [(container(p).get("restartCount"), next(iter(container(p).get("state") or {}), None),
             container(p).get("ready"), ready(p), p["status"].get("phase")) for p in after]
    waited = [s for s in seen if s[0] == 1]
    # while it waits out the back-off of before the restart: waiting, not ready, phase Running
    assert waited and all(s[1:] == ("waiting", False, "False", "Running") for s in waited), seen
    # then one restart, counted once, after the container's own end (exit 1, not "Unknown")
    counts = [s[0] for s in seen]
    assert counts == sorted(counts) and set(counts) == {1, 2}, seen
    restarted = next(p for p in after if container(p)["restartCount"] == 2)
    assert container(restarted)["lastState"]["terminated"]["exitCode"] == 1
    assert container(restarted)["lastState"]["terminated"]["reason"] == "Error"
    # and the back-off doubled (20 s) instead of starting over (at once, then 10 s)
    assert not any(backing_off(p).startswith("back-off 10s") for p in after[len(waited):])
