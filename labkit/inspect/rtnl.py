"""A pod's links, addresses and routes read over rtnetlink in-process, as ``ip -j -d addr show`` and
``ip -j route show`` print them (the fields :func:`labkit.inspect.iproute.parse_addr` and
:func:`~labkit.inspect.iproute.parse_routes` read).

A snapshot of 60 pods started one ``ip -batch`` process per pod (74 process starts with the nodes'
commands, a third of the snapshot's time). Here one netlink socket per pod namespace does the three
dumps (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) from a thread that entered the namespace with
``setns(2)`` (a network namespace is per thread: the process and its other threads stay where they
are; a socket belongs to the namespace it was created in). pyroute2's ``IPRoute`` was measured first:
about 10 ms a pod (it decodes every attribute: statistics, per-family settings), more than the ``ip``
process it replaces; the messages are decoded here with :mod:`struct`, only the attributes drawn.

Where the JSON comes from, to read it the same way (iproute2 6.1): ``ip/ipaddress.c``
``print_linkinfo`` (flags, ``link``/``link_index``/``link_netnsid``, ``operstate``, ``link_type``,
``address``, ``linkinfo.info_kind``), ``print_addrinfo`` (``local``, ``prefixlen``, ``scope``),
``ip/iproute.c`` ``print_route`` and ``filter_nlmsg`` (table main only, IPv4, cloned routes left out;
``dst`` "default" or without ``/32``; ``protocol`` unless boot; ``scope`` unless global; flags).
Pure functions here (:func:`links_json`, :func:`routes_json`, :func:`requests`) take the raw dumps;
the I/O is :mod:`labkit.rtnl_read`. A pod with something this reader does not render as iproute2 does (a multipath route, a
vxlan device) gives ``None``: the caller reads it with ``ip`` instead.
"""
from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import Any

NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
CLONE_NEWNET = 0x40000000

_HDR = struct.Struct("=IHHII")
_RTA = struct.Struct("=HH")
_IFINFO = struct.Struct("=BxHiII")
_IFADDR = struct.Struct("=BBBBi")
_RTMSG = struct.Struct("=BBBBBBBBI")

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
# iproute2 lib/ll_types.c and ip/ipaddress.c print_link_flags, in its order
LINK_TYPES = {1: "ether", 772: "loopback", 768: "ipip", 776: "sit", 778: "gre", 769: "tunnel6", 823: "gre6",
              65534: "none"}
IFF_NAMES = ((0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"), (0x80, "NOARP"),
             (0x200, "ALLMULTI"), (0x100, "PROMISC"), (0x400, "MASTER"), (0x800, "SLAVE"), (0x4, "DEBUG"),
             (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"), (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"),
             (0x10000, "LOWER_UP"), (0x20000, "DORMANT"), (0x40000, "ECHO"))
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
PROTOCOLS = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra", 10: "mrt",
             11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 42: "babel", 186: "bgp",
             187: "isis", 188: "ospf", 189: "rip", 192: "eigrp"}
ROUTE_TYPES = ("unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable",
               "prohibit", "throw", "nat", "xresolve")
# iproute2 ip/iproute.c print_rt_flags: next-hop flags (rtm_flags' low byte), then RTM_F_*
ROUTE_FLAGS = ((0x1, "dead"), (0x4, "onlink"), (0x2, "pervasive"), (0x8, "offload"), (0x40, "trap"),
               (0x100, "notify"), (0x10, "linkdown"), (0x20, "unresolved"), (0x2000, "rt_offload"),
               (0x4000, "rt_trap"), (0x20000, "rt_offload_failed"))
RTM_F_CLONED = 0x200
RT_TABLE_MAIN = 254


class Unsupported(Exception):
    """Something iproute2 prints in a way this reader does not reproduce: read with ``ip``."""


