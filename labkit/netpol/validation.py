"""API-server defaulting and validation of NetworkPolicy objects (the dict form of the API).

The engine never sees a policy the API server would have refused or would have changed, because
the traps live exactly there: a policy without ``policyTypes`` whose author wrote ``egress: []``
becomes a default-deny *ingress* policy (defaulting), and a peer ``{}`` is an error, not "allow
all" (validation). The checks and their field paths follow ``pkg/apis/networking/validation`` and
apimachinery's label-selector validation, so the lab's API server can return the same 422 causes
(``FieldError.to_cause``) as a real one. Messages exist in English (upstream's wording) and French.
"""
from __future__ import annotations

import copy
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import i18n
from .model import EGRESS, INGRESS, PROTOCOLS
from .selector import DOES_NOT_EXIST, EXISTS, IN, NOT_IN

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"

_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")


@dataclass(frozen=True)
class FieldError:
    """One validation failure: the field path, the kind of error and a bilingual detail."""

    type: str
    field: str
    detail: str | None = None  # catalog key (without the "netpol.field." prefix)
    value: Any = None
    params: tuple[tuple[str, Any], ...] = ()

    def message(self, lang: str | None = None) -> str:
        """Like the API server's cause message, e.g. ``Required value: must specify a peer``."""
        head = i18n.t(f"netpol.fieldtype.{self.type}", lang, value=json.dumps(self.value))
        if not self.detail:
            return head
        return i18n.t("netpol.field.join", lang, head=head,
                      detail=i18n.t(f"netpol.field.{self.detail}", lang, **dict(self.params)))

    def to_cause(self, lang: str | None = None) -> dict[str, str]:
        """An entry of ``Status.details.causes`` for a 422 answer."""
        return {"reason": self.type, "message": self.message(lang), "field": self.field}

    def render(self, lang: str | None = None) -> str:
        return i18n.t("netpol.field.line", lang, field=self.field, message=self.message(lang))

    def __str__(self) -> str:
        return self.render()


