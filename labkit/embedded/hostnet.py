"""The host's own networks, read once before a lab is built, to refuse overlapping addresses."""
from __future__ import annotations

import ipaddress

from ..inspect.iproute import parse_addr, parse_routes
from . import netns as ns
from .topology import HostNetwork


def host_networks(exclude_links: tuple[str, ...] = ()) -> list[HostNetwork]:
    """Networks in use on this machine (addresses and non-default routes), except on ``exclude_links``."""
    found = []
    for iface in parse_addr(ns.run(["ip", "-j", "addr", "show"])):
        if iface.name in exclude_links or iface.kind == "loopback":
            continue
        for a in iface.ipv4():
            net = ipaddress.ip_network(a.cidr, strict=False)
            found.append(HostNetwork(str(net), f"address {a.cidr} of {iface.name}"))
    for r in parse_routes(ns.run(["ip", "-j", "route", "show", "table", "all"])):
        if r.dev in exclude_links or r.dev == "lo" or r.dst == "default" or r.type != "unicast":
            continue
        if ":" in r.dst:
            continue
        found.append(HostNetwork(r.cidr, f"route {r.describe()}"))
    return found
