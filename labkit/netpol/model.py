"""What the policy engine reasons about: namespaces, pods and NetworkPolicies, as plain data.

The classes are frozen dataclasses so a scenario step ("label pod x/b", "update the policy") is
a ``dataclasses.replace`` that leaves the previous step intact, and so compiled selectors can be
cached by value. A ``NetworkPolicy`` here is always the *defaulted and validated* form (see
``parse.parse_policy``): ``policy_types`` is explicit and every ``Port`` has its protocol.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from .selector import LabelSelector

INGRESS, EGRESS = "Ingress", "Egress"
PROTOCOLS = ("TCP", "UDP", "SCTP")
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _copy_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """A private str->str copy, so changing the caller's dict never changes a pod in place."""
    return {str(k): str(v) for k, v in (labels or {}).items()}


@dataclass(frozen=True)
class Namespace:
    """A namespace and its labels; the API server always adds ``kubernetes.io/metadata.name``."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = _copy_labels(self.labels)
        labels.setdefault(NAMESPACE_NAME_LABEL, self.name)
        object.__setattr__(self, "labels", labels)

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True)
class ContainerPort:
    """A port a container declares; only named ones matter to policies (``port: serve-80-tcp``)."""

    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True)
class Pod:
    """A pod as the engine sees it: where it lives, its labels, its IP and its declared ports."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ip: str | None = None
    ports: tuple[ContainerPort, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _copy_labels(self.labels))
        object.__setattr__(self, "ports", tuple(self.ports))

    def __hash__(self) -> int:
        return hash((self.namespace, self.name))

    @property
    def key(self) -> str:
        """``namespace/name``, the name used in tables, JSON and the CLI."""
        return f"{self.namespace}/{self.name}"

    def resolve_port(self, name: str, protocol: str) -> int | None:
        """The number a named port stands for on this pod, for this protocol (or None)."""
        for cp in self.ports:
            if cp.name == name and cp.protocol == protocol:
                return cp.port
        return None


@dataclass(frozen=True)
class Port:
    """One ``ports`` entry of a rule: a number (optionally a range up to ``end_port``, inclusive),
    a container port name resolved on the destination pod, or None for every port."""

    port: int | str | None = None
    protocol: str = "TCP"
    end_port: int | None = None

    def matches(self, dst: Pod, port: int, protocol: str) -> bool:
        """Whether traffic to ``dst`` on ``port``/``protocol`` falls under this entry."""
        if protocol != self.protocol:
            return False
        if self.port is None:
            return True
        if isinstance(self.port, str):
            return dst.resolve_port(self.port, protocol) == port
        if self.end_port is not None:
            return self.port <= port <= self.end_port
        return port == self.port

    def __str__(self) -> str:
        if self.port is None:
            return self.protocol
        if self.end_port is not None:
            return f"{self.protocol}/{self.port}-{self.end_port}"
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True)
class IPBlock:
    """``cidr`` minus each ``except`` block."""

    cidr: str
    excepts: tuple[str, ...] = ()

    def contains(self, ip: str | None) -> bool:
        if not ip:
            return False
        addr = ipaddress.ip_address(ip)
        net = ipaddress.ip_network(self.cidr, strict=False)
        if addr.version != net.version or addr not in net:
            return False
        return not any(addr in ipaddress.ip_network(e, strict=False) for e in self.excepts)

    def __str__(self) -> str:
        return self.cidr + (f" except {', '.join(self.excepts)}" if self.excepts else "")


@dataclass(frozen=True)
class Peer:
    """One ``from``/``to`` entry. Selectors in one peer are ANDed; separate peers are ORed.

    ``pod_selector`` alone means pods of the *policy's* namespace; ``namespace_selector`` alone
    means every pod of the matching namespaces (``{}``: all namespaces)."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {self.namespace_selector}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {self.pod_selector}")
        return " + ".join(parts)


@dataclass(frozen=True)
class Rule:
    """An ingress or egress rule. Empty ``peers`` means every peer, empty ``ports`` every port."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[Port, ...] = ()


@dataclass(frozen=True)
class NetworkPolicy:
    """A defaulted, validated NetworkPolicy (build one with ``parse_policy`` from a dict)."""

    namespace: str
    name: str
    pod_selector: LabelSelector = LabelSelector()
    policy_types: tuple[str, ...] = (INGRESS,)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == INGRESS else self.egress

    def affects(self, direction: str) -> bool:
        return direction in self.policy_types
