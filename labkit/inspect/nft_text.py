"""Parse nft text: what ``nft list ruleset`` prints, and ``nft -f`` transactions.

``nft list`` nests objects in blocks and wraps long element lists over several lines; an
``nft -f`` transaction (what :mod:`.nftables` writes, or kube-proxy through knftables) has one
``add``/``delete``/``flush`` command per line. Both become :class:`NftTable` records.
"""
from __future__ import annotations

import re

from ..errors import BadInput
from .nft_ruleset import MapElement, NftTable, parse_element

_BLOCK = re.compile(r"^(chain|set|map|flowtable|counter|quota|limit|secmark|synproxy|ct\s+\w+)\s+(\S+)\s*\{$")
_TABLE = re.compile(r"^table\s+(\w+)\s+(\S+)\s*\{$")
_COMMAND = re.compile(r"^(add|create|insert|delete|destroy|flush|replace)\s+(table|chain|rule|set|map|element)\s+(\w+)\s+(\S+)\s*(.*)$")


def split_elements(body: str) -> list[str]:
    """Split ``a, b . c : goto x, ...`` on the commas that separate elements (not in quotes/braces)."""
    items, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(body):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{[(":
            depth += 1
        elif not quoted and ch in "}])":
            depth -= 1
        elif ch == "," and not quoted and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    return [item.strip() for item in items if item.strip()]


def _braces(text: str) -> int:
    return text.count("{") - text.count("}")


def _strip_braces(text: str) -> str:
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return text


def parse_nft_text(text: str, source: str = "<nft>") -> list[NftTable]:
    """Tables found in ``nft list ruleset`` output or in an ``nft -f`` transaction."""
    lines = text.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")), "")
    if _COMMAND.match(first):
        return _parse_commands(lines, source)
    return _parse_listing(lines, source)


def _parse_listing(lines: list[str], source: str) -> list[NftTable]:
    tables: list[NftTable] = []
    table: NftTable | None = None
    block: tuple[str, str] | None = None
    pending, pending_start = "", 0
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if pending:
            pending += " " + line
            if _braces(pending) > 0:
                continue
            line, pending = pending, ""
        if not line or line.startswith("#"):
            continue
        if table is None:
            m = _TABLE.match(line)
            if not m:
                raise BadInput("kubeproxy.bad_nft_text", source=source, line=n, reason=line[:80])
            table = NftTable(m.group(1), m.group(2))
            tables.append(table)
            continue
        if block is None:
            if line == "}":
                table = None
                continue
            m = _BLOCK.match(line)
            if m:
                block = (m.group(1), m.group(2))
                if block[0] == "chain":
                    table.chains.setdefault(block[1], [])
                elif block[0] in ("set", "map"):
                    table.sets.setdefault(block[1], [])
            # a table-level attribute (comment "...", flags ...) otherwise: nothing to keep
            continue
        if line == "}":
            block = None
            continue
        if _braces(line) > 0:
            pending, pending_start = line, n
            continue
        _block_line(table, block, line)
    if pending or block is not None or table is not None:
        raise BadInput("kubeproxy.bad_nft_text", source=source, line=pending_start or len(lines),
                       reason="unbalanced braces")
    return tables


def _block_line(table: NftTable, block: tuple[str, str], line: str) -> None:
    kind, name = block
    if kind == "chain":
        if line.startswith(("type ", "comment ", "policy ", "devices ")):
            return  # chain attributes, not rules
        table.chains[name].append(line)
    elif kind in ("set", "map") and line.startswith("elements"):
        body = _strip_braces(line.partition("=")[2])
        table.sets[name] += [parse_element(e) for e in split_elements(body)]


def _parse_commands(lines: list[str], source: str) -> list[NftTable]:
    tables: dict[tuple[str, str], NftTable] = {}
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _COMMAND.match(line)
        if not m:
            raise BadInput("kubeproxy.bad_nft_text", source=source, line=n, reason=line[:80])
        verb, obj, family, table_name, rest = m.groups()
        key = (family, table_name)
        if obj == "table":
            if verb in ("delete", "destroy"):
                tables.pop(key, None)
            elif verb == "flush" and key in tables:
                tables[key] = NftTable(family, table_name)
            else:
                tables.setdefault(key, NftTable(family, table_name))
            continue
        table = tables.setdefault(key, NftTable(family, table_name))
        name, _, body = rest.partition(" ")
        _command(table, verb, obj, name, body.strip())
    return list(tables.values())


def _command(table: NftTable, verb: str, obj: str, name: str, body: str) -> None:
    if obj == "chain":
        if verb in ("delete", "destroy"):
            table.chains.pop(name, None)
        elif verb == "flush":
            table.chains[name] = []
        else:
            table.chains.setdefault(name, [])
    elif obj in ("set", "map"):
        if verb in ("delete", "destroy"):
            table.sets.pop(name, None)
        elif verb == "flush":
            table.sets[name] = []
        else:
            table.sets.setdefault(name, [])
    elif obj == "rule" and verb in ("add", "insert", "create"):
        table.chains.setdefault(name, []).append(body)
    elif obj == "element":
        elements = [parse_element(e) for e in split_elements(_strip_braces(body))]
        if verb in ("delete", "destroy"):
            drop = {e.key for e in elements}
            table.sets[name] = [e for e in table.sets.get(name, []) if e.key not in drop]
        else:
            table.sets.setdefault(name, []).extend(elements)


__all__ = ["parse_nft_text", "split_elements", "MapElement"]
