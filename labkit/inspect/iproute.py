"""Interfaces and routes from ``ip -j -d addr show`` and ``ip -j route show``.

The JSON of iproute2 is the same on a kind node, in the embedded lab and in a recorded fixture,
so one parser serves them all. Records keep what a learner needs to see the wiring: the kind of
device (veth, bridge, vxlan), its veth peer (index and namespace id when the peer lives in another
namespace, as a pod's ``eth0`` does), its bridge, addresses; routes with gateway, device, scope
and the ``onlink`` flag flannel uses.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Address:
    ip: str
    prefixlen: int
    family: str = "inet"     # "inet" or "inet6"
    scope: str = "global"

    @property
    def cidr(self) -> str:
        return f"{self.ip}/{self.prefixlen}"


@dataclass(frozen=True)
class Interface:
    name: str
    index: int
    kind: str                      # veth, bridge, vxlan, loopback, device, ...
    mac: str | None = None
    mtu: int | None = None
    state: str = "UNKNOWN"         # operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN
    up: bool = False               # administratively up (the UP flag)
    addresses: tuple[Address, ...] = ()
    master: str | None = None      # the bridge this interface is a port of
    peer: str | None = None        # veth peer name when it lives in the same namespace
    peer_index: int | None = None  # veth peer ifindex (in ``peer_netnsid`` when set)
    peer_netnsid: int | None = None
    vxlan: dict[str, Any] | None = None   # id, port, local, learning (vxlan devices)

    def ipv4(self) -> list[Address]:
        return [a for a in self.addresses if a.family == "inet"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Interface:
        data = dict(data)
        data["addresses"] = tuple(Address(**a) for a in data.get("addresses", ()))
        return cls(**data)


@dataclass(frozen=True)
class Route:
    dst: str                       # "default", "10.244.1.0/24", "10.244.0.5" (a host route)
    dev: str | None = None
    gateway: str | None = None
    scope: str = "global"
    protocol: str | None = None    # kernel, boot, bird, ...
    prefsrc: str | None = None
    onlink: bool = False
    type: str = "unicast"          # unicast, local, broadcast, blackhole, ...
    table: str = "main"
    flags: tuple[str, ...] = field(default=())

    @property
    def cidr(self) -> str:
        """The destination as a CIDR (``default`` is ``0.0.0.0/0``; a bare address is a /32)."""
        if self.dst == "default":
            return "0.0.0.0/0"
        return self.dst if "/" in self.dst else f"{self.dst}/32"

    def describe(self) -> str:
        """As ``ip route`` prints it: ``10.244.2.0/24 via 172.18.0.4 dev eth0``."""
        parts = [self.dst]
        if self.gateway:
            parts += ["via", self.gateway]
        if self.dev:
            parts += ["dev", self.dev]
        if self.scope not in ("global", "universe") and not self.gateway:
            parts += ["scope", self.scope]
        if self.prefsrc:
            parts += ["src", self.prefsrc]
        if self.onlink:
            parts.append("onlink")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Route:
        data = dict(data)
        data["flags"] = tuple(data.get("flags", ()))
        return cls(**data)


def _load(text: str | list[Any]) -> list[dict[str, Any]]:
    if isinstance(text, list):
        return text
    text = text.strip()
    return json.loads(text) if text else []


def parse_addr(text: str | list[Any]) -> list[Interface]:
    """Parse ``ip -j -d addr show`` (``ip -j addr`` and ``ip -j -d link`` work too)."""
    interfaces = []
    for link in _load(text):
        info = link.get("linkinfo") or {}
        kind = info.get("info_kind") or ("loopback" if link.get("link_type") == "loopback" else "device")
        data = info.get("info_data") or {}
        vxlan = None
        if kind == "vxlan":
            vxlan = {"id": data.get("id"), "port": data.get("port"), "local": data.get("local"),
                     "learning": data.get("learning"), "link": data.get("link")}
        peer_name = link.get("link") if kind == "veth" and "link_netnsid" not in link else None
        flags = link.get("flags", [])
        addresses = tuple(
            Address(ip=a["local"], prefixlen=int(a["prefixlen"]), family=a.get("family", "inet"),
                    scope=a.get("scope", "global"))
            for a in link.get("addr_info", []) if "local" in a)
        interfaces.append(Interface(
            name=link["ifname"], index=int(link["ifindex"]), kind=kind, mac=link.get("address"),
            mtu=link.get("mtu"), state=link.get("operstate", "UNKNOWN"), up="UP" in flags,
            addresses=addresses, master=link.get("master"),
            peer=peer_name if isinstance(peer_name, str) else None,
            peer_index=link.get("link_index"), peer_netnsid=link.get("link_netnsid"), vxlan=vxlan))
    return interfaces


def parse_routes(text: str | list[Any]) -> list[Route]:
    """Parse ``ip -j route show`` (any table; ``ip -j route show table all`` included)."""
    routes = []
    for r in _load(text):
        flags = tuple(r.get("flags", []))
        routes.append(Route(
            dst=r["dst"], dev=r.get("dev"), gateway=r.get("gateway"),
            scope=r.get("scope", "global"), protocol=r.get("protocol"), prefsrc=r.get("prefsrc"),
            onlink="onlink" in flags, type=r.get("type", "unicast"), table=str(r.get("table", "main")),
            flags=flags))
    return routes


def route_for(routes: list[Route], ip: str) -> Route | None:
    """The route the kernel would pick for ``ip`` in the main table (longest prefix wins). A route
    that drops (``blackhole``, ``unreachable``, ``prohibit``) is picked like any other: the kernel's
    lookup ends there (fib_table_lookup, then the type's error), it does not fall to a shorter prefix."""
    import ipaddress

    addr = ipaddress.ip_address(ip)
    best: tuple[int, Route] | None = None
    for r in routes:
        if r.table != "main" or r.type not in ("unicast", "blackhole", "unreachable", "prohibit"):
            continue
        try:
            net = ipaddress.ip_network(r.cidr, strict=False)
        except ValueError:
            continue
        if net.version == addr.version and addr in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, r)
    return best[1] if best else None