def messages(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(type, payload) of each netlink message in ``data``."""
    off = 0
    while off + _HDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _HDR.unpack_from(data, off)
        if length < _HDR.size:
            return
        yield kind, data[off + _HDR.size:off + length]
        off += (length + 3) & ~3


def attributes(data: bytes, off: int = 0) -> dict[int, bytes]:
    """rtattr type -> value (the last one wins, as iproute2's ``parse_rtattr``)."""
    out = {}
    while off + _RTA.size <= len(data):
        length, kind = _RTA.unpack_from(data, off)
        if length < _RTA.size:
            break
        out[kind & 0x3FFF] = data[off + _RTA.size:off + length]
        off += (length + 3) & ~3
    return out


def _u32(value: bytes) -> int:
    return int(struct.unpack("=I", value[:4])[0])


def _i32(value: bytes) -> int:
    return int(struct.unpack("=i", value[:4])[0])


def _cstr(value: bytes) -> str:
    return value.split(b"\0", 1)[0].decode(errors="replace")


def _ll_addr(value: bytes, link_type: int) -> str:
    """iproute2 lib/ll_addr.c ``ll_addr_n2a``: tunnels' addresses as IPs, the others as hex pairs."""
    if link_type in (768, 776, 778) and len(value) == 4:
        return str(ipaddress.IPv4Address(value))
    if link_type in (769, 823) and len(value) == 16:
        return str(ipaddress.IPv6Address(value))
    return ":".join(f"{b:02x}" for b in value)


AF_INET, AF_INET6 = 2, 10
Views = tuple[list[dict[str, Any]], list[dict[str, Any]]]     # (addr, route) JSON


def _ip(family: int, value: bytes) -> str:
    return str(ipaddress.IPv4Address(value) if family == AF_INET else ipaddress.IPv6Address(value))


def links_json(link_dump: list[bytes], addr_dump: list[bytes]) -> list[dict[str, Any]]:
    """The RTM_NEWLINK and RTM_NEWADDR payloads as ``ip -j -d addr show`` prints them (drawn fields)."""
    links: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    for payload in link_dump:
        _family, ltype, index, flags, _change = _IFINFO.unpack_from(payload)
        a = attributes(payload, _IFINFO.size)
        link: dict[str, Any] = {"ifindex": index, "ifname": _cstr(a.get(3, b""))}
        names[index] = link["ifname"]
        if 5 in a:
            iflink = _u32(a[5])
            if iflink and 37 in a:
                link["link_index"] = iflink
            elif iflink:
                link["_link"] = iflink                 # a name, once all the links are known
            else:
                link["link"] = None
        link["flags"] = [name for bit, name in IFF_NAMES if flags & bit]
        if 4 in a:
            link["mtu"] = _u32(a[4])
        if 10 in a:
            link["_master"] = _u32(a[10])
        if 16 in a:
            state = a[16][0]
            link["operstate"] = OPERSTATES[state] if state < len(OPERSTATES) else str(state)
        link["link_type"] = LINK_TYPES.get(ltype, str(ltype))
        if 1 in a:
            link["address"] = _ll_addr(a[1], ltype)
        if 37 in a:
            link["link_netnsid"] = _i32(a[37])
        if 18 in a:
            info = attributes(a[18])
            if 1 in info:
                link["linkinfo"] = {"info_kind": _cstr(info[1])}
                if link["linkinfo"]["info_kind"] == "vxlan":
                    raise Unsupported("vxlan")
        link["addr_info"] = []
        links.append(link)
    by_index = {link["ifindex"]: link for link in links}
    for link in links:
        if "_link" in link:
            iflink = link.pop("_link")
            link["link"] = names.get(iflink, f"if{iflink}")
        if "_master" in link:
            master = link.pop("_master")
            link["master"] = names.get(master, f"if{master}")
    for payload in addr_dump:
        family, prefixlen, ifa_flags, scope, index = _IFADDR.unpack_from(payload)
        a = attributes(payload, _IFADDR.size)
        local = a.get(2, a.get(1))
        if index not in by_index or local is None:
            continue
        by_index[index]["addr_info"].append({"family": "inet" if family == AF_INET else "inet6",
                                             "local": _ip(family, local), "prefixlen": prefixlen,
                                             "scope": SCOPES.get(scope, str(scope))})
    return links


def routes_json(route_dump: list[bytes], names: dict[int, str]) -> list[dict[str, Any]]:
    """The RTM_NEWROUTE payloads of table main (IPv4) as ``ip -j route show`` prints them."""
    out = []
    for payload in route_dump:
        family, dst_len, _src_len, _tos, table, proto, scope, rtype, flags = _RTMSG.unpack_from(payload)
        a = attributes(payload, _RTMSG.size)
        if family != AF_INET or flags & RTM_F_CLONED:
            continue
        if (_u32(a[15]) if 15 in a else table) != RT_TABLE_MAIN:
            continue
        if 9 in a:
            raise Unsupported("multipath route")
        route: dict[str, Any] = {}
        if rtype != 1:
            route["type"] = ROUTE_TYPES[rtype] if rtype < len(ROUTE_TYPES) else str(rtype)
        if 1 in a:
            dst = _ip(family, a[1])
            route["dst"] = dst if dst_len == 32 else f"{dst}/{dst_len}"
        else:
            route["dst"] = "default" if dst_len == 0 else f"0.0.0.0/{dst_len}"
        if 5 in a:
            route["gateway"] = _ip(family, a[5])
        if 4 in a:
            oif = _u32(a[4])
            route["dev"] = names.get(oif, f"if{oif}")
        if proto != 3:
            route["protocol"] = PROTOCOLS.get(proto, str(proto))
        if scope != 0:
            route["scope"] = SCOPES.get(scope, str(scope))
        if 7 in a:
            route["prefsrc"] = _ip(family, a[7])
        route["flags"] = [name for bit, name in ROUTE_FLAGS if flags & bit]
        out.append(route)
    return out



def requests() -> list[tuple[int, bytes]]:
    """The three dump requests (message type, body): links, addresses, IPv4 routes."""
    return [(RTM_GETLINK, _IFINFO.pack(0, 0, 0, 0, 0)), (RTM_GETADDR, _IFADDR.pack(0, 0, 0, 0, 0)),
            (RTM_GETROUTE, _RTMSG.pack(AF_INET, 0, 0, 0, 0, 0, 0, 0, 0))]


def request(kind: int, body: bytes, seq: int) -> bytes:
    return _HDR.pack(_HDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


def error_of(payload: bytes) -> int:
    """The (negative) errno of an NLMSG_ERROR payload, 0 for an acknowledgement."""
    return _i32(payload)


def views(link_dump: list[bytes], addr_dump: list[bytes], route_dump: list[bytes]) -> Views:
    """(addr, route) JSON of the three dumps; raises :class:`Unsupported`."""
    links = links_json(link_dump, addr_dump)
    return links, routes_json(route_dump, {link["ifindex"]: link["ifname"] for link in links})
