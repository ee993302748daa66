"""The three PATCH flavours kubectl and the Python client send.

- JSON merge patch (RFC 7386): ``label``, ``annotate``, ``scale``.
- JSON patch (RFC 6902): ``kubectl patch --type=json``.
- Strategic merge patch: ``apply``, ``set image``, ``rollout restart``, the Python client's
  ``patch_*``. Upstream reads merge keys from Go struct tags; we keep the handful that matter
  for the kinds we serve (``MERGE_KEYS``) and treat every other list as atomic, as upstream does
  for lists without a strategy.
"""
from __future__ import annotations

import copy
from typing import Any

# list field name -> merge key candidates (first one present in the items wins)
MERGE_KEYS = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
    "volumes": ("name",), "env": ("name",), "imagePullSecrets": ("name",),
    "ports": ("containerPort", "port"), "volumeMounts": ("mountPath",),
    "conditions": ("type",), "ownerReferences": ("uid",), "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",), "resourceClaims": ("name",),
}
# lists of scalars merged as sets (patchStrategy "merge" on a []string)
MERGE_SCALAR_LISTS = {"finalizers"}


class PatchError(ValueError):
    """The patch cannot be applied (wrong path, failed test, wrong shape)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_key(name: str, items: list) -> str | None:
    for candidate in MERGE_KEYS.get(name, ()):
        if any(isinstance(i, dict) and candidate in i for i in items):
            return candidate
    return None


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch, good enough for ``kubectl apply`` on the kinds we serve."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue  # $setElementOrder/..., $retainKeys: order and pruning hints we can ignore
        if key.startswith("$deleteFromPrimitiveList/"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            merged = strategic_merge(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name, []) if v not in value]
    return result


def _merge_list(name: str, current: Any, patch: list) -> list:
    current = current if isinstance(current, list) else []
    if name in MERGE_SCALAR_LISTS:
        return current + [v for v in patch if v not in current]
    key = _merge_key(name, patch + current)
    if key is None:
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
            return [i for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        return copy.deepcopy(patch)
    result = [copy.deepcopy(i) for i in current]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"list {name} holds objects, got {item!r}")
        if item.get("$patch") == "replace":
            return [copy.deepcopy(i) for i in patch if i is not item]
        index = next((n for n, cur in enumerate(result)
                      if isinstance(cur, dict) and cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(strategic_merge({}, item))
        else:
            result[index] = strategic_merge(result[index], item)
    return result


# --- RFC 6902 ---------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            try:
                doc = doc[int(part)]
            except (ValueError, IndexError) as exc:
                raise PatchError(f"no element {part!r}") from exc
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            raise PatchError(f"no field {part!r}")
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if index > len(parent):
            raise PatchError(f"index {index} out of range")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"cannot add to {parts!r}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    try:
        if isinstance(parent, list):
            return parent.pop(int(last))
        return parent.pop(last)
    except (KeyError, IndexError, ValueError) as exc:
        raise PatchError(f"no field {last!r} to remove") from exc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add/remove/replace/move/copy/test on a copy of ``target``."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"bad operation {op!r}")
        parts, verb = _pointer(op["path"]), op["op"]
        if verb == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif verb == "remove":
            _remove(doc, parts)
        elif verb == "replace":
            _walk(doc, parts)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif verb in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = copy.deepcopy(_walk(doc, source))
            if verb == "move":
                _remove(doc, source)
            doc = _add(doc, parts, value)
        elif verb == "test":
            if _walk(doc, parts) != op.get("value"):
                raise PatchError(f"test failed at {op['path']}")
        else:
            raise PatchError(f"unknown operation {verb!r}")
    return doc
