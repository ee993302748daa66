"""What the controllers' passes need to know about pods, kept up to date from the store's changes.

A pass of the controllers used to read every pod (the ReplicaSet controller to find its pods,
the scheduler to count each node's, the kubelet and the EndpointSlice controller to find what
changed): at 1,000 pods that was some 40 ms a pass, many passes a second while a Deployment
starts. Upstream controllers never do that: their informers keep indexed caches (pods by
namespace, by owner: k8s.io/client-go/tools/cache/index.go) and their work queues hold the keys
of the objects an event touched (k8s.io/client-go/util/workqueue; the ReplicaSet controller
enqueues a pod's owner on every pod event, pkg/controller/replicaset/replica_set.go
``addPod``/``updatePod``/``deletePod``). ``PodIndex`` is that cache for the lab's controllers,
``Changes`` their queue: a pass handles what changed since the last one, and a periodic full
pass (``ControllerManager.FULL_SECONDS``, as an informer's resync) catches anything else.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .store import EVENTS_KEY, Change

PODS_KEY = "core/pods"
Key = tuple[str, str]          # (namespace, name)


def _owner(pod: dict) -> str | None:
    """The uid of the pod's controller (None also for malformed references: the full pass's
    isolation reports those)."""
    refs = pod["metadata"].get("ownerReferences")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref.get("uid")
    return None


def _node(pod: dict) -> str | None:
    spec = pod.get("spec")
    return spec.get("nodeName") if isinstance(spec, dict) else None


@dataclass
class Changes:
    """What changed since the last pass (cleared by each pass)."""

    pods: dict[Key, None] = field(default_factory=dict)     # changed pods, in order
    owners: set[str] = field(default_factory=set)           # controller uids of changed pods
    namespaces: set[str] = field(default_factory=set)       # namespaces of changed pods
    objects: dict[str, set[str]] = field(default_factory=dict)   # kind key -> uids (not pods, events)

    def kind(self, key: str) -> set[str]:
        return self.objects.get(key, set())


class PodIndex:
    """Pods by key, by namespace, by controller; each node's pod count; pods not yet scheduled."""

    def __init__(self, pods: list[dict]) -> None:
        self.pods: dict[Key, dict] = {}
        self.by_namespace: dict[str, dict[str, dict]] = {}
        self.by_owner: dict[str, dict[Key, dict]] = {}
        self.load: Counter[str] = Counter()
        self.pending: dict[Key, dict] = {}
        self.changes = Changes()
        for pod in pods:
            self._set(self.key(pod), pod)

    @staticmethod
    def key(pod: dict) -> Key:
        meta = pod["metadata"]
        return (meta.get("namespace", ""), meta["name"])

    def take(self) -> Changes:
        """The changes since the last call, and a fresh record for the next pass."""
        changes, self.changes = self.changes, Changes()
        return changes

    def on_change(self, change: Change) -> None:
        if change.key == EVENTS_KEY:
            return
        obj = change.obj
        if change.key != PODS_KEY:
            uid = obj.get("metadata", {}).get("uid")
            self.changes.objects.setdefault(change.key, set()).add(uid)
            return
        key = self.key(obj)
        old = self.pods.get(key)
        self._drop(key)
        if change.type != "DELETED":
            self._set(key, obj)
        self.changes.pods[key] = None
        self.changes.namespaces.add(key[0])
        for pod in (old, obj):
            owner = _owner(pod) if pod is not None else None
            if owner:
                self.changes.owners.add(owner)

    def _set(self, key: Key, pod: dict) -> None:
        self.pods[key] = pod
        self.by_namespace.setdefault(key[0], {})[key[1]] = pod
        owner = _owner(pod)
        if owner:
            self.by_owner.setdefault(owner, {})[key] = pod
        node = _node(pod)
        if node:
            self.load[node] += 1
        elif not pod["metadata"].get("deletionTimestamp"):
            self.pending[key] = pod

    def _drop(self, key: Key) -> None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return
        namespace = self.by_namespace.get(key[0], {})
        namespace.pop(key[1], None)
        if not namespace:
            self.by_namespace.pop(key[0], None)
        owner = _owner(pod)
        if owner and owner in self.by_owner:
            self.by_owner[owner].pop(key, None)
            if not self.by_owner[owner]:
                del self.by_owner[owner]
        node = _node(pod)
        if node:
            self.load[node] -= 1
            if self.load[node] <= 0:
                del self.load[node]
        self.pending.pop(key, None)
