"""labkit.inspect.rtnl decodes rtnetlink dumps as ``ip -j`` prints them (the lab test
tests/lab/test_rtnl_read.py compares it with ip on real namespaces; this one runs without root)."""
import socket
import struct

import pytest

from labkit.inspect import rtnl
from labkit.inspect.iproute import parse_addr, parse_routes


def attr(kind: int, value: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(value), kind) + value
    return data + b"\0" * (-len(data) % 4)


def link(index: int, name: str, ltype: int, flags: int, *extra: bytes) -> bytes:
    return struct.pack("=BxHiII", 0, ltype, index, flags, 0) + attr(3, name.encode() + b"\0") + b"".join(extra)


def addr(index: int, ip: str, prefixlen: int, scope: int) -> bytes:
    return struct.pack("=BBBBi", socket.AF_INET, prefixlen, 0, scope, index) + attr(2, socket.inet_aton(ip))


def route(dst: str | None, dst_len: int, *extra: bytes, rtype: int = 1, proto: int = 3, scope: int = 0,
          flags: int = 0, table: int = 254) -> bytes:
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, dst_len, 0, 0, table, proto, scope, rtype, flags)
    return body + (attr(1, socket.inet_aton(dst)) if dst else b"") + b"".join(extra)


U32 = struct.Struct("=I").pack
LINKS = [link(1, "lo", 772, 0x49, attr(4, U32(65536)), attr(16, b"\0"), attr(1, b"\0" * 6)),
         link(2, "eth0", 1, 0x11043, attr(4, U32(1500)), attr(16, b"\6"), attr(1, bytes.fromhex("32dfd4f550e5")),
              attr(18, attr(1, b"veth\0")), attr(37, U32(0)), attr(5, U32(7)))]
ADDRS = [addr(1, "127.0.0.1", 8, 254), addr(2, "10.244.1.5", 24, 0)]


def test_links_and_routes_read_as_ip_prints_them():
    links = rtnl.links_json(LINKS, ADDRS)
    routes = rtnl.routes_json([route(None, 0, attr(5, socket.inet_aton("10.244.1.1")), attr(4, U32(2))),
                               route("10.244.1.0", 24, attr(4, U32(2)), proto=2, scope=253),
                               route("10.244.1.9", 32, attr(4, U32(2)), flags=0x4),
                               route("10.9.2.0", 24, rtype=6),
                               route("127.0.0.1", 32, attr(4, U32(1)), rtype=2, table=255),   # local: left out
                               route("10.1.0.0", 16, attr(4, U32(2)), flags=0x200)],          # cloned: left out
                              {1: "lo", 2: "eth0"})
    lo, eth0 = parse_addr(links)
    assert (lo.kind, lo.up, lo.addresses[0].ip, lo.addresses[0].scope) == ("loopback", True, "127.0.0.1", "host")
    assert (eth0.kind, eth0.mac, eth0.mtu, eth0.state, eth0.peer_index, eth0.peer_netnsid, eth0.peer) == \
        ("veth", "32:df:d4:f5:50:e5", 1500, "UP", 7, 0, None)
    assert [(r.dst, r.gateway, r.dev, r.protocol, r.scope, r.type, r.onlink) for r in parse_routes(routes)] == [
        ("default", "10.244.1.1", "eth0", None, "global", "unicast", False),
        ("10.244.1.0/24", None, "eth0", "kernel", "link", "unicast", False),
        ("10.244.1.9", None, "eth0", None, "global", "unicast", True),
        ("10.9.2.0/24", None, None, None, "global", "blackhole", False)]


def test_what_ip_prints_otherwise_is_left_to_ip():
    with pytest.raises(rtnl.Unsupported):
        rtnl.links_json([link(3, "vx0", 1, 0, attr(18, attr(1, b"vxlan\0")))], [])
    with pytest.raises(rtnl.Unsupported):
        rtnl.routes_json([route("10.9.7.0", 24, attr(9, b"\0" * 8))], {})


def test_messages_split_a_dump_and_its_end():
    payload = LINKS[0]
    data = struct.pack("=IHHII", 16 + len(payload), 16, 2, 1, 0) + payload + struct.pack("=IHHII", 20, 3, 2, 1, 0) + b"\0" * 4
    assert [kind for kind, _ in rtnl.messages(data)] == [16, rtnl.NLMSG_DONE]
