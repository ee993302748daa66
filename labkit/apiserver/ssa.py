"""Field managers, ``managedFields`` and server-side apply (``application/apply-patch+yaml``).

There is no maintained Python port of structured-merge-diff, so this follows its documented
semantics (kubernetes.io "Server-Side Apply", sigs.k8s.io/structured-merge-diff ``merge/update.go``
and ``fieldpath``, apiserver ``pkg/endpoints/handlers/fieldmanager``), on the schemas of
``openapi`` (list-map keys, sets, atomic lists):

- every write records which fields its manager set (``fieldManager``, or one derived from the
  User-Agent): an *Update* entry owns the fields it changed, and they leave their other owners;
- an *Apply* owns exactly the fields of its configuration. A field of the configuration that
  another manager owns with a different value is a **conflict**: 409 with one cause per field,
  unless ``force=true``, which takes the fields over. Equal values are shared;
- fields the applier owned before and left out now are removed, unless someone else owns them.

Ownership is kept as sets of paths, written out as FieldsV1 (``{"f:spec":{"f:replicas":{}}}``).
Writes by the server's own controllers are not tracked (the lab has no separate managers for
them): a departure only ``--show-managed-fields`` reveals.
"""
from __future__ import annotations

import contextvars
import copy
import json
from dataclasses import dataclass, field

from .. import i18n
from . import objects, status
from .resources import ResourceKind

Path = tuple[str, ...]


@dataclass
class Write:
    """Who is writing, set by the HTTP handler for the duration of one request."""

    manager: str
    operation: str = "Update"          # or "Apply"
    subresource: str = ""
    applied: set = field(default_factory=set)   # Apply: the configuration's paths
    force: bool = False


# English as the real API server words it (kubectl prints it, then its --force-conflicts help).
MESSAGES = {
    "ssa.conflict": {"en": "Apply failed", "fr": "L'application a échoué"},
    "ssa.conflict_one": {
        "en": "Apply failed with 1 conflict: conflict with {manager}: {field}",
        "fr": "L'application a échoué avec 1 conflit : conflit avec {manager} : {field}"},
    "ssa.conflict_many": {
        "en": "Apply failed with {count} conflicts: {list}",
        "fr": "L'application a échoué avec {count} conflits : {list}"},
    "ssa.conflicts_with": {"en": "conflicts with {manager}:", "fr": "conflits avec {manager} :"},
    "ssa.conflict_cause": {"en": "conflict with {manager}", "fr": "conflit avec {manager}"},
    "ssa.manager_required": {
        "en": "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
        "fr": "PATCH, application/apply-patch+yaml : fieldManager est obligatoire pour une "
              "application côté serveur"},
}

CURRENT: contextvars.ContextVar[Write | None] = contextvars.ContextVar("ssa_write", default=None)


def default_manager(user_agent: str) -> str:
    """apiserver's ``prefixFromUserAgent``: the User-Agent up to its first ``/``."""
    return (user_agent or "unknown").split("/", 1)[0][:128] or "unknown"


# --- schema navigation --------------------------------------------------------------------
class Schema:
    def __init__(self, res: ResourceKind) -> None:
        from .openapi import kind_schema

        found = kind_schema(res)
        self.root, self.schemas = found if found else ({}, {})

    def resolve(self, schema: dict | None) -> dict:
        schema = schema or {}
        for _ in range(20):
            if "$ref" in schema:
                schema = self.schemas.get(schema["$ref"].rsplit("/", 1)[1], {})
            elif schema.get("allOf") and "properties" not in schema and "items" not in schema:
                extra = {k: v for k, v in schema.items() if k != "allOf"}
                schema = {**self.resolve(schema["allOf"][0]), **extra}
            else:
                break
        return schema

    def child(self, schema: dict, key: str) -> dict:
        schema = self.resolve(schema)
        if key in schema.get("properties", {}):
            return schema["properties"][key]
        extra = schema.get("additionalProperties")
        return extra if isinstance(extra, dict) else {}


def _list_keys(schema: dict) -> list[str] | None:
    keys = schema.get("x-kubernetes-list-map-keys")
    if keys:
        return list(keys)
    if schema.get("x-kubernetes-patch-merge-key"):
        return [schema["x-kubernetes-patch-merge-key"]]
    return None


def _is_set(schema: dict) -> bool:
    return schema.get("x-kubernetes-list-type") == "set"


