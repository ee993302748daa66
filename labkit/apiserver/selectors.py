"""Label and field selectors, as the query string carries them and as objects declare them.

Parsed once per request into small predicate lists, so a watch re-uses the parse for every event.
Field selectors accept any dotted path (``involvedObject.uid`` for ``kubectl describe``), with
``=``, ``==`` and ``!=``; a missing field compares as the empty string, as upstream does.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from .status import bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str                 # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside ``( )``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s+\(([^()]*)\)$")
_EQ = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text:
        return []
    reqs = []
    for part in _split_top(text):
        if m := _SET.match(part):
            values = tuple(v.strip() for v in m.group(4).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), m.group(3), values))
        elif m := _EQ.match(part):
            reqs.append(Requirement(m.group(1), "!=" if m.group(3) == "!=" else "=",
                                    (m.group(4),)))
        elif m := _EXISTS.match(part):
            reqs.append(Requirement(m.group(2), "!" if m.group(1) else "exists"))
        else:
            raise bad_request("api.bad_selector", selector=text, error=part)
    return reqs


def labels_match(reqs: list[Requirement], labels: dict | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in reqs)


def selector_requirements(selector: dict | None) -> list[Requirement] | None:
    """A LabelSelector object (matchLabels/matchExpressions); None if it selects nothing."""
    if selector is None:
        return None
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        reqs.append(Requirement(expr["key"], ops.get(expr.get("operator"), "in"),
                                tuple(expr.get("values") or ())))
    return reqs


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """Does a LabelSelector object select these labels? (empty selects all, None selects none)."""
    reqs = selector_requirements(selector)
    return reqs is not None and labels_match(reqs, labels)


def field_value(obj: dict, path: str) -> str:
    value: object = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_field_selector(text: str | None) -> list[Callable[[dict], bool]]:
    if not text:
        return []
    tests: list[Callable[[dict], bool]] = []
    for part in _split_top(text):
        m = re.match(r"^([A-Za-z0-9_.\-/]+)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise bad_request("api.bad_field_selector", selector=text, error=part)
        path, op, expected = m.group(1), m.group(2), m.group(3).strip()
        tests.append(partial(_field_test, path, expected, op != "!="))
    return tests


def _field_test(path: str, expected: str, equal: bool, obj: dict) -> bool:
    return (field_value(obj, path) == expected) == equal


def fields_match(tests: list[Callable[[dict], bool]], obj: dict) -> bool:
    return all(test(obj) for test in tests)
