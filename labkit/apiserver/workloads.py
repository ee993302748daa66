"""ReplicaSet and Deployment controllers.

A ReplicaSet keeps ``replicas`` pods that it owns (controller ownerReference). A Deployment owns
one ReplicaSet per pod template, named ``<deployment>-<pod-template-hash>``, and moves replicas
from the old ones to the new one within ``maxSurge``/``maxUnavailable`` (a rolling update), so
``kubectl set image`` and ``apply`` of a new template replace pods as on a real cluster.
"""
from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable

from .. import i18n
from . import limits, objects
from .api import PODS, Api
from .isolation import Isolation
from .podindex import Changes, Key, PodIndex
from .resources import BY_KEY
from .selectors import selector_matches
from .status import ApiError

DEPLOYMENTS = BY_KEY["apps/deployments"]
REPLICASETS = BY_KEY["apps/replicasets"]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def controller_of(obj: dict) -> str | None:
    refs = obj["metadata"].get("ownerReferences") or []
    if not isinstance(refs, list):
        raise TypeError("metadata.ownerReferences is not a list")
    for ref in refs:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def owner_ref(owner: dict) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod.get("status", {}).get("conditions", []))


def is_active(pod: dict) -> bool:
    return (not pod["metadata"].get("deletionTimestamp")
            and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"))


def template_hash(template: dict) -> str:
    return _hash_of(json.dumps(template, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=256)
def _hash_of(data: str) -> str:
    """The hash of a template's JSON, computed once per template (the Deployment controller
    hashes each Deployment's template on every pass; FNV in Python costs ~1 ms per 2 KB)."""
    return objects.safe_encode(objects.fnv32a(data.encode()), 10)


def _revision(rs: dict) -> int:
    return int(rs["metadata"].get("annotations", {}).get(REVISION, "0"))


def resolve(value: int | str | None, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, str) and value.endswith("%"):
        share = total * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def _selector_key(rs: dict) -> str:
    return json.dumps(rs["spec"].get("selector"), sort_keys=True)


def controller_uid(obj: dict) -> str | None:
    """``controller_of`` that answers None for malformed references (the full pass reports them)."""
    try:
        return controller_of(obj)
    except (TypeError, AttributeError):
        return None


def owned_by(isolation: Isolation, objs: list[dict]) -> dict[str, list[dict]]:
    """Objects by the uid of their controller (an object whose references are malformed is
    reported and left out)."""
    owned: dict[str, list[dict]] = {}

    def index(obj: dict) -> None:
        uid = controller_of(obj)
        if uid:
            owned.setdefault(uid, []).append(obj)
    isolation.each(objs, index)
    return owned


class _Tally:
    """What a ReplicaSet's status counts, kept per pod and updated from the pods that changed:
    its claimed pods' (active, ready) and the totals (see ``ReplicaSetController``)."""

    def __init__(self, selector: str) -> None:
        self.selector = selector                 # the selector it was built for (JSON)
        self.pods: dict[Key, tuple[bool, bool]] = {}
        self.active = 0
        self.ready = 0

    def drop(self, key: Key) -> None:
        old = self.pods.pop(key, None)
        if old is not None:
            self.active -= old[0]
            self.ready -= old[0] and old[1]

    def set(self, key: Key, pod: dict) -> None:
        self.drop(key)
        active = is_active(pod)
        ready = is_ready(pod)
        self.pods[key] = (active, ready)
        self.active += active
        self.ready += active and ready


class ReplicaSetController:
    """Keeps each ReplicaSet's pods (create, delete, claim) and writes its status.

    A pass on the changes (``reconcile_changes``) handles the ReplicaSets whose pods changed, as
    upstream's controller syncs a ReplicaSet once per batch of its pods' events through its work
    queue (kubernetes pkg/controller/replicaset/replica_set.go: ``addPod``/``updatePod``/
    ``deletePod`` enqueue the owner, ``syncReplicaSet`` runs once per key). Upstream's sync counts
    all the ReplicaSet's pods each time; here each ReplicaSet keeps a ``_Tally`` updated from the
    pods that changed only, so a pass costs what changed, not the ReplicaSet's size: recounting
    1,000 pods on each of the ~1,000 passes a 1,000-pod Deployment takes was quadratic. The full
    pass (``reconcile``, every few seconds) counts everything again and drops the tallies.
    """

    def __init__(self, api: Api, lang: str | None = None) -> None:
        self.api, self.store, self.lang = api, api.store, lang
        self.isolation = Isolation(api, "replicaset-controller", lang=lang)
        self._failed: set[tuple] = set()
        self._tallies: dict[str, _Tally] = {}    # ReplicaSet uid -> its tally
        self._holder: dict[Key, str] = {}        # pod key -> uid of the tally that counts it

    def reconcile(self) -> None:
        self._tallies.clear()
        self._holder.clear()
        owned = owned_by(self.isolation, self.store.list(PODS))
        for rs in self.store.list(REPLICASETS):
            self.isolation.run(rs, functools.partial(self._unless_deleted, rs, owned))

    def _unless_deleted(self, rs: dict, owned: dict[str, list[dict]]) -> None:
        if not rs["metadata"].get("deletionTimestamp"):
            self._one(rs, owned.get(rs["metadata"]["uid"], []))

    def reconcile_changes(self, changes: Changes, index: PodIndex) -> None:
        """The ReplicaSets that changed or whose pods did (their pods from the index)."""
        for key in changes.pods:
            self._pod_changed(key, index)
        for uid in changes.owners | changes.kind(REPLICASETS.key):
            rs = self.store.by_uid(uid)
            if rs is None or rs.get("kind") != "ReplicaSet" or rs.get("apiVersion") != "apps/v1":
                self._forget(uid)
                continue
            self.isolation.run(rs, functools.partial(self._tallied_unless_deleted, rs, index))

    def _tallied_unless_deleted(self, rs: dict, index: PodIndex) -> None:
        if not rs["metadata"].get("deletionTimestamp"):
            self._one_tallied(rs, index)

    def _pod_changed(self, key: Key, index: PodIndex) -> None:
        """Move a changed pod's counts to the tally of its controller (if it has one)."""
        pod = index.pods.get(key)
        owner = controller_uid(pod) if pod is not None else None
        holder = self._holder.get(key)
        if holder is not None and holder != owner:
            self._holder.pop(key)
            if holder in self._tallies:
                self._tallies[holder].drop(key)
        tally = self._tallies.get(owner) if owner else None
        if tally is None or pod is None or owner is None:
            return
        rs = self.store.by_uid(owner)
        if rs is None or _selector_key(rs) != tally.selector:
            self._forget(owner)         # rebuilt from the index when its ReplicaSet is handled
            return
        try:
            claimed = self._claim(rs, pod)
        except Exception:  # noqa: BLE001 - a malformed pod: the ReplicaSet's next sync reports it
            self._forget(owner)
            return
        if claimed:
            tally.set(key, pod)
            self._holder[key] = owner
        else:
            tally.drop(key)
            self._holder.pop(key, None)

    def _forget(self, uid: str) -> None:
        tally = self._tallies.pop(uid, None)
        for key in tally.pods if tally else ():
            self._holder.pop(key, None)

    def _one_tallied(self, rs: dict, index: PodIndex) -> None:
        uid = rs["metadata"]["uid"]
        tally = self._tallies.get(uid)
        if tally is None or tally.selector != _selector_key(rs):
            self._forget(uid)
            tally = _Tally(_selector_key(rs))
            pods = list(index.by_owner.get(uid, {}).values())
            claimed = [p for p in pods if self._claim(rs, p)]   # raises on a malformed pod
            for pod in claimed:
                key = PodIndex.key(pod)
                tally.set(key, pod)
                self._holder[key] = uid
            self._tallies[uid] = tally
        self._sync(rs, tally.active, tally.ready, lambda: [
            pod for key, (active, _) in tally.pods.items()
            if active and (pod := index.pods.get(key)) is not None])

    def _one(self, rs: dict, pods: list[dict]) -> None:
        pods = [p for p in pods if self._claim(rs, p)]
        active = [p for p in pods if is_active(p)]
        self._sync(rs, len(active), sum(1 for p in active if is_ready(p)), lambda: active)

    def _sync(self, rs: dict, count: int, ready: int, active_pods: Callable[[], list[dict]]) -> None:
        """Create or delete pods towards ``replicas``, then write the status: ``count`` active
        pods, ``ready`` of them ready (``active_pods()``: their list, read only to delete some)."""
        want = rs["spec"].get("replicas", 1)
        namespace = rs["metadata"]["namespace"]
        try:
            if want > count:
                # slow start, as upstream: 1, 2, 4... and stop at the first failure
                created, error = limits.slow_start(want - count, lambda: self._create_pod(rs))
                count += created
                if error is not None and error.code != 409:
                    self._failed_create(rs, error)
            if count > want:
                # Unscheduled and unready pods go first, then the newest.
                active = active_pods()
                victims = sorted(active, key=self._deletion_rank)[:len(active) - want]
                for pod in victims:
                    self.api.delete(PODS, namespace, pod["metadata"]["name"])
                    self.api.event(rs, "SuccessfulDelete", i18n.t(
                        "event.rs_deleted_pod", self.lang, pod=pod["metadata"]["name"]),
                        "replicaset-controller")
                    count -= 1
                    ready -= is_ready(pod)
        except ApiError:
            pass  # namespace terminating, or a race with a delete: the next pass retries
        current = self.store.get(REPLICASETS, namespace, rs["metadata"]["name"])
        if current is None:
            return
        status = {"replicas": count, "fullyLabeledReplicas": count,
                  "readyReplicas": ready, "availableReplicas": ready,
                  "observedGeneration": current["metadata"].get("generation", 1)}
        if current.get("status") != status:
            self.store.put(REPLICASETS, dict(copy.deepcopy(current), status=status))

    def _claim(self, rs: dict, pod: dict) -> bool:
        """Whether ``rs`` keeps ``pod``: a pod whose labels left the selector (``kubectl label pod
        ... app=other``) is released, its controller reference removed, and a replacement is created,
        as upstream's ``ClaimPods`` does (kubernetes pkg/controller/controller_ref_manager.go,
        ``ClaimObject`` -> ``ReleasePod``). Without it the relabelled pod still counted as a replica
        and the Deployment stayed one pod short under its selector for ever."""
        if selector_matches(rs["spec"].get("selector"), pod["metadata"].get("labels")):
            return True
        if pod["metadata"].get("deletionTimestamp"):
            return True          # going anyway: upstream ignores it, and so does the count (is_active)
        new = copy.deepcopy(pod)
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != rs["metadata"]["uid"]]
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        with self.store.background():
            self.store.put(PODS, new)
        return False

    def _failed_create(self, rs: dict, error: ApiError) -> None:
        """A ``FailedCreate`` Warning, once per ReplicaSet version and error."""
        key = (rs["metadata"]["uid"], rs["metadata"].get("resourceVersion"), error.key)
        if key in self._failed:
            return
        self._failed.add(key)
        if len(self._failed) > 10000:
            self._failed.clear()
        self.api.event(rs, "FailedCreate", i18n.t("reliability.event.failed_create", self.lang,
                       error=error.message(self.lang)), "replicaset-controller", "Warning")

    @staticmethod
    def _deletion_rank(pod: dict) -> tuple:
        created = pod["metadata"]["creationTimestamp"]
        newest_first = "".join(chr(0x10FFFF - ord(c)) for c in created)
        return (bool(pod["spec"].get("nodeName")), is_ready(pod), newest_first)

    def _create_pod(self, rs: dict) -> dict:
        template = copy.deepcopy(rs["spec"].get("template", {}))
        meta = template.get("metadata") or {}
        meta.pop("creationTimestamp", None)
        meta["generateName"] = f"{rs['metadata']['name']}-"
        meta["ownerReferences"] = [owner_ref(rs)]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
               "spec": template.get("spec", {})}
        created = self.api.create(PODS, rs["metadata"]["namespace"], pod)
        self.api.event(rs, "SuccessfulCreate", i18n.t(
            "event.rs_created_pod", self.lang, pod=created["metadata"]["name"]),
            "replicaset-controller")
        return created


