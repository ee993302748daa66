"""What a client may ask a lab daemon to observe for it: one flow, validated, bounded (pure).

An ordinary user observes the kernel through the lab's API (``labkit.nodes.LabApiFlows``): the
daemon, as root, traces one connection (nftables tracing), captures it (tcpdump on every
interface), probes Service doors from one source, or opens one connection to a node or a pod
that listens once and reports the source address it saw (``peer``: no NAT, or whose SNAT). Nothing the client sends reaches a ruleset or a
command line as text: :func:`parse` turns the query into numbers, an IPv4 address inside the lab's
own ranges, a protocol out of two, and pod names that must be the lab's pods; the daemon builds
every command from those. Times and counts are capped here (:data:`MAX_TIMEOUT`, :data:`MAX_PODS`,
:data:`MAX_TARGETS`; tcpdump's own count: ``labkit.capture.MAX_PACKETS``).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import i18n
from .errors import BadInput

FLOW_PATH = "/api/v1/nodes/{node}/proxy/labkit/{what}"       # what: trace | capture | probe | peer
KINDS = ("trace", "capture", "probe", "peer")
PEER_PORT = 18017             # where a peer flow's one-connection listener waits (the daemon's choice)
MAX_TIMEOUT = 10.0            # seconds the client's connection may wait for an answer
MIN_TIMEOUT = 0.5
MAX_PODS = 16                 # extra pods a capture may record in (the Service's candidates)
MAX_TARGETS = 256             # Service doors one probe request may try

MESSAGES = {
    "flow.invalid": {"en": "invalid flow request: {causes}", "fr": "demande de flux invalide : {causes}"},
    "flow.problem.missing": {"en": "required", "fr": "obligatoire"},
    "flow.problem.kind": {"en": "'{value}' is not trace, capture, probe or peer",
                          "fr": "« {value} » n'est ni trace, ni capture, ni probe, ni peer"},
    "flow.problem.pod": {"en": "'{value}' is not a pod name (namespace/name)",
                         "fr": "« {value} » n'est pas un nom de pod (namespace/nom)"},
    "flow.problem.ip": {"en": "'{value}' is not an IPv4 address of the lab ({ranges})",
                        "fr": "« {value} » n'est pas une adresse IPv4 du lab ({ranges})"},
    "flow.problem.port": {"en": "'{value}' is not a port (1-65535)", "fr": "« {value} » n'est pas un port (1-65535)"},
    "flow.problem.protocol": {"en": "'{value}' is not tcp or udp", "fr": "« {value} » n'est ni tcp ni udp"},
    "flow.problem.timeout": {"en": "'{value}' is not a number of seconds between {low:g} and {high:g}",
                             "fr": "« {value} » n'est pas un nombre de secondes entre {low:g} et {high:g}"},
    "flow.problem.too_many": {"en": "at most {limit}", "fr": "au plus {limit}"},
    "flow.problem.target": {"en": "'{value}' is not IP:PORT/tcp|udp inside the lab ({ranges})",
                            "fr": "« {value} » n'est pas IP:PORT/tcp|udp dans le lab ({ranges})"},
}

_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_POD = re.compile(rf"^{_NAME}/{_NAME}(\.{_NAME})*$")


class InvalidFlow(BadInput):
    """A flow request with bad fields: ``causes`` lists (field, message params) for the Status."""

    def __init__(self, causes: list[tuple[str, str, dict]]) -> None:
        self.causes = causes
        text = "; ".join(f"{f}: {i18n.t(k, None, **p)}" for f, k, p in causes)
        super().__init__("flow.invalid", causes=text)


class FlowBusy(Exception):
    """A node is observing another flow (the API answers 429); the message names the nodes."""


@dataclass(frozen=True)
class Target:
    ip: str
    port: int
    protocol: str              # "TCP" | "UDP" (as Services spell it)

    def query(self) -> str:
        return f"{self.ip}:{self.port}/{self.protocol.lower()}"


@dataclass(frozen=True)
class FlowRequest:
    """One validated request: ``pod`` is the source (None: the node itself, probe and peer only).
    A ``peer`` flow connects to ``ip`` (a node's or a pod's address) on :data:`PEER_PORT`."""

    kind: str
    pod: str | None
    ip: str = ""
    port: int = 0
    protocol: str = "tcp"
    timeout: float = 3.0
    also: tuple[str, ...] = ()                 # capture: more pods to record in
    targets: tuple[Target, ...] = field(default=())   # probe: the doors to try

    def query(self) -> list[tuple[str, str]]:
        """The query string that :func:`parse` reads back (the client's side)."""
        q: list[tuple[str, str]] = [("pod", self.pod)] if self.pod else []
        if self.kind == "peer":
            q.append(("ip", self.ip))
        elif self.kind != "probe":
            q += [("ip", self.ip), ("port", str(self.port)), ("protocol", self.protocol)]
        q.append(("timeout", f"{self.timeout:g}"))
        q += [("also", p) for p in self.also]
        q += [("target", t.query()) for t in self.targets]
        return q


def _inside(ip: str, ranges: Sequence[str]) -> bool:
    try:
        addr = ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(r, strict=False) for r in ranges)