# Key fields with a declared default (``+default="TCP"`` in k8s.io/api): a configuration that
# leaves them out names the same list item as one that spells the default.
KEY_DEFAULTS = {"protocol": "TCP"}


def _key_element(item: dict, keys: list[str]) -> str:
    values = {k: item[k] if k in item else KEY_DEFAULTS[k] for k in keys
              if k in item or k in KEY_DEFAULTS}
    return "k:" + json.dumps(values, separators=(",", ":"), sort_keys=True)


# --- object -> field paths ----------------------------------------------------------------
def paths_of(obj: dict, schema: Schema, skip_status: bool = True) -> set[Path]:
    """Every leaf field of ``obj`` (plus ``.`` for map-typed fields and list items)."""
    out: set[Path] = set()
    top = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")
           and not (skip_status and k == "status")}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items()
            if k in ("labels", "annotations", "finalizers", "ownerReferences")}
    if meta:
        top["metadata"] = meta
    _walk(top, schema.root, (), schema, out, is_item=False)
    return out


def _walk(value, sch: dict, path: Path, schema: Schema, out: set[Path], is_item: bool) -> None:
    resolved = schema.resolve(sch)
    if isinstance(value, dict):
        is_map = "properties" not in resolved and isinstance(
            resolved.get("additionalProperties"), dict)
        if (is_item or is_map) and path:
            out.add(path + (".",))
        if not value and not is_item and not is_map and path:
            out.add(path)
        for key, item in value.items():
            _walk(item, schema.child(resolved, key), path + (f"f:{key}",), schema, out, False)
        return
    if isinstance(value, list):
        keys = _list_keys(sch) or _list_keys(resolved)
        items_schema = resolved.get("items", {})
        if keys and all(isinstance(i, dict) for i in value):
            for item in value:
                _walk(item, items_schema, path + (_key_element(item, keys),), schema, out, True)
            if not value:
                out.add(path)
            return
        if (_is_set(sch) or _is_set(resolved)) and value:
            for item in value:
                out.add(path + ("v:" + json.dumps(item, separators=(",", ":")),))
            return
    out.add(path)      # scalars, atomic lists, empty things


# --- FieldsV1 <-> paths -------------------------------------------------------------------
def to_fields_v1(paths: set[Path]) -> dict:
    root: dict = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    return root


def from_fields_v1(fields: dict | None) -> set[Path]:
    out: set[Path] = set()

    def walk(node: dict, path: Path) -> None:
        if not node and path:
            out.add(path)
        for key, child in (node or {}).items():
            walk(child, path + (key,))
    walk(fields or {}, ())
    return out


# --- reading and changing an object at a path ---------------------------------------------
_MISSING = object()


def _find(container, element: str):
    """(parent container, key or index) for one path element, or None."""
    tag, _, text = element.partition(":")
    if tag == "f" and isinstance(container, dict):
        return (container, text) if text in container else None
    if tag == "k" and isinstance(container, list):
        want = json.loads(text)
        for index, item in enumerate(container):
            if isinstance(item, dict) and all(item.get(k, KEY_DEFAULTS.get(k)) == v
                                              for k, v in want.items()):
                return container, index
        return None
    if tag == "v" and isinstance(container, list):
        want = json.loads(text)
        return (container, container.index(want)) if want in container else None
    return None


def value_at(obj, path: Path):
    node = obj
    for element in path:
        if element == ".":
            return node
        found = _find(node, element)
        if found is None:
            return _MISSING
        node = found[0][found[1]]
    return node


def remove_at(obj, path: Path) -> None:
    parents = [obj]
    node = obj
    if path and path[-1] == ".":
        path = path[:-1]
    for element in path[:-1]:
        found = _find(node, element)
        if found is None:
            return
        node = found[0][found[1]]
        parents.append(node)
    found = _find(node, path[-1]) if path else None
    if found is not None:
        container, key = found
        del container[key]


def path_text(path: Path) -> str:
    """fieldpath.Path.String(): ``.spec.containers[name="app"].image``."""
    out = ""
    for element in path:
        tag, _, text = element.partition(":")
        if tag == "f":
            out += "." + text
        elif tag == "k":
            keys = json.loads(text)
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        elif tag == "v":
            out += f"[={text}]"
    return out


