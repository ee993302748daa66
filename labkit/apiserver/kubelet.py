"""Scheduler and kubelet: where a pod goes, and making it run through the ``PodRuntime``.

The scheduler spreads pods over the nodes with the fewest pods, honouring ``nodeName``,
``nodeSelector``, taints/tolerations and cordoned nodes. The kubelet starts scheduled pods
(``runtime.start_pod`` gives the IP), writes the status kubectl and ``describe`` read, and
finishes deletions: a pod with ``deletionTimestamp`` is stopped, then removed, which is the
DELETED event ``kubectl delete pod`` waits for.
"""
from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from functools import partial

from .. import i18n
from . import container_status as cs
from . import envvars, objects
from .api import PODS, Api
from .container_status import refresh_conditions
from .isolation import Isolation
from .podindex import Changes, PodIndex
from .resources import BY_KEY
from .runtime import PodRuntime
from .selectors import Requirement, labels_match
from .status import ApiError

NODES = BY_KEY["core/nodes"]
log = logging.getLogger(__name__)


def _condition(kind: str, value: str = "True", **extra: str) -> dict:
    return {"type": kind, "status": value, "lastProbeTime": None,
            "lastTransitionTime": objects.now(), **extra}


def restarted_everywhere(new: dict, old: dict) -> dict:
    """``new``'s container statuses after a restart of the lab's daemon (``old``: as stored).

    A container that was running shows one more restart: the last state is a terminated one with
    reason ``Unknown`` and exit code 255, what a kubelet reports for containers it finds gone after
    a restart (pkg/kubelet/kuberuntime: "Unknown" when the end was not observed). A container that
    was not running (waiting in ``CrashLoopBackOff``, or ended) keeps its status: the runtime
    resumes its back-off (``processes``) and reports its restart when it happens, so the pod is
    not shown ready for a container that is not running. Ready and ContainersReady follow.
    """
    before = {c.get("name"): c for c in old["status"].get("containerStatuses") or []}
    new = copy.deepcopy(new)
    stamp = objects.now()
    statuses = new["status"].get("containerStatuses") or []
    for index, entry in enumerate(statuses):
        previous = before.get(entry["name"], {})
        if previous and "running" not in (previous.get("state") or {}):
            statuses[index] = copy.deepcopy(previous)
            continue
        started = ((previous.get("state") or {}).get("running") or {}).get("startedAt")
        entry["restartCount"] = previous.get("restartCount", 0) + 1
        entry["lastState"] = {"terminated": {
            "exitCode": 255, "reason": "Unknown", "startedAt": started or stamp,
            "finishedAt": stamp, "containerID": previous.get("containerID", "")}}
        entry["state"] = {"running": {"startedAt": stamp}}
    refresh_conditions(new, stamp)
    return new


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for tol in tolerations or []:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def fits(pod: dict, node: dict) -> bool:
    spec = pod.get("spec", {})
    if node.get("spec", {}).get("unschedulable"):
        return False
    selector = [Requirement(k, "=", (v,)) for k, v in (spec.get("nodeSelector") or {}).items()]
    if not labels_match(selector, node["metadata"].get("labels")):
        return False
    return all(tolerates(spec.get("tolerations"), t) for t in node.get("spec", {}).get("taints", [])
               if t.get("effect") in ("NoSchedule", "NoExecute"))


class Scheduler:
    def __init__(self, api: Api, lang: str | None = None) -> None:
        self.api, self.store, self.lang = api, api.store, lang
        self.isolation = Isolation(api, "default-scheduler", "FailedScheduling", lang)

    def reconcile_changes(self, changes: Changes, index: PodIndex) -> None:
        """The pods not yet scheduled, each node's load from the index (no pod read)."""
        if not index.pending:
            return
        nodes = sorted(self.store.list(NODES), key=lambda n: n["metadata"]["name"])
        load = {n["metadata"]["name"]: index.load.get(n["metadata"]["name"], 0) for n in nodes}
        for pod in sorted(index.pending.values(),
                          key=lambda p: str(p["metadata"].get("creationTimestamp"))):
            self.isolation.run(pod, lambda pod=pod: self._schedule(pod, nodes, load))

    def reconcile(self) -> None:
        pending: list[dict] = []
        nodes = sorted(self.store.list(NODES), key=lambda n: n["metadata"]["name"])
        load = {n["metadata"]["name"]: 0 for n in nodes}

        def count(pod: dict) -> None:
            node = pod["spec"].get("nodeName")
            if node in load:
                load[node] += 1
            elif not node and not pod["metadata"].get("deletionTimestamp"):
                pending.append(pod)
        self.isolation.each(self.store.list(PODS), count)
        if not pending:
            return
        for pod in sorted(pending, key=lambda p: str(p["metadata"].get("creationTimestamp"))):
            self.isolation.run(pod, lambda pod=pod: self._schedule(pod, nodes, load))

    def _schedule(self, pod: dict, nodes: list[dict], load: dict[str, int]) -> None:
        candidates = [n for n in nodes if fits(pod, n)]
        if not candidates:
            self._unschedulable(pod, len(nodes))
            return
        node = min(candidates, key=lambda n: load[n["metadata"]["name"]])["metadata"]["name"]
        load[node] += 1
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = node
        conditions = [c for c in new["status"].get("conditions", [])
                      if c["type"] != "PodScheduled"]
        new["status"]["conditions"] = conditions + [_condition("PodScheduled")]
        self.store.put(PODS, new)
        meta = pod["metadata"]
        self.api.event(new, "Scheduled", i18n.t("event.scheduled", self.lang,
                       namespace=meta["namespace"], name=meta["name"], node=node),
                       "default-scheduler")

    def _unschedulable(self, pod: dict, total: int) -> None:
        if any(c["type"] == "PodScheduled" for c in pod["status"].get("conditions", [])):
            return
        message = i18n.t("event.failed_scheduling", self.lang, total=total,
                         detail=i18n.t("event.no_fit", self.lang))
        new = copy.deepcopy(pod)
        new["status"]["conditions"] = [_condition("PodScheduled", "False", reason="Unschedulable",
                                                  message=message)]
        self.store.put(PODS, new)
        self.api.event(new, "FailedScheduling", message, "default-scheduler", "Warning")


