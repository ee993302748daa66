"""Parsers of ``ip -j`` output, on outputs recorded in the embedded lab."""
import asyncio
from pathlib import Path

from labkit.inspect.iproute import Interface, Route, parse_addr, parse_routes, route_for

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "iproute"


def load(name):
    return (FIX / name).read_text()


def test_kindnet_node_has_ptp_veths_carrying_the_gateway():
    ifaces = {i.name: i for i in parse_addr(load("kindnet-worker-addr.json"))}
    veths = [i for i in ifaces.values() if i.name.startswith("veth")]
    assert len(veths) == 2
    for v in veths:
        assert v.kind == "veth" and [a.cidr for a in v.ipv4()] == ["10.244.1.1/32"]
        assert v.peer_netnsid is not None and v.peer_index == 2 and v.master is None
    assert ifaces["eth0"].ipv4()[0].cidr == "172.18.0.3/16"


def test_kindnet_node_routes():
    routes = parse_routes(load("kindnet-worker-route.json"))
    described = [r.describe() for r in routes]
    assert "10.244.2.0/24 via 172.18.0.4 dev eth0" in described
    host_routes = [r for r in routes if r.scope == "host"]
    assert len(host_routes) == 2 and all(r.dev.startswith("veth") for r in host_routes)
    assert route_for(routes, "10.244.2.9").gateway == "172.18.0.4"
    assert route_for(routes, "8.8.8.8").dst == "default"
    pod = next(r for r in host_routes)
    assert route_for(routes, pod.dst) == pod


def test_flannel_node_has_vxlan_bridge_and_onlink_routes():
    ifaces = {i.name: i for i in parse_addr(load("flannel-worker-addr.json"))}
    vx = ifaces["flannel.1"]
    assert vx.kind == "vxlan" and vx.vxlan["id"] == 1 and vx.vxlan["port"] == 8472
    assert vx.vxlan["learning"] is False and vx.mtu == 1450
    assert [a.cidr for a in vx.ipv4()] == ["10.244.1.0/32"]
    assert ifaces["cni0"].kind == "bridge" and ifaces["cni0"].ipv4()[0].cidr == "10.244.1.1/24"
    ports = [i for i in ifaces.values() if i.master == "cni0"]
    assert len(ports) == 2 and all(p.kind == "veth" for p in ports)
    routes = parse_routes(load("flannel-worker-route.json"))
    onlink = [r for r in routes if r.onlink]
    assert {(r.dst, r.gateway, r.dev) for r in onlink} == {
        ("10.244.0.0/24", "10.244.0.0", "flannel.1"), ("10.244.2.0/24", "10.244.2.0", "flannel.1")}
    assert onlink[0].describe().endswith("onlink")


def test_pod_view_of_the_ptp_trick():
    routes = parse_routes(load("kindnet-pod-route.json"))
    described = {r.describe() for r in routes}
    assert "default via 10.244.1.1 dev eth0" in described
    assert any(d.startswith("10.244.1.1 dev eth0 scope link") for d in described)
    eth0 = next(i for i in parse_addr(load("kindnet-pod-addr.json")) if i.name == "eth0")
    assert eth0.ipv4()[0].prefixlen == 24 and eth0.peer_netnsid == 0


def test_records_round_trip_through_dicts():
    for i in parse_addr(load("flannel-worker-addr.json")):
        assert Interface.from_dict(i.to_dict()) == i
    for r in parse_routes(load("flannel-worker-route.json")):
        assert Route.from_dict(r.to_dict()) == r


def test_parsers_work_inside_a_running_event_loop():
    async def inside():  # as in a Jupyter cell
        return parse_addr(load("kindnet-worker-addr.json"))
    assert len(asyncio.run(inside())) == 4


def test_empty_output_gives_no_records():
    assert parse_addr("") == [] and parse_routes("\n") == []
