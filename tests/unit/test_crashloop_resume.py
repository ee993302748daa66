"""A crash-looping container across a restart of the lab's daemon: its status, restart count and
back-off go on from where they were (no root: processes are not started)."""
from __future__ import annotations

import asyncio
import time

from labkit.apiserver import container_status as cs
from labkit.apiserver.kubelet import restarted_everywhere
from labkit.embedded import processes as pr
from labkit.embedded.state import PodRecord


def _pod(containers=("c",), policy="Always") -> dict:
    return {"metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"restartPolicy": policy,
                     "containers": [{"name": c, "image": "busybox", "command": ["sh", "-c", "exit 1"]}
                                    for c in containers]},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
                "containerStatuses": [{"name": c, "ready": True, "restartCount": 0,
                                       "state": {"running": {"startedAt": "t0"}}}
                                      for c in containers]}}


def _crash_looping(pod: dict, name: str, restarts: int) -> dict:
    """``name`` crashed ``restarts`` times and now waits in CrashLoopBackOff."""
    for _ in range(restarts):
        pod = cs.restarted(cs.terminated(pod, name, 1, final=False), name)
    return cs.back_off(cs.terminated(pod, name, 1, final=False), name, 20)


def _entry(pod: dict, name: str) -> dict:
    return next(c for c in pod["status"]["containerStatuses"] if c["name"] == name)


def _ready(pod: dict) -> str:
    return next(c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready")


def test_a_restart_keeps_a_waiting_container_waiting_and_the_pod_not_ready():
    stored = _crash_looping(_pod(("loop", "web")), "loop", 2)
    # what the kubelet computes once the runtime gave the pod back: everything running, ready
    fresh = cs.restarted(cs.restarted(_pod(("loop", "web")), "loop"), "web")
    after = restarted_everywhere(fresh, stored)
    loop, web = _entry(after, "loop"), _entry(after, "web")
    assert loop == _entry(stored, "loop")            # still waiting, same count, same last end
    assert loop["state"]["waiting"]["reason"] == "CrashLoopBackOff" and not loop["ready"]
    assert loop["restartCount"] == 2 and loop["lastState"]["terminated"]["exitCode"] == 1
    # the container that was running shows the restart as a kubelet does after a node restart
    assert web["restartCount"] == 1 and web["lastState"]["terminated"]["reason"] == "Unknown"
    assert "running" in web["state"]
    assert _ready(after) == "False" and after["status"]["phase"] == "Running"


def test_a_restart_with_every_container_running_keeps_the_pod_ready():
    stored = _pod(("a",))
    after = restarted_everywhere(cs.restarted(_pod(("a",)), "a"), stored)
    assert _ready(after) == "True" and _entry(after, "a")["restartCount"] == 1


def test_what_decides_a_resume():
    waiting = _crash_looping(_pod(), "c", 1)
    assert cs.left_waiting(waiting, "c") and not cs.ended_for_good(waiting, "c")
    assert not cs.left_waiting(_pod(), "c")
    done = cs.terminated(_pod(policy="OnFailure"), "c", 0)
    assert cs.ended_for_good(done, "c") and cs.left_waiting(done, "c")
    assert not cs.ended_for_good(cs.terminated(_pod(policy="OnFailure"), "c", 1, final=False), "c")


def test_the_back_off_is_kept_and_resumed_from_its_step():
    kept: list[tuple] = []

    async def scenario():
        manager = pr.ProcessManager()
        manager.backoff_sink = lambda *args: kept.append(args)
        pod = _crash_looping(_pod(), "c", 2)
        until = time.time() + 30
        await manager.start_pod(pod, "no-such-netns", backoff={"c": [3, until]})
        process = manager.containers[("u", "c")]
        assert process.spawned is None and process.restarts == 3     # not started at once
        timer = manager._timers[("u", "c")]
        assert not timer.done()
        # its next crash waits twice as long as the last back-off, and that is kept
        process.started = time.monotonic()
        before = time.time()
        await manager.container_ended(process, 1, None)
        (namespace, name, uid, container, step, when), = kept
        assert (namespace, name, uid, container, step) == ("default", "p", "u", "c", 4)
        assert when - before >= pr.BACKOFF_FIRST * 2 ** 2 - 1     # 40 s after a 20 s one
        for task in list(manager._timers.values()) + [timer]:
            task.cancel()
    asyncio.run(scenario())


def test_a_container_that_ended_for_good_is_not_started_again():
    async def scenario():
        manager = pr.ProcessManager()
        pod = cs.terminated(_pod(policy="OnFailure"), "c", 0)
        await manager.start_pod(pod, "no-such-netns")
        assert manager.containers == {} and manager._timers == {}
    asyncio.run(scenario())


def test_the_pod_record_keeps_the_back_off():
    record = PodRecord(namespace="default", name="p", node="n", ip="10.0.0.2", netns="x",
                       container_id="id", backoff={"c": [2, 1.5]})
    assert PodRecord.from_dict(vars(record)).backoff == {"c": [2, 1.5]}
    old = {k: v for k, v in vars(record).items() if k != "backoff"}   # a record of before
    assert PodRecord.from_dict(old).backoff == {}