class Kubelet:
    """Runs pods through the runtime; every runtime call is a task so a slow CNI never blocks."""

    RETRY_SECONDS = 5.0

    def __init__(self, api: Api, runtime: PodRuntime, lang: str | None = None) -> None:
        self.api, self.store, self.runtime, self.lang = api, api.store, runtime, lang
        self.started: set[str] = set()
        self.busy: set[str] = set()
        self.failed: dict[str, float] = {}
        self.failed_keys: dict[str, tuple[str, str]] = {}   # uid -> (namespace, name)
        self.recheck: set[tuple[str, str]] = set()          # pods whose task just ended
        self.wake: Callable[[], None] = lambda: None       # another pass, soon
        self.tasks: set[asyncio.Task] = set()
        self.isolation = Isolation(api, "kubelet", lang=lang)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def reconcile(self) -> None:
        self.recheck.clear()
        self.isolation.each(self.store.list(PODS), self._one)

    def reconcile_changes(self, changes: Changes, index: PodIndex) -> None:
        """The pods that changed, those whose start or stop just ended, failed starts due."""
        keys = dict.fromkeys([*changes.pods, *sorted(self.recheck)])
        self.recheck.clear()
        now = time.monotonic()
        for uid, when in self.failed.items():
            if now - when >= self.RETRY_SECONDS and uid in self.failed_keys:
                keys[self.failed_keys[uid]] = None
        for key in keys:
            pod = self.store.get(PODS, *key)
            if pod is not None:
                self.isolation.run(pod, partial(self._one, pod))

    def _ended(self, pod: dict) -> None:
        """A start or stop task is over: look at the pod again in the next pass (it may have
        been deleted meanwhile, and that change was skipped while it was busy)."""
        meta = pod["metadata"]
        self.recheck.add((meta.get("namespace", ""), meta["name"]))
        self.wake()

    def _one(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self.busy or not pod["spec"].get("nodeName"):
            return
        if pod["metadata"].get("deletionTimestamp"):
            self.busy.add(uid)
            self._spawn(self._stop(pod))
        elif uid not in self.started and pod["status"].get("phase") not in (
                "Succeeded", "Failed"):
            if time.monotonic() - self.failed.get(uid, -1e9) < self.RETRY_SECONDS:
                return
            self.busy.add(uid)
            self._spawn(self._start(pod))

    def forget(self, pod: dict) -> None:
        """A pod vanished without passing through ``deletionTimestamp`` (force delete)."""
        uid = pod["metadata"]["uid"]
        if uid in self.started and uid not in self.busy:
            self.busy.add(uid)
            self._spawn(self._stop(pod, remove=False))

    async def _start(self, pod: dict) -> None:
        uid, meta = pod["metadata"]["uid"], pod["metadata"]
        node = pod["spec"]["nodeName"]
        try:
            ip = await self.runtime.start_pod(envvars.started(self.api, pod), node)
        except Exception as exc:  # noqa: BLE001 - the runtime's failure becomes an event
            log.warning("start_pod %s/%s failed: %s", meta.get("namespace"), meta["name"], exc)
            self.failed[uid] = time.monotonic()
            self.failed_keys[uid] = (meta.get("namespace", ""), meta["name"])
            self.api.event(pod, "FailedCreatePodSandBox", i18n.t(
                "event.sandbox_failed", self.lang, error=exc), "kubelet", "Warning", node)
            return
        finally:
            self.busy.discard(uid)
            self._ended(pod)
        self.started.add(uid)
        self.failed.pop(uid, None)
        self.failed_keys.pop(uid, None)
        current = self.store.get(PODS, meta["namespace"], meta["name"])
        if current is None or current["metadata"]["uid"] != uid:
            self.forget(pod)
            return
        with self.store.background():          # a kubelet's status write: see ``store``
            self._started(current, ip, node)

    def _started(self, current: dict, ip: str, node: str) -> None:
        if current["status"].get("phase") == "Running":
            # a restarted server: the runtime started the pod's containers again, as a kubelet
            # does after a node restart; each shows one more restart and how the last one ended
            self.store.put(PODS, restarted_everywhere(self._running(current, ip), current))
            self.api.event(current, "SandboxChanged", i18n.t(
                "reliability.event.sandbox_changed", self.lang), "kubelet", host=node)
            return
        self.store.put(PODS, self._running(current, ip))
        for container in current["spec"]["containers"]:
            self._container_started(current, container, node)

    def _container_started(self, pod: dict, container: dict, node: str | None) -> None:
        """What the kubelet records each time it starts a container, the first time and every
        restart (pkg/kubelet/images/image_manager.go ``EnsureImageExists``: Pulled;
        pkg/kubelet/kuberuntime/kuberuntime_container.go ``startContainer``: Created, Started)."""
        field = f"spec.containers{{{container['name']}}}"
        for reason, key in (("Pulled", "event.pulled"), ("Created", "event.created"),
                            ("Started", "event.started")):
            self.api.event(pod, reason, i18n.t(key, self.lang, image=container["image"],
                           container=container["name"]), "kubelet", host=node, field_path=field)

    def container_event(self, namespace: str, name: str, uid: str, container: str,
                        what: str) -> None:
        """The runtime's report on a container of a running pod (``processes``' event sink).

        ``restarted``: a new instance runs (Pulled, Created, Started again, counted on the first
        ones). ``back-off``: the container failed and waits; a kubelet records a Warning
        ``BackOff`` at every sync of the pod during the wait (pkg/kubelet/kuberuntime/
        kuberuntime_manager.go ``doBackOff``, reason ``events.BackOffStartContainer`` of
        pkg/kubelet/events/event.go), so right after the crash, then every pod-worker retry
        (``backOffPeriod``, 10 s; see ``processes.BACKOFF_RESYNC``)."""
        pod = self.store.get(PODS, namespace, name)
        if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
            return
        spec = next((c for c in pod["spec"]["containers"] if c["name"] == container), None)
        if spec is None:
            return
        node = pod["spec"].get("nodeName")
        if what == "restarted":
            self._container_started(pod, spec, node)
        elif what == "back-off":
            self.api.event(pod, "BackOff", i18n.t("event.back_off", self.lang,
                           container=container, pod=cs.pod_name(pod)), "kubelet", "Warning",
                           node, field_path=f"spec.containers{{{container}}}")

    def _running(self, pod: dict, ip: str) -> dict:
        new = copy.deepcopy(pod)
        node = self.store.get(NODES, "", pod["spec"]["nodeName"])
        host_ip = next((a["address"] for a in (node or {}).get("status", {}).get("addresses", [])
                        if a["type"] == "InternalIP"), "")
        status = new["status"]
        stamp = objects.now()
        started = status.get("startTime") or stamp
        scheduled = next((c for c in status.get("conditions", []) if c["type"] == "PodScheduled"),
                         _condition("PodScheduled"))
        status.update({
            "phase": "Running", "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": ip, "podIPs": [{"ip": ip}], "startTime": started,
            "conditions": [_condition("PodReadyToStartContainers"), _condition("Initialized"),
                           _condition("Ready"), _condition("ContainersReady"), scheduled],
            "containerStatuses": [{
                "name": c["name"], "state": {"running": {"startedAt": started}},
                "lastState": {}, "ready": True, "restartCount": 0, "image": c["image"],
                "imageID": f"labkit://{c['image']}",
                "containerID": f"labkit://{pod['metadata']['uid'][:13]}-{c['name']}",
                "started": True} for c in new["spec"]["containers"]]})
        if status == pod["status"]:
            return pod
        return new

    async def _stop(self, pod: dict, remove: bool = True) -> None:
        uid, meta = pod["metadata"]["uid"], pod["metadata"]
        try:
            if remove and uid in self.started:
                # only the running ones: one waiting in CrashLoopBackOff or ended is not killed
                # (pkg/kubelet/container/helpers.go ``ConvertPodStatusToRunningPod``)
                for container in pod["spec"]["containers"]:
                    if not cs.running(pod, container["name"]):
                        continue
                    self.api.event(pod, "Killing", i18n.t("event.killing", self.lang,
                                   container=container["name"]), "kubelet",
                                   host=pod["spec"].get("nodeName"),
                                   field_path=f"spec.containers{{{container['name']}}}")
            try:
                await self.runtime.stop_pod(pod)
            except Exception as exc:  # noqa: BLE001 - never keep a pod forever on a failed stop
                log.warning("stop_pod %s/%s failed: %s", meta.get("namespace"), meta["name"], exc)
            self.started.discard(uid)
            envvars.forget(self.api, uid)
            if remove:
                current = self.store.get(PODS, meta["namespace"], meta["name"])
                if current is not None and current["metadata"]["uid"] == uid:
                    try:
                        with self.store.background():
                            self.api.remove(PODS, current)
                    except ApiError:
                        pass
        finally:
            self.busy.discard(uid)
            self.failed.pop(uid, None)
            self.failed_keys.pop(uid, None)
            self._ended(pod)