def parse(kind: str, query: Mapping[str, Sequence[str]], ranges: Sequence[str]) -> FlowRequest:
    """A :class:`FlowRequest` from a query (each key to its values), or :class:`InvalidFlow`
    naming every bad field. ``ranges``: the lab's node, pod and Service CIDRs."""
    causes: list[tuple[str, str, dict]] = []
    shown = ", ".join(ranges)

    def one(name: str) -> str | None:
        values = list(query.get(name) or [])
        return values[-1] if values else None

    def bad(name: str, problem: str, **params: object) -> None:
        causes.append((name, f"flow.problem.{problem}", params))

    if kind not in KINDS:
        raise InvalidFlow([("kind", "flow.problem.kind", {"value": kind[:20]})])
    pod = one("pod")
    if pod is not None and not _POD.match(pod):
        bad("pod", "pod", value=pod[:80])
    if pod is None and kind not in ("probe", "peer"):
        bad("pod", "missing")
    ip, port, protocol = "", 0, (one("protocol") or "tcp").lower()
    if kind != "probe":
        ip = one("ip") or ""
        if not _inside(ip, ranges):
            bad("ip", "ip", value=ip[:80], ranges=shown)
    if kind == "peer":                      # the daemon picks the port; TCP only
        port = PEER_PORT
        for name in ("port", "protocol"):
            if query.get(name):
                bad(name, "too_many", limit=0)
    elif kind != "probe":
        text = one("port") or ""
        port = int(text) if text.isdigit() and 0 < int(text) < 65536 else 0
        if not port:
            bad("port", "port", value=text[:20])
        if protocol not in ("tcp", "udp"):
            bad("protocol", "protocol", value=protocol[:20])
    timeout = 3.0 if kind != "probe" else 2.0
    if one("timeout") is not None:
        try:
            timeout = float(one("timeout") or "")
        except ValueError:
            timeout = -1.0
        if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            bad("timeout", "timeout", value=str(one("timeout"))[:20], low=MIN_TIMEOUT, high=MAX_TIMEOUT)
    also = tuple(query.get("also") or ())
    if kind != "capture" and also:
        bad("also", "too_many", limit=0)
    elif len(also) > MAX_PODS:
        bad("also", "too_many", limit=MAX_PODS)
    for p in also:
        if not _POD.match(p):
            bad("also", "pod", value=p[:80])
    targets = []
    raw = list(query.get("target") or ())
    if kind != "probe" and raw:
        bad("target", "too_many", limit=0)
    elif len(raw) > MAX_TARGETS:
        bad("target", "too_many", limit=MAX_TARGETS)
    elif kind == "probe" and not raw:
        bad("target", "missing")
    for text in raw if len(raw) <= MAX_TARGETS else []:
        target = _target(text, ranges)
        if target is None:
            bad("target", "target", value=text[:80], ranges=shown)
        else:
            targets.append(target)
    if causes:
        raise InvalidFlow(causes)
    return FlowRequest(kind, pod, ip, port, protocol, timeout, also, tuple(targets))


def peer(pod: str | None, ip: str, timeout: float = 3.0) -> FlowRequest:
    """A peer flow: from ``pod`` (None: the node the request goes to) to the node or pod at ``ip``."""
    return FlowRequest("peer", pod, ip, PEER_PORT, "tcp", timeout)


def _target(text: str, ranges: Sequence[str]) -> Target | None:
    m = re.fullmatch(r"([0-9.]{7,15}):(\d{1,5})/(tcp|udp)", text)
    if not m or not _inside(m.group(1), ranges) or not 0 < int(m.group(2)) < 65536:
        return None
    return Target(m.group(1), int(m.group(2)), m.group(3).upper())


def targets_of(doors: Iterable[tuple[str, int, str]]) -> tuple[Target, ...]:
    return tuple(Target(ip, int(port), proto.upper()) for ip, port, proto in doors)
