"""The controllers inside the API server, and the loop that runs them.

Controllers are level-triggered: any change in the store wakes one loop, which runs every
controller's ``reconcile()`` over the current objects. Writes only happen when something differs,
so the loop settles. A periodic tick also runs it, for retries after runtime failures. Runtime
calls (start/stop a pod) are tasks of the kubelet, never awaited inside a pass.
"""
from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Protocol

from .. import i18n
from . import objects
from .api import NAMESPACES, PODS, SERVICES, Api
from .isolation import Isolation
from .kubelet import Kubelet, Scheduler
from .limits import EventCollector
from .podindex import Changes, Key, PodIndex
from .resources import BY_KEY, RESOURCES
from .runtime import PodRuntime
from .selectors import selector_matches
from .status import ApiError
from .store import Change
from .workloads import DeploymentController, ReplicaSetController, is_ready, owner_ref

ENDPOINTS = BY_KEY["core/endpoints"]
SLICES = BY_KEY["discovery.k8s.io/endpointslices"]
log = logging.getLogger(__name__)


class Controller(Protocol):
    """What the manager runs: a full pass; some also have ``reconcile_changes(changes, index)``,
    a pass on what changed."""

    def reconcile(self) -> None: ...


class NamespaceController:
    """A deleted namespace empties itself (pods gracefully), then disappears."""

    def __init__(self, api: Api) -> None:
        self.api, self.store = api, api.store
        self.isolation = Isolation(api, "namespace-controller")

    def reconcile(self) -> None:
        self.isolation.each(self.store.list(NAMESPACES), self._one)

    def _one(self, ns: dict) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            name, left = ns["metadata"]["name"], 0
            for res, obj in list(self.store.all_namespaced(name)):
                left += 1
                try:
                    if res is PODS:
                        self.api.delete(PODS, name, obj["metadata"]["name"])
                    else:
                        self.api.remove(res, obj)
                except ApiError:
                    pass
            if not left:
                self.api.remove(NAMESPACES, ns)


class GarbageCollector:
    """Objects whose owners are all gone go too (background propagation)."""

    FULL_SECONDS = 5.0

    def __init__(self, api: Api) -> None:
        self.api, self.store = api, api.store
        self.isolation = Isolation(api, "garbage-collector")
        self._deletions = -1
        self._next = 0.0

    def reconcile(self) -> None:
        """After a deletion (an owner may be gone), and every ``FULL_SECONDS`` (an object
        created with an owner that was already gone): a look at every object is O(objects)."""
        now = time.monotonic()
        if self.store.deletions == self._deletions and now < self._next:
            return
        self._deletions, self._next = self.store.deletions, now + self.FULL_SECONDS
        alive = self.store.uids()
        for res in RESOURCES:
            self.isolation.each(self.store.list(res), partial(self._one, res, alive=alive))

    def _one(self, res, obj: dict, alive: set[str]) -> None:
        refs = obj["metadata"].get("ownerReferences")
        if not refs or any(r.get("uid") in alive for r in refs):
            return
        if obj["metadata"].get("deletionTimestamp"):
            return
        meta = obj["metadata"]
        if res is PODS:
            self.api.delete(PODS, meta["namespace"], meta["name"])
        else:
            self.api.remove(res, obj)


