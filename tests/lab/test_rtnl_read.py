"""The in-process netlink reader (labkit.rtnl_read) gives what ``ip -j -d -batch`` gives, parsed: in two
namespaces of this test's own holding what pods and nodes hold (a veth whose peer is in another
namespace, a veth pair in one, a bridge and its port, IPv6 addresses, routes with a gateway, onlink,
a source, blackhole, unreachable, another table) and every kind the decoder leaves to ``ip``."""
import subprocess

import pytest

from labkit import rtnl_read
from labkit.inspect.batch import BATCH_ADDR_ROUTE, addr_and_routes
from labkit.inspect.iproute import parse_addr, parse_routes

A, B = "h15rta", "h15rtb"
SETUP = {
    A: ["link set lo up", "link add va type veth peer name vb netns " + B, "addr add 10.9.0.10/24 dev va",
        "link set va up", "link add x1 type veth peer name x2", "link set x1 up",
        "link add d0 type veth peer name d0p", "addr add 10.9.8.1/24 dev d0", "addr add fd00::1/64 dev d0 nodad",
        "link add br0 type bridge", "link add d1 type veth peer name d1p", "link set d1 master br0", "link set br0 up",
        "link set d1 up", "addr add 10.9.9.1/24 dev br0",
        "route add default via 10.9.0.1 dev va", "route add 10.9.1.0/24 via 10.9.0.2 dev va onlink proto static",
        "route add blackhole 10.9.2.0/24", "route add 10.9.3.5 dev va scope link",
        "route add unreachable 10.9.4.0/24", "route add 10.9.5.0/24 dev va src 10.9.0.10 proto 12",
        "route add 10.9.6.0/24 via 10.9.0.3 table 100", "route add fd01::/64 dev va"],
    B: ["link set vb up", "addr add 10.9.0.1/24 dev vb"],
}


def ip_view(netns):
    out = subprocess.run(["ip", "-n", netns, "-j", "-d", "-batch", "-"], input=BATCH_ADDR_ROUTE, text=True,
                         capture_output=True, check=True).stdout
    addr, route = addr_and_routes(out)
    return parse_addr(addr), parse_routes(route)


@pytest.fixture
def namespaces():
    for ns in (A, B):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", B, "link", "set", "lo", "up"], check=True)
        for ns, cmds in SETUP.items():
            subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(cmds) + "\n", text=True, check=True)
        yield
    finally:
        for ns in (A, B):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_the_netlink_reader_reads_what_ip_prints(namespaces):
    found = rtnl_read.read_many([A, B, "h15rt-gone"])
    assert found["h15rt-gone"] is None
    for ns in (A, B):
        addr, route = found[ns]
        assert (parse_addr(addr), parse_routes(route)) == ip_view(ns)
    links = {i.name: i for i in parse_addr(found[A][0])}
    assert links["va"].peer_netnsid is not None and links["x1"].peer == "x2" and links["d1"].master == "br0"
    routes = {r.dst: r for r in parse_routes(found[A][1])}
    assert routes["10.9.1.0/24"].onlink and routes["10.9.2.0/24"].type == "blackhole"
    assert routes["10.9.5.0/24"].protocol == "bird" and "10.9.6.0/24" not in routes


def test_what_the_reader_leaves_to_ip_is_read_with_ip(namespaces):
    from labkit import cluster as cluster_mod
    from labkit import nodes

    subprocess.run(["ip", "-n", B, "link", "add", "vx0", "type", "vxlan", "id", "7", "dstport", "4789",
                    "local", "10.9.0.1"], check=True)
    subprocess.run(["ip", "-n", A, "route", "add", "10.9.7.0/24", "nexthop", "via", "10.9.0.1", "nexthop", "via",
                    "10.9.0.2"], check=True)
    assert rtnl_read.read_many([A, B]) == {A: None, B: None}
    views = cluster_mod.read_pods_over_netlink([nodes.NetnsAccess("x/a", A), nodes.NetnsAccess("x/b", B)])
    assert [(v.interfaces, v.routes) for v in views] == [ip_view(A), ip_view(B)]
