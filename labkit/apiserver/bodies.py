"""Request bodies and query parameters, decoded within bounds: bad input is a 4xx, never a 500.

Bounds, as the real API server has them:

* size: 3 MiB per request body (k8s.io/apiserver/pkg/server/config.go ``MaxRequestBodyBytes``
  = 3 * 1024 * 1024), beyond it a 413 ``RequestEntityTooLarge``;
* nesting: 100 levels (real objects nest about 15 deep; the JSON decoder the real server uses,
  sigs.k8s.io/json, caps depth at 10000, which Python's recursion cannot follow);
* YAML aliases: a document whose aliases expand past 100,000 nodes is refused, as go-yaml
  refuses "excessive aliasing" (a 500-byte alias bomb would otherwise become a 70 MB object).
"""
from __future__ import annotations

import json
from typing import Any

import yaml

from . import (
    protobuf,
    status,
)
from .status import ApiError

MAX_BODY_BYTES = 3 * 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 100_000


def too_large(limit: int = MAX_BODY_BYTES) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", "reliability.too_large", limit=limit)


def bounded(value: Any, what: str = "JSON") -> Any:
    """``value`` if its nesting and its expanded size are within bounds; else a 400.

    Shared sub-trees (YAML aliases) are counted as often as they appear, as they would be once
    serialized, but each is walked once (memoized by identity), so the check itself is cheap.
    """
    sizes: dict[int, tuple[int, int]] = {}      # id -> (nodes, depth)

    def measure(node: Any, level: int) -> tuple[int, int]:
        if level > MAX_DEPTH:
            raise status.bad_request("reliability.too_deep", what=what, limit=MAX_DEPTH)
        if not isinstance(node, (dict, list)):
            return 1, 0
        known = sizes.get(id(node))
        if known is not None:
            if level + known[1] > MAX_DEPTH:
                raise status.bad_request("reliability.too_deep", what=what, limit=MAX_DEPTH)
            return known
        children = node.values() if isinstance(node, dict) else node
        total, deepest = 1, 0
        for child in children:
            count, depth = measure(child, level + 1)
            total += count
            deepest = max(deepest, depth + 1)
            if total > MAX_NODES:
                raise status.bad_request("reliability.too_big", what=what, limit=MAX_NODES)
        sizes[id(node)] = (total, deepest)
        return total, deepest
    measure(value, 0)
    return value


def decode_json(data: bytes) -> Any:
    try:
        value = json.loads(data or b"{}")
    except RecursionError as exc:
        raise status.bad_request("reliability.too_deep", what="JSON", limit=MAX_DEPTH) from exc
    except ValueError as exc:
        raise status.bad_request("api.bad_body", error=exc) from exc
    return bounded(value)


def flow_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` outside quotes (a cheap look before a parser recurses:
    PyYAML takes seconds on a few thousand open brackets)."""
    depth = deepest = 0
    quote = 0
    escaped = False
    for byte in data:
        if quote:
            if escaped:
                escaped = False
            elif byte == 0x5C and quote == 0x22:       # backslash inside "..."
                escaped = True
            elif byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth = max(0, depth - 1)
    return deepest


def decode_yaml(data: bytes) -> Any:
    if flow_depth(data) > MAX_DEPTH:
        raise status.bad_request("reliability.too_deep", what="YAML", limit=MAX_DEPTH)
    try:
        value = yaml.safe_load(data) or {}
    except RecursionError as exc:
        raise status.bad_request("reliability.too_deep", what="YAML", limit=MAX_DEPTH) from exc
    except (yaml.YAMLError, ValueError) as exc:
        raise status.bad_request("api.bad_body", error=exc) from exc
    value = bounded(value, "YAML")
    try:
        # a plain copy: no shared sub-trees left for later writers, no non-JSON scalars (dates)
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError) as exc:
        raise status.bad_request("api.bad_body", error=exc) from exc


def decode_protobuf(data: bytes) -> Any:
    try:
        return bounded(protobuf.decode(data), "protobuf")
    except ApiError:
        raise
    except RecursionError as exc:
        raise status.bad_request("reliability.too_deep", what="protobuf", limit=MAX_DEPTH) from exc
    except Exception as exc:
        raise status.bad_request("api.bad_body", error=exc) from exc


def decode(data: bytes, content_type: str) -> Any:
    if len(data) > MAX_BODY_BYTES:
        raise too_large()
    if content_type == "application/vnd.kubernetes.protobuf":
        return decode_protobuf(data)
    if content_type in ("application/yaml", "application/apply-patch+yaml"):
        return decode_yaml(data)
    return decode_json(data)


def query_int(query, name: str, low: int | None = None) -> int | None:
    """An integer query parameter (``timeoutSeconds``, ``gracePeriodSeconds``...), or a 400."""
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise status.bad_request("reliability.bad_query", name=name, value=text[:100]) from None
    if low is not None and value < low:
        raise status.bad_request("reliability.bad_query", name=name, value=text[:100])
    return value