def _target_port(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in pod["spec"].get("containers", []):
        for cport in container.get("ports") or []:
            if cport.get("name") == target and cport.get("protocol", "TCP") == port.get(
                    "protocol", "TCP"):
                return cport["containerPort"]
    return None


def _selects(svc: dict, pod: dict) -> bool:
    """``svc`` (known well-formed: a full pass wrote it) selects ``pod``."""
    return selector_matches({"matchLabels": svc["spec"]["selector"]}, pod["metadata"].get("labels"))


def _selecting_namespace(svc: dict) -> str | None:
    """The namespace whose pods ``svc`` selects (None: none, or a Service too malformed to say,
    which ``_service`` reports)."""
    meta, spec = svc.get("metadata"), svc.get("spec")
    if isinstance(meta, dict) and isinstance(spec, dict) and spec.get("selector"):
        return meta.get("namespace")
    return None


class EndpointsController:
    """Endpoints and EndpointSlices of every service with a selector, from its pods' IPs.

    A full pass (``reconcile``) reads every Service and pod. Between full passes, a pass on the
    changes (``reconcile_changes``) works from what the last passes learnt: each Service's
    selected pods (``members``), and which Services hold each pod, so a changed pod costs a
    selector test per Service of its namespace, and only the Services that held or now select it
    are written again, from their members (no scan of the namespace's pods). Upstream does the
    same with informers and a work queue of Service keys: pkg/controller/endpointslice/
    endpointslice_controller.go ``addPod``/``updatePod``/``deletePod`` queue the Services of a
    changed pod (``endpointsliceutil.GetServicesToUpdateOnPodChange``), and ``syncService``
    hands the Service's pods to the reconciler (staging/src/k8s.io/endpointslice/reconciler.go),
    which rewrites only the slices whose endpoints changed.
    """

    def __init__(self, api: Api) -> None:
        self.api, self.store = api, api.store
        self.isolation = Isolation(api, "endpointslice-controller")
        self.members: dict[str, dict[Key, dict]] | None = None    # Service uid -> its pods
        self.holders: dict[Key, set[str]] = {}      # pod -> uids of the Services selecting it
        self.service: dict[str, dict] = {}              # uid -> Service (with a selector)
        self.in_namespace: dict[str, set[str]] = {}     # namespace -> uids of its Services
        self.derived: dict[Key, tuple[dict, tuple[str, dict, dict, bool]]] = {}  # ``_endpoint``
        self.held: dict[Key, tuple[dict, list[str]]] = {}      # ``_held``

    def reconcile(self) -> None:
        self._reconcile(self.store.list(SERVICES), self.store.list(PODS))

    def reconcile_changes(self, changes: Changes, index: PodIndex) -> None:
        """The Services that held or now select a changed pod (every one when a Service
        changed: a full pass)."""
        if changes.kind(SERVICES.key) or self.members is None:
            self.reconcile()
            return
        touched: dict[str, None] = {}
        for key in changes.pods:
            pod = index.pods.get(key)
            if pod is None:
                self._place(key, None, touched)
            else:
                self.isolation.run(pod, partial(self._place, key, pod, touched))
        for uid in touched:
            svc = self.service.get(uid)
            if svc is not None:
                members = self.members.get(uid, {})
                self.isolation.run(svc, partial(self._write_members, svc, members))

    def _place(self, key: Key, pod: dict | None, touched: dict[str, None]) -> None:
        """The Services that select ``pod`` now (None: it is gone), in place of those before."""
        assert self.members is not None
        after: set[str] = set()
        if pod is not None and (pod.get("status") or {}).get("podIP"):
            self._address(pod)          # a pod that cannot be an endpoint fails here, alone
            after = {uid for uid in self.in_namespace.get(key[0], ())
                     if _selects(self.service[uid], pod)}
        if pod is None:
            self.derived.pop(key, None)
        before = self.holders.pop(key, set())
        for uid in before - after:
            self.members.get(uid, {}).pop(key, None)
        for uid in after:
            self.members[uid][key] = pod        # type: ignore[assignment]
        if after:
            self.holders[key] = after
        touched.update(dict.fromkeys(sorted(before | after)))

    def _reconcile(self, services: list[dict], pods: list[dict]) -> None:
        pods_by_ns: dict[str, list[dict]] = {}
        wanted = {_selecting_namespace(svc) for svc in services} - {None}

        def index(pod: dict) -> None:
            if pod["metadata"].get("namespace") not in wanted:
                return      # no Service selects pods there: nothing to read
            if pod.get("status", {}).get("podIP"):
                self._address(pod)          # a pod that cannot be an endpoint fails here, alone
                selector_matches({"matchLabels": {}}, pod["metadata"].get("labels"))
                pods_by_ns.setdefault(pod["metadata"]["namespace"], []).append(pod)
        self.isolation.each(pods, index)
        self.members, self.holders, self.service, self.in_namespace = {}, {}, {}, {}
        self.derived, self.held = {}, {}        # (a full pass forgets what went meanwhile)
        self.isolation.each(services, lambda svc: self._service(svc, pods_by_ns))

    def _service(self, svc: dict, pods_by_ns: dict[str, list[dict]]) -> None:
        selector = svc.get("spec", {}).get("selector")
        if not selector:
            return
        pods = [p for p in pods_by_ns.get(svc["metadata"]["namespace"], [])
                if selector_matches({"matchLabels": selector}, p["metadata"].get("labels"))]
        pods.sort(key=lambda p: p["metadata"]["name"])
        self._write(svc, pods)
        # what the passes on the changes start from (a Service that failed above is left out:
        # the next full pass reports it again)
        meta = svc["metadata"]
        assert self.members is not None
        self.service[meta["uid"]] = svc
        self.in_namespace.setdefault(meta["namespace"], set()).add(meta["uid"])
        members = self.members[meta["uid"]] = {}
        for pod in pods:
            key = (meta["namespace"], pod["metadata"]["name"])
            members[key] = pod
            self.holders.setdefault(key, set()).add(meta["uid"])

    def _write(self, svc: dict, pods: list[dict]) -> None:
        self._endpoints(svc, pods)
        self._slice(svc, pods)

    def _write_members(self, svc: dict, members: dict[Key, dict]) -> None:
        self._write(svc, sorted(members.values(), key=lambda p: p["metadata"]["name"]))

    def _put(self, res, namespace: str, obj: dict) -> None:
        current = self.store.get(res, namespace, obj["metadata"]["name"])
        if current is None:
            try:
                self.api.create(res, namespace, obj)
            except ApiError:
                pass
            return
        labels = obj["metadata"].get("labels", {})
        same = current["metadata"].get("labels", {}) == labels and all(
            current.get(key) == value for key, value in obj.items() if key != "metadata")
        if same and all(key in obj for key in current if key not in (
                "metadata", "kind", "apiVersion")):
            return      # the common case: compare before copying anything
        new = {key: value for key, value in current.items() if key in (
            "metadata", "kind", "apiVersion")}
        new["metadata"] = dict(current["metadata"], labels=labels)
        new.update({key: value for key, value in obj.items() if key != "metadata"})
        self.store.put(res, new)

    def _ports(self, svc: dict, pod: dict | None) -> list[dict]:
        out = []
        for port in svc["spec"].get("ports") or []:
            number = _target_port(port, pod) if pod else None
            if pod is not None and number is None:
                continue
            entry = {"port": number, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            out.append(entry)
        return out

    def _address(self, pod: dict) -> dict:
        meta = pod["metadata"]
        return {"ip": pod["status"]["podIP"], "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {"kind": "Pod", "namespace": meta["namespace"],
                              "name": meta["name"], "uid": meta["uid"]}}

    def _endpoint(self, pod: dict) -> tuple[str, dict, dict, bool]:
        """(key, address, slice endpoint, ready) of a pod with an IP, kept while the pod object
        is the same one (the store replaces an object on each change): a pass rebuilds a
        Service's objects from its members without recomputing the pods that did not change."""
        meta = pod["metadata"]
        ident = (meta.get("namespace", ""), meta["name"])
        hit = self.derived.get(ident)
        if hit is not None and hit[0] is pod:
            return hit[1]
        terminating = bool(meta.get("deletionTimestamp"))
        ready = is_ready(pod)
        address = self._address(pod)
        entry = {"addresses": [address["ip"]],
                 "conditions": {"ready": ready and not terminating, "serving": ready,
                                "terminating": terminating},
                 "nodeName": address["nodeName"], "targetRef": address["targetRef"]}
        value = (_endpoint_key(address), address, entry, ready)
        self.derived[ident] = (pod, value)
        return value

    def _endpoints(self, svc: dict, pods: list[dict]) -> None:
        subsets: dict[str, dict] = {}
        # the ports are the same for every pod unless a targetPort names a container port
        fixed = all(not isinstance(p.get("targetPort"), str) or p["targetPort"].isdigit()
                    for p in svc["spec"].get("ports") or [])
        ports = self._ports(svc, pods[0]) if fixed and pods else []
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            if not fixed:
                ports = self._ports(svc, pod)
            key = repr(ports) if not fixed else ""
            subset = subsets.setdefault(key, {"ports": ports} if ports else {})
            _, address, _, ready = self._endpoint(pod)
            subset.setdefault("addresses" if ready else "notReadyAddresses", []).append(address)
        meta = svc["metadata"]
        obj = {"metadata": {"name": meta["name"], "labels": dict(meta.get("labels", {})),
                            "ownerReferences": [owner_ref(svc)]},
               "subsets": list(subsets.values())}
        if not obj["subsets"]:
            del obj["subsets"]
        self._put(ENDPOINTS, meta["namespace"], obj)

    def _held(self, obj: dict) -> list[str]:
        """The endpoint keys of a slice, kept while the slice object is the same one."""
        ident = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        hit = self.held.get(ident)
        if hit is not None and hit[0] is obj:
            return hit[1]
        keys = [_endpoint_key({"ip": (e.get("addresses") or [""])[0],
                               "targetRef": e.get("targetRef") or {}})
                for e in obj.get("endpoints") or []]
        self.held[ident] = (obj, keys)
        return keys

    def _slice(self, svc: dict, pods: list[dict]) -> None:
        meta = svc["metadata"]
        endpoints: dict[str, dict] = {}
        for pod in pods:
            key, _, entry, _ = self._endpoint(pod)
            endpoints[key] = entry
        # The real controller always writes a port's name, "" when unnamed: kubectl describe
        # dereferences it (pkg/controller/endpointslice/util: getEndpointPorts).
        ports = [dict(p, name=p.get("name", "")) for p in self._ports(svc, pods[0])] \
            if pods else None
        labels = dict(meta.get("labels", {}))
        labels.update({"kubernetes.io/service-name": meta["name"],
                       "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"})
        existing = sorted((obj for obj in self.store.list(SLICES, meta["namespace"])
                           if obj["metadata"].get("labels", {}).get("kubernetes.io/service-name")
                           == meta["name"] and controller_of_slice(obj) == meta["uid"]),
                          key=lambda o: o["metadata"]["name"])
        held = [self._held(obj) for obj in existing]
        packed = pack_endpoints(held, sorted(endpoints), MAX_ENDPOINTS_PER_SLICE)
        names = [obj["metadata"]["name"] for obj in existing]
        for index, keys in enumerate(packed):
            if index < len(existing) and keys is None:     # emptied: it goes
                try:
                    self.api.remove(SLICES, existing[index])
                except ApiError:
                    pass
                continue
            if index < len(names):
                name = names[index]
            else:
                name = _slice_name(meta, set(names))
                names.append(name)
            obj = {"metadata": {"name": name, "labels": labels, "ownerReferences": [owner_ref(svc)]},
                   "addressType": "IPv4", "endpoints": [endpoints[k] for k in keys or []],
                   "ports": ports}
            self._put(SLICES, meta["namespace"], obj)


# pkg/controller/endpointslice: kube-controller-manager's --max-endpoints-per-slice, 100 by
# default (cmd/kube-controller-manager/app/options/endpointslicecontroller.go)
MAX_ENDPOINTS_PER_SLICE = 100


def _endpoint_key(address: dict) -> str:
    ref = address.get("targetRef") or {}
    return f"{address.get('ip')}/{ref.get('uid', '')}"


def controller_of_slice(obj: dict) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref.get("uid")
    return None


def _slice_name(meta: dict, taken: set[str]) -> str:
    """The first slice keeps the name it always had; the next ones a name of the same form
    (upstream: ``generateName: <service>-``, five random characters)."""
    for n in range(len(taken) + 1):
        seed = meta["uid"] if n == 0 else f"{meta['uid']}/{n}"
        name = f"{meta['name']}-{objects.safe_encode(objects.fnv32a(seed.encode()), 5)}"
        if name not in taken:
            return name
    raise AssertionError("unreachable: one of len(taken) + 1 names is free")


def pack_endpoints(held: list[list[str]], wanted: list[str], cap: int) -> list[list[str] | None]:
    """Endpoints into slices of at most ``cap`` (pure), as the upstream reconciler packs them
    (staging/src/k8s.io/endpointslice/reconciler.go ``reconcileByPortMapping``): an endpoint
    stays in the slice that holds it, new ones fill the slices with room first, then new slices;
    slices left empty go (None in their place), but a Service always keeps one slice (empty when
    it has no endpoint). ``held``: the endpoint keys of each existing slice, in the slices' order;
    the result: the keys of each existing slice in the same places, then those of new slices."""
    want = set(wanted)
    placed: set[str] = set()
    slices: list[list[str]] = []
    for keys in held:
        kept = [k for k in keys if k in want and k not in placed][:cap]
        placed.update(kept)
        slices.append(kept)
    fresh = [k for k in wanted if k not in placed]
    for keys in slices:
        room = cap - len(keys)
        if room > 0 and fresh:
            keys.extend(fresh[:room])
            fresh = fresh[room:]
    while fresh:
        slices.append(fresh[:cap])
        fresh = fresh[cap:]
    out: list[list[str] | None] = [keys or None for keys in slices]
    if not any(out):
        out[:1] = [[]]         # the one slice a Service keeps
    return out


class ControllerManager:
    """Runs the controllers: a pass on every change, handling what changed (``PodIndex``), and a
    full pass over every object every ``FULL_SECONDS`` (an informer's resync: what a pass on the
    changes alone would miss, a retry after a refused write)."""

    TICK_SECONDS = 1.0
    FULL_SECONDS = 5.0

    def __init__(self, api: Api, runtime: PodRuntime, lang: str | None = None) -> None:
        self.api = api
        self.kubelet = Kubelet(api, runtime, lang)
        self.controllers: list[Controller] = [
            NamespaceController(api), GarbageCollector(api), DeploymentController(api, lang),
            ReplicaSetController(api, lang), Scheduler(api, lang), self.kubelet,
            EndpointsController(api), EventCollector(api)]
        self.index = PodIndex(api.store.list(PODS))
        self._wake = asyncio.Event()
        self.kubelet.wake = self._wake.set
        self._task: asyncio.Task | None = None
        self._tick: asyncio.Task | None = None
        self._full_at = 0.0
        api.store.listeners.append(self._on_change)

    def _on_change(self, change: Change) -> None:
        self.index.on_change(change)
        self._wake.set()
        if change.type == "DELETED" and change.key == PODS.key:
            self.kubelet.forget(change.obj)

    def start(self) -> None:
        # The controllers' Events are worded from the message catalog: read it now rather than in
        # the first pass that writes one (~150 ms), which delayed a learner's first Deployment's pods
        # (kubectl wait -l right after kubectl create deployment found no pod).
        i18n.load()
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        self._tick = loop.create_task(self._ticker())
        self._wake.set()

    async def stop(self) -> None:
        for task in (self._task, self._tick, *self.kubelet.tasks):
            if task:
                task.cancel()
        for task in (self._task, self._tick):
            if task:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if self.kubelet.tasks:
            await asyncio.gather(*self.kubelet.tasks, return_exceptions=True)
        if self._on_change in self.api.store.listeners:
            self.api.store.listeners.remove(self._on_change)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.TICK_SECONDS)
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            began = time.perf_counter()
            self.run_once(full=time.monotonic() >= self._full_at)
            # Let a burst of requests land before the next pass, and the kubelet's tasks and the
            # API's clients run: passes back to back would leave the event loop to nothing else
            # while pods are wired.
            await asyncio.sleep(max(0.005, time.perf_counter() - began))

    def run_once(self, full: bool = True) -> None:
        """One pass: every object (``full``), or what changed since the last pass."""
        changes = self.index.take()
        if full:
            self._full_at = time.monotonic() + self.FULL_SECONDS
        with self.api.store.background():      # the controllers' writes: see ``store``
            for controller in self.controllers:
                try:
                    if full or not hasattr(controller, "reconcile_changes"):
                        controller.reconcile()
                    else:
                        controller.reconcile_changes(changes, self.index)
                except Exception:
                    log.exception("controller %s failed", type(controller).__name__)