class DeploymentController:
    def __init__(self, api: Api, lang: str | None = None) -> None:
        self.api, self.store, self.lang = api, api.store, lang
        self.isolation = Isolation(api, "deployment-controller", lang=lang)

    def reconcile(self) -> None:
        owned = owned_by(self.isolation, self.store.list(REPLICASETS))
        for deploy in self.store.list(DEPLOYMENTS):
            self.isolation.run(deploy, functools.partial(self._unless_deleted, deploy, owned))

    def _unless_deleted(self, deploy: dict, owned: dict[str, list[dict]]) -> None:
        if not deploy["metadata"].get("deletionTimestamp"):
            self._one(deploy, owned.get(deploy["metadata"]["uid"], []))

    def _one(self, deploy: dict, sets: list[dict]) -> None:
        spec = deploy["spec"]
        want = spec.get("replicas", 1)
        digest = template_hash(spec.get("template", {}))
        new = next((rs for rs in sets if rs["metadata"].get("labels", {}).get(HASH_LABEL)
                    == digest), None)
        old = [rs for rs in sets if rs is not new]
        old_total = sum(rs["spec"].get("replicas", 0) for rs in old)
        revision = 1 + max((_revision(rs) for rs in sets), default=0)
        strategy = spec.get("strategy", {})
        rolling = strategy.get("rollingUpdate", {})
        surge = resolve(rolling.get("maxSurge", "25%"), want, True)
        unavailable = resolve(rolling.get("maxUnavailable", "25%"), want, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        recreate = strategy.get("type") == "Recreate"
        if new is None:
            start = want if old_total == 0 else (0 if recreate else
                                                   max(0, min(want, want + surge - old_total)))
            new = self._create_rs(deploy, digest, start, revision)
        elif not old_total or new["spec"].get("replicas", 0) > want:
            new = self._scale(deploy, new, want)
        elif not recreate:
            room = want + surge - old_total - new["spec"].get("replicas", 0)
            new = self._scale(deploy, new, min(want, new["spec"].get("replicas", 0) + max(0, room)))
        max_old = max((_revision(rs) for rs in old), default=0)
        if _revision(new) < max_old:   # back to an older template: it becomes the latest
            new = self._annotate(new, str(max_old + 1))
        self._scale_down_old(deploy, new, old, want, unavailable, recreate)
        self._write_status(deploy, new, unavailable)

    def _scale_down_old(self, deploy: dict, new: dict | None, old: list[dict], want: int,
                        unavailable: int, recreate: bool) -> None:
        available = sum(rs.get("status", {}).get("availableReplicas", 0)
                        for rs in old + ([new] if new else []))
        budget = available - (want - unavailable)
        for rs in sorted(old, key=lambda r: r["metadata"]["creationTimestamp"]):
            replicas = rs["spec"].get("replicas", 0)
            if not replicas:
                continue
            unhealthy = replicas - rs.get("status", {}).get("availableReplicas", 0)
            remove = replicas if recreate else min(replicas, max(0, unhealthy) + max(0, budget))
            if remove > 0:
                budget -= max(0, remove - max(0, unhealthy))
                self._scale(deploy, rs, replicas - remove)

    def _create_rs(self, deploy: dict, digest: str, replicas: int, revision: int) -> dict:
        template = copy.deepcopy(deploy["spec"].get("template", {}))
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = digest
        selector = copy.deepcopy(deploy["spec"].get("selector", {}))
        selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
        name = f"{deploy['metadata']['name']}-{digest}"
        labels = dict(template["metadata"]["labels"])
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": name, "labels": labels, "ownerReferences": [owner_ref(deploy)],
                           "annotations": {REVISION: str(revision),
                                           "deployment.kubernetes.io/desired-replicas":
                                               str(deploy["spec"].get("replicas", 1))}},
              "spec": {"replicas": replicas, "selector": selector, "template": template,
                       "minReadySeconds": deploy["spec"].get("minReadySeconds", 0)}}
        created = self.api.create(REPLICASETS, deploy["metadata"]["namespace"], rs)
        self._event_scaled(deploy, name, 0, replicas)
        return created

    def _annotate(self, rs: dict, revision: str) -> dict:
        new = copy.deepcopy(rs)
        new["metadata"].setdefault("annotations", {})[REVISION] = revision
        return self.store.put(REPLICASETS, new)

    def _scale(self, deploy: dict, rs: dict, replicas: int) -> dict:
        old = rs["spec"].get("replicas", 0)
        if old == replicas:
            return rs
        new = copy.deepcopy(rs)
        new["spec"]["replicas"] = replicas
        new["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
        new["metadata"].setdefault("annotations", {})[
            "deployment.kubernetes.io/desired-replicas"] = str(deploy["spec"].get("replicas", 1))
        self._event_scaled(deploy, rs["metadata"]["name"], old, replicas)
        return self.store.put(REPLICASETS, new)

    def _event_scaled(self, deploy: dict, rs: str, old: int, new: int) -> None:
        self.api.event(deploy, "ScalingReplicaSet", i18n.t(
            "event.scaled", self.lang, direction="up" if new > old else "down", rs=rs, old=old,
            new=new), "deployment-controller")

    def _write_status(self, deploy: dict, new: dict | None, unavailable: int) -> None:
        current = self.store.get(DEPLOYMENTS, deploy["metadata"]["namespace"],
                                 deploy["metadata"]["name"])
        if current is None:
            return
        sets = [rs for rs in self.store.list(REPLICASETS, deploy["metadata"]["namespace"])
                if controller_of(rs) == deploy["metadata"]["uid"]]
        total = lambda key: sum(rs.get("status", {}).get(key, 0) for rs in sets)  # noqa: E731
        want = current["spec"].get("replicas", 1)
        available = total("availableReplicas")
        updated = (new or {}).get("status", {}).get("replicas", 0)
        done = updated == want and total("replicas") == want and available == want
        old_status = current.get("status", {})
        old_conditions = {c["type"]: c for c in old_status.get("conditions", [])}

        def condition(kind: str, ok: bool, reason: str, message: str) -> dict:
            value = "True" if ok else "False"
            previous = old_conditions.get(kind)
            if previous and previous["status"] == value and previous["reason"] == reason:
                return previous
            stamp = objects.now()
            return {"type": kind, "status": value, "lastUpdateTime": stamp,
                    "lastTransitionTime": stamp, "reason": reason, "message": message}
        rs_name = (new or {}).get("metadata", {}).get("name", "")
        status = {
            "observedGeneration": current["metadata"].get("generation", 1),
            "replicas": total("replicas"), "updatedReplicas": updated,
            "readyReplicas": total("readyReplicas"), "availableReplicas": available,
            "conditions": [
                condition("Available", available >= want - unavailable,
                          "MinimumReplicasAvailable" if available >= want - unavailable
                          else "MinimumReplicasUnavailable",
                          "Deployment has minimum availability." if available >= want - unavailable
                          else "Deployment does not have minimum availability."),
                condition("Progressing", True,
                          "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                          f'ReplicaSet "{rs_name}" has successfully progressed.' if done
                          else f'ReplicaSet "{rs_name}" is progressing.')]}
        if want - available > 0:
            status["unavailableReplicas"] = want - available
        for key in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if not status[key]:
                del status[key]
        new_meta = current["metadata"]
        revision = (new or {}).get("metadata", {}).get("annotations", {}).get(REVISION)
        if old_status == status and (not revision or new_meta.get("annotations", {}).get(
                REVISION) == revision):
            return
        updated_obj = copy.deepcopy(current)
        updated_obj["status"] = status
        if revision:
            updated_obj["metadata"].setdefault("annotations", {})[REVISION] = revision
        self.store.put(DEPLOYMENTS, updated_obj)
