"""The verbs on stored objects: the API semantics, with no HTTP in sight.

Handlers translate requests into these calls; controllers call them too, so an object created
by the replicaset controller gets the same defaults, validation and watch events as one created
by kubectl. Every failure is an ``ApiError`` (see ``status.py``); nothing is stored on error.
"""
from __future__ import annotations

import builtins
import copy
import itertools
import json
import time
from collections import OrderedDict

from . import limits, objects, resources, ssa, status, strategies
from .patch import PatchError, json_patch, merge_patch, strategic_merge
from .resources import BY_KEY, ResourceKind
from .selectors import fields_match, labels_match, parse_field_selector, parse_label_selector
from .status import ApiError
from .store import Store
from .typecheck import check_types
from .validation import validate

NAMESPACES = BY_KEY["core/namespaces"]
PODS = BY_KEY["core/pods"]
EVENTS = BY_KEY["core/events"]
SERVICES = BY_KEY["core/services"]

_EVENT_SEQ = itertools.count()
# How many repeated Events are remembered for aggregation (client-go tools/record/events_cache.go
# ``maxLruCacheEntries``).
EVENT_CACHE_ENTRIES = 4096

PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply",
}


def _strip_volatile(obj: dict) -> dict:
    meta = dict(obj.get("metadata", {}))
    meta.pop("resourceVersion", None)
    return dict(obj, metadata=meta)