# --- merging an applied configuration -----------------------------------------------------
def merge(current, applied, sch: dict, schema: Schema):
    """structured-merge of ``applied`` into ``current`` (maps by key, list-maps by their keys)."""
    resolved = schema.resolve(sch)
    if isinstance(current, dict) and isinstance(applied, dict):
        out = copy.deepcopy(current)
        for key, value in applied.items():
            out[key] = merge(current.get(key, _MISSING), value, schema.child(resolved, key),
                             schema) if key in current else copy.deepcopy(value)
        return out
    if isinstance(current, list) and isinstance(applied, list):
        keys = _list_keys(sch) or _list_keys(resolved)
        if keys and all(isinstance(i, dict) for i in current + applied):
            items = copy.deepcopy(current)
            for item in applied:
                found = _find(items, _key_element(item, keys))
                if found is None:
                    items.append(copy.deepcopy(item))
                else:
                    items[found[1]] = merge(items[found[1]], item, resolved.get("items", {}),
                                            schema)
            return items
        if _is_set(sch) or _is_set(resolved):
            return copy.deepcopy(current) + [copy.deepcopy(i) for i in applied
                                             if i not in current]
    return copy.deepcopy(applied)


# --- managedFields bookkeeping ------------------------------------------------------------
def _entries(obj: dict | None) -> list[dict]:
    return copy.deepcopy((obj or {}).get("metadata", {}).get("managedFields") or [])


def _entry_key(entry: dict) -> tuple:
    return entry.get("manager"), entry.get("operation"), entry.get("subresource", "")


def track(res: ResourceKind, current: dict | None, new: dict) -> None:
    """Set ``new``'s managedFields for the write under way (see ``CURRENT``)."""
    write = CURRENT.get()
    meta = new.setdefault("metadata", {})
    if write is None or res.virtual:
        if current is not None and current["metadata"].get("managedFields"):
            meta["managedFields"] = _entries(current)
        else:
            meta.pop("managedFields", None)
        return
    schema = Schema(res)
    entries = _entries(current)
    if write.operation == "Apply":
        mine = set(write.applied)
    else:
        before = paths_of(current, schema, skip_status=not write.subresource) if current else set()
        after = paths_of(new, schema, skip_status=not write.subresource)
        mine = {p for p in after if p not in before or value_at(current, p) != value_at(new, p)}
        if write.subresource == "status":
            mine = {p for p in mine if p[:1] == ("f:status",)}
    me = (write.manager, write.operation, write.subresource)
    kept = []
    for entry in entries:
        owned = from_fields_v1(entry.get("fieldsV1"))
        if _entry_key(entry) == me:
            if write.operation == "Update":
                mine |= {p for p in owned if value_at(new, p) is not _MISSING}
            continue
        if write.operation == "Update":
            owned -= mine
        else:     # Apply: a field whose value changed (forced, or free) leaves its owners
            owned = {p for p in owned if p not in mine
                     or value_at(current, p) == value_at(new, p)}
        owned = {p for p in owned if value_at(new, p) is not _MISSING}
        if owned:
            entry["fieldsV1"] = to_fields_v1(owned)
            kept.append(entry)
    if mine:
        old = next((e for e in entries if _entry_key(e) == me), None)
        fields_v1 = to_fields_v1(mine)
        stamp = old["time"] if old and old.get("fieldsV1") == fields_v1 else objects.now()
        entry = {"manager": write.manager, "operation": write.operation,
                 "apiVersion": res.api_version, "time": stamp, "fieldsType": "FieldsV1",
                 "fieldsV1": fields_v1}
        if write.subresource:
            entry["subresource"] = write.subresource
        kept.append(entry)
    if kept:
        meta["managedFields"] = kept
    else:
        meta.pop("managedFields", None)


def _manager_text(entry: dict) -> str:
    text = json.dumps(entry["manager"])
    if entry.get("subresource"):
        text += f' with subresource {json.dumps(entry["subresource"])}'
    if entry.get("operation") == "Update":
        text += f' using {entry.get("apiVersion")} at {entry.get("time")}' if entry.get("time") \
            else f' using {entry.get("apiVersion")}'
    return text


def conflicts(current: dict, applied: dict, paths: set[Path], manager: str) -> list[tuple]:
    """(manager text, path) for each configured field another manager owns with another value."""
    found = []
    for entry in current["metadata"].get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            continue
        if entry.get("subresource") == "status":
            continue
        for path in sorted(from_fields_v1(entry.get("fieldsV1")) & paths):
            if path[-1] == ".":
                continue
            if value_at(current, path) != value_at(applied, path):
                found.append((_manager_text(entry), path))
    return found