def default_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` with the API server's defaults applied (``defaults.go``).

    ``policyTypes`` empty or absent becomes ``[Ingress]``, plus ``Egress`` only when
    ``spec.egress`` is non-empty; every ``ports`` entry without a protocol gets ``TCP``.
    Malformed parts are left alone for ``validate_policy`` to report.
    """
    out = copy.deepcopy(dict(obj))
    spec = out.get("spec")
    if not isinstance(spec, dict):
        return out
    if not spec.get("policyTypes"):
        egress = spec.get("egress")
        spec["policyTypes"] = [INGRESS] + ([EGRESS] if egress else [])
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        if not isinstance(rules, list):
            continue
        for rule in rules:
            ports = rule.get("ports") if isinstance(rule, dict) else None
            for port in ports if isinstance(ports, list) else ():
                if isinstance(port, dict) and port.get("protocol") is None:
                    port["protocol"] = "TCP"
    return out


def validate_policy(obj: Mapping[str, Any]) -> list[FieldError]:
    """Every reason the API server would refuse this NetworkPolicy (empty list: valid).

    Call it on the object as submitted; it applies the defaults first, as the API server does.
    """
    checker = _Checker()
    checker.policy(default_policy(obj) if isinstance(obj, Mapping) else obj)
    return checker.errors


class _Checker:
    """Walks the dict, collecting errors with their paths; never raises on odd shapes."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, type_: str, path: str, detail: str | None = None, value: Any = None, **params: Any) -> None:
        self.errors.append(FieldError(type_, path, detail, value, tuple(params.items())))

    def expect(self, value: Any, kind: type | tuple[type, ...], path: str, detail: str) -> bool:
        if value is None or isinstance(value, kind):
            return True
        self.add(INVALID, path, detail, _printable(value))
        return False

    def policy(self, obj: Any) -> None:
        if not isinstance(obj, Mapping):
            self.add(INVALID, "<root>", "not_object", _printable(obj))
            return
        meta = obj.get("metadata")
        if self.expect(meta, Mapping, "metadata", "not_object"):
            self.name((meta or {}).get("name"), (meta or {}).get("generateName"))
        spec = obj.get("spec")
        if spec is None:
            spec = {}
        if not self.expect(spec, Mapping, "spec", "not_object"):
            return
        self.selector(spec.get("podSelector"), "spec.podSelector")
        for direction, peers_field in (("ingress", "from"), ("egress", "to")):
            rules = spec.get(direction)
            if not self.expect(rules, list, f"spec.{direction}", "not_list"):
                continue
            for i, rule in enumerate(rules or ()):
                self.rule(rule, f"spec.{direction}[{i}]", peers_field)
        self.policy_types(spec.get("policyTypes"))

    def name(self, name: Any, generate_name: Any) -> None:
        if not name and not generate_name:
            self.add(REQUIRED, "metadata.name", "name_required")
        elif name and (not isinstance(name, str) or len(name) > 253 or not _DNS_SUBDOMAIN.match(name)):
            self.add(INVALID, "metadata.name", "dns_subdomain", _printable(name))

    def rule(self, rule: Any, path: str, peers_field: str) -> None:
        if rule is None:
            return
        if not self.expect(rule, Mapping, path, "not_object"):
            return
        ports = rule.get("ports")
        if self.expect(ports, list, f"{path}.ports", "not_list"):
            for i, port in enumerate(ports or ()):
                self.port(port, f"{path}.ports[{i}]")
        peers = rule.get(peers_field)
        if self.expect(peers, list, f"{path}.{peers_field}", "not_list"):
            for i, peer in enumerate(peers or ()):
                self.peer(peer, f"{path}.{peers_field}[{i}]")

    def port(self, port: Any, path: str) -> None:
        if not self.expect(port, Mapping, path, "not_object") or port is None:
            return
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            self.add(NOT_SUPPORTED, f"{path}.protocol", "supported_protocols", _printable(protocol))
        number, end_port = port.get("port"), port.get("endPort")
        if end_port is not None and (isinstance(end_port, bool) or not isinstance(end_port, int)):
            self.add(INVALID, f"{path}.endPort", "not_integer", _printable(end_port))
            end_port = None
        if number is None:
            if end_port is not None:
                self.add(INVALID, f"{path}.endPort", "end_port_without_port", end_port)
        elif isinstance(number, int) and not isinstance(number, bool):
            self.port_number(number, f"{path}.port")
            if end_port is not None:
                if end_port < number:
                    self.add(INVALID, f"{path}.endPort", "end_port_below_port", end_port)
                self.port_number(end_port, f"{path}.endPort")
        elif isinstance(number, str):
            if end_port is not None:
                self.add(INVALID, f"{path}.endPort", "end_port_named", end_port)
            for detail in _port_name_problems(number):
                self.add(INVALID, f"{path}.port", detail, number)
        else:
            self.add(INVALID, f"{path}.port", "not_port", _printable(number))

    def port_number(self, number: int, path: str) -> None:
        if not 1 <= number <= 65535:
            self.add(INVALID, path, "port_range", number)

    def peer(self, peer: Any, path: str) -> None:
        if not self.expect(peer, Mapping, path, "not_object"):
            return
        peer = peer or {}
        present = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
        for key in ("podSelector", "namespaceSelector"):
            if peer.get(key) is not None:
                self.selector(peer[key], f"{path}.{key}")
        if peer.get("ipBlock") is not None:
            self.ip_block(peer["ipBlock"], f"{path}.ipBlock")
        if not present:
            self.add(REQUIRED, path, "peer_required")
        elif len(present) > 1 and "ipBlock" in present:
            self.add(FORBIDDEN, path, "ipblock_and_selector")

    def ip_block(self, block: Any, path: str) -> None:
        if not self.expect(block, Mapping, path, "not_object"):
            return
        cidr = block.get("cidr")
        if not cidr:
            self.add(REQUIRED, f"{path}.cidr")
            return
        network = _parse_cidr(cidr)
        if network is None:
            self.add(INVALID, f"{path}.cidr", "cidr", _printable(cidr))
            return
        excepts = block.get("except")
        if not self.expect(excepts, list, f"{path}.except", "not_list"):
            return
        for i, text in enumerate(excepts or ()):
            sub = _parse_cidr(text)
            if sub is None:
                self.add(INVALID, f"{path}.except[{i}]", "cidr", _printable(text))
            elif (sub.version != network.version or sub.network_address not in network
                  or sub.prefixlen <= network.prefixlen):
                self.add(INVALID, f"{path}.except[{i}]", "except_subset", text)

    def selector(self, sel: Any, path: str) -> None:
        if not self.expect(sel, Mapping, path, "not_object") or sel is None:
            return
        labels = sel.get("matchLabels")
        if self.expect(labels, Mapping, f"{path}.matchLabels", "not_object"):
            for key, value in (labels or {}).items():
                self.label_key(key, f"{path}.matchLabels")
                self.label_value(value, f"{path}.matchLabels")
        exprs = sel.get("matchExpressions")
        if not self.expect(exprs, list, f"{path}.matchExpressions", "not_list"):
            return
        for i, expr in enumerate(exprs or ()):
            self.requirement(expr, f"{path}.matchExpressions[{i}]")

    def requirement(self, expr: Any, path: str) -> None:
        if not self.expect(expr, Mapping, path, "not_object") or expr is None:
            return
        op, values = expr.get("operator"), expr.get("values")
        if not self.expect(values, list, f"{path}.values", "not_list"):
            values = None
        if op in (IN, NOT_IN):
            if not values:
                self.add(REQUIRED, f"{path}.values", "values_required")
        elif op in (EXISTS, DOES_NOT_EXIST):
            if values:
                self.add(FORBIDDEN, f"{path}.values", "values_forbidden")
        else:
            self.add(INVALID, f"{path}.operator", "operator", _printable(op))
        self.label_key(expr.get("key"), f"{path}.key")
        for i, value in enumerate(values or ()):
            self.label_value(value, f"{path}.values[{i}]")

    def label_key(self, key: Any, path: str) -> None:
        if not isinstance(key, str) or not _valid_label_key(key):
            self.add(INVALID, path, "label_key", _printable(key))

    def label_value(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or (value and (len(value) > 63 or not _LABEL_NAME.match(value))):
            self.add(INVALID, path, "label_value", _printable(value))

    def policy_types(self, types: Any) -> None:
        if not self.expect(types, list, "spec.policyTypes", "not_list"):
            return
        types = types or []
        if len(types) > 2:
            self.add(INVALID, "spec.policyTypes", "too_many_policy_types", _printable(types))
            return
        for i, value in enumerate(types):
            if value not in (INGRESS, EGRESS):
                self.add(NOT_SUPPORTED, f"spec.policyTypes[{i}]", "supported_policy_types", _printable(value))


def _printable(value: Any) -> Any:
    """A JSON-friendly copy of a bad value, for the message and the 422 cause."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def _parse_cidr(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """Parse like ``netutils.ParseCIDRSloppy``: host bits may be set (upstream e2e relies on it)."""
    if not isinstance(text, str) or "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _valid_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return bool(name) and len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _port_name_problems(name: str) -> list[str]:
    """The IANA_SVC_NAME rules of ``validation.IsValidPortName``, as detail keys."""
    problems = []
    if len(name) > 15:
        problems.append("port_name_length")
    if not _PORT_NAME_CHARS.match(name):
        problems.append("port_name_chars")
    if not re.search(r"[a-z]", name):
        problems.append("port_name_letter")
    if "--" in name:
        problems.append("port_name_hyphens")
    if name.startswith("-") or name.endswith("-"):
        problems.append("port_name_edges")
    return problems