class Api:
    def __init__(self, store: Store, addresses: objects.ServiceAddresses,
                 max_pods: int | None = None) -> None:
        self.store = store
        self.addresses = addresses
        self.max_pods = max_pods  # None: limits.MAX_PODS
        self._event_keys: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
        for svc in store.list(SERVICES):
            try:
                spec = svc.get("spec", {})
                if spec.get("clusterIP") not in (None, "", "None"):
                    addresses.used.add(spec["clusterIP"])
                addresses.node_ports.update(p["nodePort"] for p in spec.get("ports", [])
                                            if p.get("nodePort"))
            except (AttributeError, TypeError, KeyError):
                continue        # a malformed Service of an old state: the controllers skip it

    # --- reads ------------------------------------------------------------------------------
    def get(self, res: ResourceKind, namespace: str, name: str) -> dict:
        obj = self.store.get(res, namespace, name)
        if obj is None:
            raise status.not_found(res.plural, res.group, name)
        return obj

    def list(self, res: ResourceKind, namespace: str | None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        labels = parse_label_selector(label_selector)
        tests = parse_field_selector(field_selector)
        items = self.store.list(res, namespace)
        if labels or tests:
            items = [o for o in items if labels_match(labels, o["metadata"].get("labels"))
                     and fields_match(tests, o)]
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""),
                                            o["metadata"]["name"]))

    # --- create -----------------------------------------------------------------------------
    def _check_target(self, res: ResourceKind, namespace: str | None, obj: dict) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise status.bad_request("api.bad_body", error="expected an object")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if (kind and kind != res.kind) or (api_version and api_version != res.api_version):
            raise status.bad_request("api.kind_mismatch", body=f"{api_version}, {kind}",
                                     resource=res.plural)
        body_ns = (obj.get("metadata") or {}).get("namespace")
        if res.namespaced and body_ns and namespace and body_ns != namespace:
            raise status.bad_request("api.namespace_mismatch", body=body_ns, url=namespace)

    def _check_namespace(self, namespace: str | None) -> None:
        # None: a POST on the all-namespaces URL of a namespaced kind (/api/v1/pods), a 404.
        ns = self.store.get(NAMESPACES, "", namespace) if namespace is not None else None
        if ns is None:
            raise status.not_found("namespaces", "", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise status.forbidden("api.namespace_terminating", namespace=namespace)

    def create(self, res: ResourceKind, namespace: str | None, obj: dict,
               dry_run: bool = False) -> dict:
        self._check_target(res, namespace, obj)
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        namespace = namespace if res.namespaced else None
        if res.namespaced:
            self._check_namespace(namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(res, namespace, meta["generateName"])
        strategy = strategies.of(res)
        causes = validate(obj, res.kind)
        if not causes:
            causes = strategy.allocation_causes(self.addresses, obj, None)
        if causes:
            raise status.invalid(res.kind, res.group, meta.get("name") or "", causes)
        if self.store.get(res, namespace or "", meta["name"]) is not None:
            raise status.already_exists(res.plural, res.group, meta["name"])
        if res is PODS:
            limits.check_pod_cap(self.store, res, meta["name"], self.max_pods)
        objects.init_metadata(obj, namespace)
        if res.has_generation:
            meta["generation"] = 1
        obj["kind"], obj["apiVersion"] = res.kind, res.api_version
        if dry_run:
            strategy.create_defaults(obj, objects.ServiceAddresses(str(self.addresses.network)))
            ssa.track(res, None, obj)
            return obj
        strategy.create_defaults(obj, self.addresses)
        ssa.track(res, None, obj)
        return self.store.put(res, obj)

    def _generate_name(self, res: ResourceKind, namespace: str | None, prefix: str) -> str:
        for _ in range(20):
            name = prefix[:58] + objects.random_suffix()
            if self.store.get(res, namespace or "", name) is None:
                return name
        raise status.already_exists(res.plural, res.group, prefix)

    # --- update -----------------------------------------------------------------------------
    def update(self, res: ResourceKind, namespace: str, name: str, obj: dict,
               subresource: str | None = None, dry_run: bool = False) -> dict:
        self._check_target(res, namespace, obj)
        check_types(obj, res.kind, res.api_version)
        current = self.get(res, namespace, name)
        body_name = (obj.get("metadata") or {}).get("name")
        if body_name and body_name != name:
            raise status.bad_request("api.name_mismatch", body=body_name, url=name)
        wanted_rv = (obj.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise status.conflict(res.plural, res.group, name)
        new = self._merge_update(res, current, copy.deepcopy(obj), subresource)
        return self._store_update(res, current, new, dry_run, status_update=subresource == "status")

    def _merge_update(self, res: ResourceKind, current: dict, new: dict,
                      subresource: str | None) -> dict:
        if subresource == "status":
            return dict(copy.deepcopy(current), status=new.get("status", {}))
        meta = new.setdefault("metadata", {})
        old_meta = current["metadata"]
        for key in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "generation", "ownerReferences"):
            if key in old_meta and (key != "ownerReferences" or key not in meta):
                meta[key] = old_meta[key]
        if not res.namespaced:
            meta.pop("namespace", None)
        new["kind"], new["apiVersion"] = res.kind, res.api_version
        strategy = strategies.of(res)
        if res.has_status or strategy.keeps_status:
            new["status"] = copy.deepcopy(current.get("status", {}))
        strategy.prepare_update(current, new)
        return new

    def _store_update(self, res: ResourceKind, current: dict, new: dict, dry_run: bool,
                      status_update: bool = False) -> dict:
        name = current["metadata"]["name"]
        strategy = strategies.of(res)
        strategy.before_validate_update(new)
        causes = validate(new, res.kind)
        causes += strategy.update_causes(current, new)
        if not causes:
            causes = strategy.allocation_causes(self.addresses, new, current)
        if causes:
            raise status.invalid(res.kind, res.group, name, causes)
        strategy.update_defaults(current, new, self.addresses, status_update)
        if res.has_generation and new.get("spec") != current.get("spec"):
            new["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        ssa.track(res, current, new)
        if _strip_volatile(new) == _strip_volatile(current) or dry_run:
            return new if dry_run else current
        stored = self.store.put(res, new)
        strategy.after_update(current, stored, self.addresses)
        return stored

    # --- patch ------------------------------------------------------------------------------
    def patch(self, res: ResourceKind, namespace: str, name: str, content_type: str, body: object,
              subresource: str | None = None, dry_run: bool = False) -> tuple[dict, bool]:
        """Apply a patch; returns (object, created). Server-side apply may create the object."""
        flavour = PATCH_TYPES.get(content_type)
        if flavour is None:
            raise ApiError(415, "UnsupportedMediaType", "api.bad_content_type",
                           content_type=content_type)
        current = self.store.get(res, namespace if res.namespaced else "", name)
        if current is None:
            if flavour == "apply" and isinstance(body, dict) and subresource is None:
                body = dict(body, metadata=dict(body.get("metadata") or {}, name=name))
                return self.create(res, namespace, body, dry_run), True
            raise status.not_found(res.plural, res.group, name)
        base = current
        if subresource == "status":
            base = copy.deepcopy(current)
        try:
            if flavour == "json":
                patched = json_patch(base, body)
            elif flavour == "merge":
                patched = merge_patch(base, body)
            else:
                if not isinstance(body, dict):
                    raise PatchError("a strategic merge patch is an object")
                patched = strategic_merge(base, body)
        except (PatchError, ValueError, TypeError, IndexError) as exc:
            raise status.bad_request("api.bad_patch", error=exc) from exc
        if not isinstance(patched, dict):
            raise status.bad_request("api.bad_patch", error="result is not an object")
        check_types(patched, res.kind, res.api_version)
        wanted_rv = (patched.get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise status.conflict(res.plural, res.group, name)
        if subresource == "status":
            new = dict(copy.deepcopy(current), status=patched.get("status", {}))
        else:
            new = self._merge_update(res, current, copy.deepcopy(patched), None)
            new["metadata"]["ownerReferences"] = patched["metadata"].get("ownerReferences")
            if new["metadata"]["ownerReferences"] is None:
                del new["metadata"]["ownerReferences"]
        return self._store_update(res, current, new, dry_run, status_update=subresource == "status"), False

    # --- delete -----------------------------------------------------------------------------
    def delete(self, res: ResourceKind, namespace: str, name: str, options: dict | None = None,
               dry_run: bool = False) -> dict:
        options = options or {}
        current = self.get(res, namespace, name)
        pre = options.get("preconditions") or {}
        if (pre.get("uid") and pre["uid"] != current["metadata"]["uid"]) or (
                pre.get("resourceVersion")
                and pre["resourceVersion"] != current["metadata"]["resourceVersion"]):
            raise status.conflict(res.plural, res.group, name)
        strategy = strategies.of(res)
        strategy.check_delete(name)
        if dry_run:
            return current
        if options.get("propagationPolicy") == "Orphan":
            self._orphan(current["metadata"]["uid"])
        grace = options.get("gracePeriodSeconds")
        if strategy.graceful(current, grace):
            return self._mark_deleting(res, current, grace)
        return self.remove(res, current)

    def _mark_deleting(self, res: ResourceKind, current: dict, grace: int | None) -> dict:
        if current["metadata"].get("deletionTimestamp"):
            return current
        new = copy.deepcopy(current)
        if grace is None:
            grace = current.get("spec", {}).get("terminationGracePeriodSeconds", 30)
        new["metadata"]["deletionTimestamp"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + (grace or 0)))
        strategies.of(res).mark_deleting(new, grace)
        return self.store.put(res, new)

    def remove(self, res: ResourceKind, obj: dict) -> dict:
        """Really remove an object (controllers call this once its finalization is done)."""
        strategies.of(res).on_remove(obj, self.addresses)
        return self.store.delete(res, obj)

    def _orphan(self, owner_uid: str) -> None:
        for res in resources.RESOURCES:
            for obj in self.store.list(res):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == owner_uid for r in refs):
                    new = copy.deepcopy(obj)
                    new["metadata"]["ownerReferences"] = [
                        r for r in refs if r.get("uid") != owner_uid]
                    self.store.put(res, new)

    def delete_collection(self, res: ResourceKind, namespace: str | None,
                          label_selector: str | None, field_selector: str | None,
                          options: dict | None = None,
                          dry_run: bool = False) -> builtins.list[dict]:
        out = []
        for obj in self.list(res, namespace, label_selector, field_selector):
            meta = obj["metadata"]
            try:
                out.append(self.delete(res, meta.get("namespace", ""), meta["name"], options,
                                       dry_run))
            except ApiError as exc:
                if exc.code != 403:
                    raise
        return out

    # --- events -----------------------------------------------------------------------------
    def event(self, involved: dict, reason: str, message: str, component: str,
              type_: str = "Normal", host: str | None = None, field_path: str | None = None) -> None:
        """Record a core/v1 Event about ``involved`` (what ``kubectl describe`` lists).

        The same Event again (same source, object, container, type, reason and message) is
        counted on the stored one, as client-go's recorder does (tools/record/events_cache.go
        ``getEventKey``, ``eventLogger.eventObserve``: ``count`` + 1, ``lastTimestamp`` now, the
        first one's name and ``firstTimestamp`` kept); ``kubectl describe`` then shows
        ``(x3 over 40s)``. Not emulated: the aggregator that merges 10 similar Events with
        different messages and the per-object spam filter."""
        meta = involved["metadata"]
        namespace = meta.get("namespace", "default")
        ns = self.store.get(NAMESPACES, "", namespace)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        stamp = objects.now()
        key = (component, host or "", involved.get("kind"), namespace, meta["name"],
               field_path or "", meta["uid"], involved.get("apiVersion"), type_, reason, message)
        if self._count_again(key, stamp):
            return
        ref = {"kind": involved.get("kind"), "namespace": namespace, "name": meta["name"],
               "uid": meta["uid"], "apiVersion": involved.get("apiVersion"),
               "resourceVersion": meta.get("resourceVersion")}
        if field_path:
            ref["fieldPath"] = field_path
        source = {"component": component}
        if host:
            source["host"] = host
        name = f"{meta['name']}.{time.time_ns():x}{next(_EVENT_SEQ):x}"[:253]
        obj = {"kind": "Event", "apiVersion": "v1",
               "metadata": {"name": name, "namespace": namespace, "uid": objects.new_uid(),
                            "creationTimestamp": stamp},
               "involvedObject": ref, "reason": reason, "message": message, "source": source,
               "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": type_,
               "eventTime": None, "reportingComponent": component,
               "reportingInstance": host or ""}
        self.store.put(EVENTS, obj)
        self._event_keys[key] = (namespace, name)
        if len(self._event_keys) > EVENT_CACHE_ENTRIES:
            self._event_keys.popitem(last=False)

    def _count_again(self, key: tuple, stamp: str) -> bool:
        """Count one more of a remembered Event; False when there is none (or it was removed)."""
        where = self._event_keys.get(key)
        if where is None:
            return False
        current = self.store.get(EVENTS, *where)
        if current is None:
            del self._event_keys[key]
            return False
        self._event_keys.move_to_end(key)
        self.store.put(EVENTS, dict(current, metadata=dict(current["metadata"]),
                                    count=int(current.get("count") or 1) + 1, lastTimestamp=stamp))
        return True


def decode_json(data: bytes) -> object:
    try:
        return json.loads(data or b"{}")
    except ValueError as exc:
        raise status.bad_request("api.bad_body", error=exc) from exc