class ApplyConflict(status.ApiError):
    """apiserver's fieldmanager NewConflictError: 409 Conflict, one cause per field."""

    def __init__(self, res: ResourceKind, name: str, found: list[tuple]) -> None:
        self.found = found
        super().__init__(409, "Conflict", "ssa.conflict", details={
            "name": name, "group": res.group, "kind": res.plural})

    def message(self, lang: str | None = None) -> str:
        found = self.found
        if len(found) == 1:
            return i18n.t("ssa.conflict_one", lang, manager=found[0][0],
                          field=path_text(found[0][1]))
        lines = []
        for manager in sorted({m for m, _ in found}):
            lines.append(i18n.t("ssa.conflicts_with", lang, manager=manager))
            lines += [f"- {path_text(p)}" for m, p in found if m == manager]
        return i18n.t("ssa.conflict_many", lang, count=len(found), list="\n".join(lines))

    def status(self, lang: str | None = None) -> dict:
        body = super().status(lang)
        body["details"]["causes"] = [
            {"reason": "FieldManagerConflict",
             "message": i18n.t("ssa.conflict_cause", lang, manager=m), "field": path_text(p)}
            for m, p in self.found]
        return body


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _from_last_applied(current: dict, schema: Schema, conflicting: set[Path]) -> bool:
    """apiserver's lastAppliedManager: ``kubectl apply --server-side`` takes over, without
    conflicts, the fields a client-side apply set (those of the last-applied annotation that
    still have the value it gave them)."""
    text = (current["metadata"].get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(text) if text else None
    except ValueError:
        return False
    if not isinstance(last, dict):
        return False
    allowed = {p for p in paths_of(last, schema) if value_at(last, p) == value_at(current, p)}
    return conflicting <= allowed


def _last_applied_text(body: dict) -> str:
    """lastAppliedUpdater: the annotation follows the new configuration (kubectl's layout)."""
    config = copy.deepcopy(body)
    meta = config.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    meta["annotations"] = annotations
    config["metadata"] = meta
    return json.dumps(config, separators=(",", ":"), sort_keys=True) + "\n"


def apply(api, res: ResourceKind, namespace: str, name: str, body: object, manager: str,
          force: bool, dry_run: bool) -> tuple[dict, bool]:
    """Server-side apply of ``body`` by ``manager``: (object, created)."""
    if not isinstance(body, dict):
        raise status.bad_request("api.bad_patch", error="an apply configuration is an object")
    body = copy.deepcopy(body)
    meta = body.get("metadata") or {}
    if meta.get("name") and meta["name"] != name:
        raise status.bad_request("api.name_mismatch", body=meta["name"], url=name)
    meta["name"] = name
    meta.pop("managedFields", None)
    body["metadata"] = meta
    schema = Schema(res)
    applied = paths_of(body, schema)
    current = api.store.get(res, namespace if res.namespaced else "", name)
    write = Write(manager, "Apply", applied=applied, force=force)
    token = CURRENT.set(write)
    try:
        if current is None:
            return api.create(res, namespace, body, dry_run), True
        found = conflicts(current, body, applied, manager)
        if found and not force and manager == "kubectl" and _from_last_applied(
                current, schema, {path for _, path in found}):
            force = True
            write.force = True
        if found and not force:
            raise ApplyConflict(res, name, found)
        merged = merge(current, body, schema.root, schema)
        annotations = merged["metadata"].get("annotations") or {}
        if manager == "kubectl" and LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = _last_applied_text(body)
        mine_before = set()
        others = set()
        for entry in current["metadata"].get("managedFields") or []:
            owned = from_fields_v1(entry.get("fieldsV1"))
            if entry.get("manager") == manager and entry.get("operation") == "Apply":
                mine_before |= owned
            else:
                others |= owned
        if force:
            others -= applied
        kept = applied | others
        inside = {p[:i] for p in kept for i in range(1, len(p))}   # parents of kept fields
        for path in sorted(mine_before - kept - inside, key=len, reverse=True):
            remove_at(merged, path)
        merged["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return api.update(res, namespace, name, merged, dry_run=dry_run), False
    finally:
        CURRENT.reset(token)
