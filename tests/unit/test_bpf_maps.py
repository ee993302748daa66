"""The socket load balancer's maps as bytes (``labkit.bpf.maps``): written, diffed, read back."""
import json
import struct

import pytest

from labkit.bpf import maps as m
from labkit.errors import BadInput
from labkit.inspect.servicemap import trace
from labkit.nodes import check_read_only, served_by_lab
from labkit.kubeproxy.model import Endpoint, ProxyInput, ServicePort

PINS = {name: f"/sys/fs/bpf/labkit/x/n/maps/{name}" for name in m.WRITTEN_MAPS}


def inp(*ips, local=(), itp="Cluster"):
    svc = ServicePort("demo", "blue", "", "TCP", "10.96.0.20", 80, internal_traffic_policy=itp)
    dns = ServicePort("kube-system", "kube-dns", "dns", "UDP", "10.96.0.10", 53)
    headless = ServicePort("demo", "h", "", "TCP", "None", 80)
    eps = [Endpoint(ip, 8080, is_local=ip in local) for ip in ips]
    return ProxyInput([svc, dns, headless], {svc.key: eps, dns.key: [Endpoint("10.244.1.2", 53)],
                                             headless.key: eps})


def test_table_keeps_ready_endpoints_and_skips_headless_services():
    table = m.service_table(inp("10.244.2.3", "10.244.1.9"))
    assert {str(f): [str(b) for b in bs] for f, bs in table.items()} == {
        "10.96.0.20:80/TCP": ["10.244.1.9:8080", "10.244.2.3:8080"],
        "10.96.0.10:53/UDP": ["10.244.1.2:53"]}


def test_internal_traffic_policy_local_keeps_this_node_endpoints_only():
    table = m.service_table(inp("10.244.2.3", "10.244.1.9", local=("10.244.1.9",), itp="Local"))
    assert [b.address for b in table[m.Frontend("10.96.0.20", 80, "TCP")]] == ["10.244.1.9"]


def test_entries_read_back_as_the_table_with_network_byte_order_addresses():
    table = m.service_table(inp("10.244.2.3", "10.244.1.9"))
    ids = m.Ids()
    ids.assign(table)
    entries = m.entries(table, ids, {7})
    master = m.service_key(m.Frontend("10.96.0.20", 80, "TCP"), 0)
    assert master[:6] == bytes([10, 96, 0, 20, 0, 80])        # as bpf_sock_addr holds them
    assert struct.unpack("=IHH", entries[m.SERVICES][master])[1] == 2
    assert m.read_table(entries[m.SERVICES], entries[m.BACKENDS]) == table
    assert entries[m.NETNS] == {struct.pack("=Q", 7): struct.pack("=I", 1)}


def test_ids_stay_put_and_freed_ones_are_reused():
    ids = m.Ids()
    ids.assign(m.service_table(inp("10.244.2.3", "10.244.1.9")))
    kept = ids.backends[m.Backend("10.244.2.3", 8080, "TCP")]
    ids.assign(m.service_table(inp("10.244.2.3", "10.244.3.4")))
    assert ids.backends[m.Backend("10.244.2.3", 8080, "TCP")] == kept
    assert sorted(ids.backends.values()) == [1, 2, 3]           # 10.244.1.9's id went to 3.4


def test_batch_adds_backends_before_slots_and_removes_masters_first():
    ids = m.Ids()
    one = m.service_table(inp("10.244.2.3"))
    ids.assign(one)
    old = m.entries(one, ids)
    assert m.batch_lines(PINS, old, old) == []
    two = m.service_table(inp("10.244.2.3", "10.244.1.9"))
    ids.assign(two)
    lines = m.batch_lines(PINS, old, m.entries(two, ids))
    maps = [l.split()[3].rsplit("/", 1)[1] for l in lines]
    assert maps[0] == "lb4_backends" and set(maps[1:]) == {"lb4_services"}
    assert all(l.split()[1] == "update" for l in lines)
    master = "key hex 0a 60 00 14 00 50 00 00 06"               # slot 0 of 10.96.0.20:80/TCP
    assert master in lines[-1] and not any(master in l for l in lines[:-1])   # the master, last
    gone = m.batch_lines(PINS, m.entries(two, ids), {})
    assert [l.split()[1] for l in gone] == ["delete"] * len(gone)
    assert " 00 00 06 " in gone[0] or " 00 00 11 " in gone[0]   # a master first


def _dump(entries):
    return json.dumps([{"key": [f"0x{b:02x}" for b in k], "value": [f"0x{b:02x}" for b in v]}
                       for k, v in entries.items()])


def test_service_map_from_dumps_names_services_and_shares_slots_evenly():
    table = m.service_table(inp("10.244.2.3", "10.244.1.9"))
    ids = m.Ids()
    ids.assign(table)
    e = m.entries(table, ids)
    svc = {"metadata": {"namespace": "demo", "name": "blue"},
           "spec": {"clusterIP": "10.96.0.20", "ports": [{"port": 80, "protocol": "TCP"}]}}
    smap = m.service_map(_dump(e[m.SERVICES]), _dump(e[m.BACKENDS]), [svc])
    assert smap.mode == "ebpf"
    blue = smap.get("demo/blue")
    assert [(ep.ip, ep.share) for ep in blue.endpoints] == [("10.244.1.9", 0.5), ("10.244.2.3", 0.5)]
    assert blue.chains[0] == "cgroup/connect4"
    assert trace(smap, "10.96.0.20", 80).chains[:2] == ["cgroup/connect4", "lb4_services 10.96.0.20:80/TCP"]
    assert smap.get("10.96.0.10:53/UDP", "udp").chains[0] == "cgroup/sendmsg4"


def test_the_lab_serves_only_dumps_of_socket_lb_maps():
    assert m.dump_argv("kubenet-worker", m.SERVICES) == [
        "bpftool", "-j", "map", "dump", "pinned", "/sys/fs/bpf/labkit/kubenet/kubenet-worker/maps/lb4_services"]
    assert served_by_lab(m.dump_argv("kubenet-worker", m.BACKENDS))
    assert not served_by_lab(["bpftool", "-j", "map", "dump", "pinned", "/sys/fs/bpf/other/map"])
    assert not served_by_lab(["bpftool", "map", "update", "pinned", m.pinned_map("kubenet-worker", m.SERVICES)])
    assert not served_by_lab(["bpftool", "-j", "map", "dump", "pinned",
                              "/sys/fs/bpf/labkit/kubenet/../../x/maps/lb4_services"])
    check_read_only(["bpftool", "-j", "map", "dump", "pinned", "/sys/fs/bpf/x"])
    with pytest.raises(BadInput):
        check_read_only(["bpftool", "map", "update", "pinned", "/sys/fs/bpf/x", "key", "0"])
