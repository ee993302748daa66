"""The kubelet's Events of a crash loop: BackOff while a container waits, Pulled/Created/Started
again at every restart, counted on the first ones (client-go's aggregation), and Killing only
for a container that runs (no root: the processes are not started)."""
from __future__ import annotations

import asyncio
import copy
import time

from labkit.apiserver import container_status as cs
from labkit.apiserver import objects
from labkit.apiserver.api import EVENTS, NAMESPACES, PODS, Api
from labkit.apiserver.kubelet import Kubelet
from labkit.apiserver.runtime import LocalRuntime
from labkit.apiserver.store import Store
from labkit.embedded import processes as pr


def _api() -> Api:
    api = Api(Store(), objects.ServiceAddresses())
    api.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": "default"}})
    return api


def _running_pod(api: Api) -> dict:
    pod = api.create(PODS, "default", {"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": "loop"},
                                       "spec": {"containers": [{"name": "c", "image": "busybox",
                                                                "command": ["false"]}]}})
    new = copy.deepcopy(pod)
    new["spec"]["nodeName"] = "lab-worker"
    new["status"] = {"phase": "Running", "conditions": [], "containerStatuses": [
        {"name": "c", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": "t"}}}]}
    return api.store.put(PODS, new)


def _events(api: Api, reason: str) -> list[dict]:
    return [e for e in api.store.list(EVENTS) if e["reason"] == reason]


def test_the_same_event_again_is_counted_on_the_first_one():
    api = _api()
    pod = _running_pod(api)
    for _ in range(3):
        api.event(pod, "BackOff", "m", "kubelet", "Warning", "n", field_path="spec.containers{c}")
    api.event(pod, "BackOff", "other", "kubelet", "Warning", "n", field_path="spec.containers{c}")
    events = sorted(_events(api, "BackOff"), key=lambda e: e["message"])
    assert [(e["message"], e["count"]) for e in events] == [("m", 3), ("other", 1)]
    first = events[0]
    assert first["firstTimestamp"] <= first["lastTimestamp"]
    # once removed (the Event TTL), the next one starts a new count
    api.remove(EVENTS, first)
    api.event(pod, "BackOff", "m", "kubelet", "Warning", "n", field_path="spec.containers{c}")
    assert sorted(e["count"] for e in _events(api, "BackOff")) == [1, 1]


def test_back_off_and_restart_events_name_the_container_as_upstream():
    api = _api()
    pod = _running_pod(api)
    kubelet = Kubelet(api, LocalRuntime(), "en")
    uid = pod["metadata"]["uid"]
    kubelet.container_event("default", "loop", uid, "c", "back-off")
    kubelet.container_event("default", "loop", uid, "c", "back-off")
    kubelet.container_event("default", "loop", uid, "c", "restarted")
    kubelet.container_event("default", "loop", "another-uid", "c", "back-off")   # a gone pod
    (back_off,) = _events(api, "BackOff")
    assert back_off["type"] == "Warning" and back_off["count"] == 2
    assert back_off["message"] == f"Back-off restarting failed container c in pod loop_default({uid})"
    assert back_off["involvedObject"]["fieldPath"] == "spec.containers{c}"
    assert back_off["source"] == {"component": "kubelet", "host": "lab-worker"}
    assert [e["message"] for e in _events(api, "Started")] == ["Started container c"]


def test_killing_only_for_running_containers():
    api = _api()
    pod = _running_pod(api)
    kubelet = Kubelet(api, LocalRuntime())
    kubelet.started.add(pod["metadata"]["uid"])
    waiting = cs.back_off(cs.terminated(pod, "c", 1, final=False), "c", 10)

    async def stop(p: dict) -> None:
        await kubelet._stop(p, remove=True)
    asyncio.run(stop(waiting))
    assert _events(api, "Killing") == []
    kubelet.started.add(pod["metadata"]["uid"])
    asyncio.run(stop(pod))
    assert [e["message"] for e in _events(api, "Killing")] == ["Stopping container c"]


def test_the_process_manager_reports_back_off_while_waiting_then_the_restart(monkeypatch):
    monkeypatch.setattr(pr, "BACKOFF_FIRST", 0.25)
    monkeypatch.setattr(pr, "BACKOFF_RESYNC", 0.1)
    seen: list[tuple] = []

    async def scenario():
        manager = pr.ProcessManager()
        manager.event_sink = lambda *args: seen.append(args)
        pod = {"metadata": {"name": "p", "namespace": "default", "uid": "u"},
               "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["false"]}]},
               "status": {}}
        process = pr.ContainerProcess(manager, pod, pod["spec"]["containers"][0], "no-netns",
                                      manager.buffer("u", "c"))
        started = asyncio.Event()

        async def start() -> None:          # no process: only what the manager reports
            started.set()
        process.start = start               # type: ignore[method-assign]
        manager.containers[process.key] = process
        process.restarts = 1                # the second crash: a back-off of BACKOFF_FIRST
        process.started = time.monotonic()  # ...soon after the first restart
        await manager.container_ended(process, 1, None)
        assert seen == [("default", "p", "u", "c", "back-off")]     # at once, as the crash
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0)
    asyncio.run(scenario())
    whats = [s[4] for s in seen]
    assert whats[-1] == "restarted" and whats.count("restarted") == 1
    assert whats.count("back-off") >= 2 and set(whats[:-1]) == {"back-off"}
