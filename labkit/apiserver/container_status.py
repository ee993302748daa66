"""What a pod's status says when its containers' processes end, wait or restart.

kubectl reads these fields, not the process: ``kubectl run --rm -i`` waits for phase Succeeded or
Failed and exits with ``containerStatuses[0].state.terminated.exitCode``; ``kubectl get pods``
shows ``Completed``, ``Error``, ``CrashLoopBackOff`` and the restart count from them. These are
pure functions from a pod dict to a new pod dict (the input is never mutated), shared by every
runtime that runs real processes, so the rules live in one place and are tested without root.
"""
from __future__ import annotations

import asyncio
import copy
import signal

from . import objects


def exit_code(returncode: int) -> int:
    """A container killed by a signal reports 128 + the signal, as container runtimes do."""
    return 128 - returncode if returncode < 0 else returncode


def reason(code: int) -> str:
    return "Completed" if code == 0 else "Error"


def should_restart(restart_policy: str | None, code: int) -> bool:
    policy = restart_policy or "Always"
    return policy == "Always" or (policy == "OnFailure" and code != 0)


def signal_name(code: int) -> str | None:
    try:
        return signal.Signals(code - 128).name if code > 128 else None
    except ValueError:
        return None


def _entry(status: dict, container: str) -> dict | None:
    return next((c for c in status.get("containerStatuses", []) if c["name"] == container), None)


def refresh_conditions(new: dict, stamp: str) -> None:
    """Recompute phase-independent conditions (Ready, ContainersReady) from the container states."""
    statuses = new["status"].get("containerStatuses", [])
    ready = bool(statuses) and all(c.get("ready") for c in statuses)
    completed = new["status"].get("phase") in ("Succeeded", "Failed")
    for condition in new["status"].get("conditions", []):
        if condition["type"] not in ("Ready", "ContainersReady"):
            continue
        value = "True" if ready else "False"
        if condition["status"] != value:
            condition.update(status=value, lastTransitionTime=stamp)
        if ready:
            condition.pop("reason", None)
        else:
            condition["reason"] = "PodCompleted" if completed else "ContainersNotReady"


def terminated(pod: dict, container: str, code: int, started_at: str | None = None,
               finished_at: str | None = None, why: str | None = None,
               message: str | None = None, final: bool = True) -> dict:
    """The container ended with ``code``; ``final`` when it will not be restarted.

    Once every container is terminated for good the pod is Succeeded (all zero) or Failed.
    """
    new = copy.deepcopy(pod)
    stamp = finished_at or objects.now()
    entry = _entry(new["status"], container)
    if entry is None:
        return new
    started = started_at or entry.get("state", {}).get("running", {}).get("startedAt", stamp)
    state = {"exitCode": code, "reason": why or reason(code), "startedAt": started,
             "finishedAt": stamp, "containerID": entry.get("containerID", "")}
    if message:
        state["message"] = message
    entry.update(ready=False, started=False, state={"terminated": state})
    if final:
        states = [c.get("state", {}) for c in new["status"].get("containerStatuses", [])]
        if all("terminated" in s for s in states):
            ok = all(s["terminated"].get("exitCode") == 0 for s in states)
            new["status"]["phase"] = "Succeeded" if ok else "Failed"
    refresh_conditions(new, stamp)
    return new


def pod_name(pod: dict) -> str:
    """``name_namespace(uid)``, how the kubelet names a pod in its messages
    (pkg/kubelet/util/format/pod.go ``Pod``)."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', '')}({meta.get('uid', '')})"


def running(pod: dict, container: str) -> bool:
    """The stored status shows the container running (what the kubelet would stop)."""
    entry = _entry(pod.get("status") or {}, container)
    return entry is not None and "running" in (entry.get("state") or {})


def back_off(pod: dict, container: str, seconds: float) -> dict:
    """The container failed and waits before its restart (``CrashLoopBackOff``)."""
    new = copy.deepcopy(pod)
    entry = _entry(new["status"], container)
    if entry is None:
        return new
    last = entry.get("state", {})
    if "terminated" in last:
        entry["lastState"] = last
    entry.update(ready=False, started=False, state={"waiting": {
        "reason": "CrashLoopBackOff",
        "message": f"back-off {int(seconds)}s restarting failed container={container} "
                   f"pod={pod_name(new)}"}})
    refresh_conditions(new, objects.now())
    return new


def restarted(pod: dict, container: str, started_at: str | None = None) -> dict:
    """A new instance of the container runs: ``restartCount`` goes up, the last end is kept."""
    new = copy.deepcopy(pod)
    stamp = started_at or objects.now()
    entry = _entry(new["status"], container)
    if entry is None:
        return new
    last = entry.get("state", {})
    if "terminated" in last:
        entry["lastState"] = last
    entry.update(ready=True, started=True, restartCount=entry.get("restartCount", 0) + 1,
                 state={"running": {"startedAt": stamp}})
    new["status"]["phase"] = "Running"
    refresh_conditions(new, stamp)
    return new


def left_waiting(pod: dict, container: str) -> bool:
    """The stored status says the container was not running (in ``CrashLoopBackOff``, or ended):
    after a restart of the lab's daemon it resumes from there instead of running at once."""
    entry = _entry(pod.get("status") or {}, container)
    return entry is not None and "running" not in (entry.get("state") or {})


def ended_for_good(pod: dict, container: str) -> bool:
    """The container terminated and its restart policy does not restart it."""
    entry = _entry(pod.get("status") or {}, container)
    end = ((entry or {}).get("state") or {}).get("terminated")
    return end is not None and not should_restart(
        (pod.get("spec") or {}).get("restartPolicy"), end.get("exitCode", 0))


class StatusWriter:
    """Applies runtime-reported changes to stored pods, in order, once the kubelet ran them.

    A process may end before the kubelet wrote the pod's Running status (a quick ``curl``);
    such changes wait (briefly retried) until the pod shows its container statuses, so the
    kubelet's write never overwrites them. Changes for a pod that is gone or replaced (another
    uid) are dropped.
    """

    RETRY, TRIES = 0.2, 150

    def __init__(self, store, pods_kind) -> None:
        self.store, self.pods_kind = store, pods_kind
        self._queues: dict[str, list] = {}

    def __call__(self, namespace: str, name: str, uid: str, transform) -> None:
        queue = self._queues.setdefault(uid, [])
        queue.append(transform)
        if len(queue) == 1:
            self._flush(namespace, name, uid, 0)

    def _flush(self, namespace: str, name: str, uid: str, tries: int) -> None:
        queue = self._queues.get(uid, [])
        current = self.store.get(self.pods_kind, namespace, name)
        if current is None or current["metadata"]["uid"] != uid \
                or current["metadata"].get("deletionTimestamp"):
            self._queues.pop(uid, None)
            return
        if not current.get("status", {}).get("containerStatuses"):
            if tries >= self.TRIES:
                self._queues.pop(uid, None)
                return
            asyncio.get_running_loop().call_later(self.RETRY, self._flush, namespace, name, uid,
                                                  tries + 1)
            return
        new = current
        for transform in queue:
            new = transform(new)
        self._queues.pop(uid, None)
        if new is not current and new != current:
            self.store.put(self.pods_kind, new)
