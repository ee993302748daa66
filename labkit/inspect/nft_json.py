"""Parse ``nft -j list ruleset`` (libnftables-json(5)) into :class:`NftTable` records.

Rules are turned back into nft text for the few statements kube-proxy uses (matches, verdicts,
``numgen`` vmaps, ``dnat``, set updates), so one rule reader serves the text and JSON forms.
Statements it does not know become ``<name>`` placeholders: they never decide where a service
connection goes, and a node's other tables are full of them.
"""
from __future__ import annotations

import json
from typing import Any

from ..errors import BadInput
from .nft_ruleset import MapElement, NftTable

_VERDICTS = ("accept", "drop", "continue", "return", "queue", "reject")


def expr(e: Any) -> str:
    """nft text of an expression (``{"payload": {"protocol": "ip", "field": "daddr"}}`` → ``ip daddr``)."""
    if isinstance(e, bool):
        return "exists" if e else "missing"
    if isinstance(e, (str, int, float)):
        return str(e)
    if isinstance(e, list):
        return "{ " + ", ".join(expr(x) for x in e) + " }"
    if not isinstance(e, dict) or len(e) != 1:
        return "<?>"
    (kind, v), = e.items()
    if kind == "payload":
        return f"{v.get('protocol')} {v.get('field')}"
    if kind in ("meta", "ct"):
        return f"{'meta ' if kind == 'meta' else 'ct '}{v.get('key')}"
    if kind == "fib":
        flags = v.get("flags", [])
        flags = [flags] if isinstance(flags, str) else flags
        return f"fib {' . '.join(flags)} {v.get('result')}"
    if kind == "numgen":
        return f"numgen {v.get('mode')} mod {v.get('mod')}"
    if kind == "concat":
        return " . ".join(expr(x) for x in v)
    if kind == "prefix":
        return f"{v.get('addr')}/{v.get('len')}"
    if kind == "range":
        return f"{expr(v[0])}-{expr(v[1])}"
    if kind == "set":
        return "{ " + ", ".join(_set_item(x) for x in (v if isinstance(v, list) else [v])) + " }"
    if kind == "elem":
        return expr(v.get("val"))
    if kind in ("&", "|", "^", "<<", ">>"):
        return f" {kind} ".join(expr(x) for x in v)
    if kind in ("goto", "jump"):
        return f"{kind} {v.get('target')}"
    if kind in _VERDICTS:
        return str(kind)
    return f"<{kind}>"


def _set_item(x: Any) -> str:
    if isinstance(x, list) and len(x) == 2:  # a map entry: key, value
        return f"{expr(x[0])} : {expr(x[1])}"
    return expr(x)


def stmt(s: Any) -> str:
    """nft text of one statement of a rule's ``expr`` list."""
    if not isinstance(s, dict) or len(s) != 1:
        return "<?>"
    (kind, v), = s.items()
    if kind == "match":
        op = v.get("op", "==")
        binary = isinstance(v.get("left"), dict) and next(iter(v["left"]), "") in ("&", "|", "^")
        op = "" if op in ("==", "in") and not binary else f"{op} "
        return f"{expr(v.get('left'))} {op}{expr(v.get('right'))}"
    if kind == "vmap":
        return f"{expr(v.get('key'))} vmap {expr(v.get('data'))}"
    if kind in ("dnat", "snat"):
        addr, port = expr(v.get("addr")), v.get("port")
        return f"{kind} to {addr}:{port}" if port is not None else f"{kind} to {addr}"
    if kind == "mangle":
        return f"{expr(v.get('key'))} set {expr(v.get('value'))}"
    if kind == "set":
        return f"{v.get('op')} {v.get('set')} {{ {expr(v.get('elem'))} }}"
    if kind == "masquerade":
        flags = (v or {}).get("flags", [])
        flags = [flags] if isinstance(flags, str) else flags
        return " ".join(["masquerade", *flags])
    if kind in ("goto", "jump") or kind in _VERDICTS:
        return expr(s)
    return f"<{kind}>"


def _element(item: Any, is_map: bool) -> MapElement:
    key, value = (item[0], item[1]) if is_map and isinstance(item, list) and len(item) == 2 else (item, None)
    comment = None
    if isinstance(key, dict) and "elem" in key:
        comment = key["elem"].get("comment")
        key = key["elem"].get("val")
    parts = key["concat"] if isinstance(key, dict) and "concat" in key else [key]
    return MapElement(tuple(expr(p) for p in parts), expr(value) if value is not None else None, comment)


def parse_nft_json(text: str, source: str = "<nft -j>") -> list[NftTable]:
    """Tables found in ``nft -j list ruleset`` output."""
    try:
        doc = json.loads(text)
        items = doc["nftables"]
        if not isinstance(items, list):
            raise TypeError("'nftables' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput("kubeproxy.bad_nft_json", source=source, reason=str(exc).splitlines()[0]) from exc
    tables: dict[tuple[str, str], NftTable] = {}

    def table(obj: dict[str, Any]) -> NftTable:
        key = (obj.get("family", "ip"), obj.get("table") or obj.get("name", ""))
        return tables.setdefault(key, NftTable(*key))

    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            continue
        (kind, obj), = item.items()
        if kind == "table":
            table(obj)
        elif kind == "chain":
            table(obj).chains.setdefault(obj["name"], [])
        elif kind in ("set", "map"):
            elems = obj.get("elem", [])
            table(obj).sets[obj["name"]] = [_element(e, kind == "map") for e in elems]
        elif kind == "rule":
            text_ = " ".join(stmt(s) for s in obj.get("expr", []))
            if obj.get("comment"):
                text_ += f' comment "{obj["comment"]}"'
            table(obj).chains.setdefault(obj["chain"], []).append(text_)
    return list(tables.values())
