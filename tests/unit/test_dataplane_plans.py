"""The wiring plan of each CNI flavor, read without building anything."""
from labkit.embedded import dataplane
from labkit.embedded.cni import CniResult, flannel_subnet_env, node_conflist
from labkit.embedded.topology import LabSpec


def test_kindnet_routes_other_pod_cidrs_via_node_ips():
    spec = LabSpec(cni="kindnet")
    worker = spec.node("worker")
    cmds = dataplane.node_commands(spec, worker)
    assert "route add 10.244.0.0/24 via 172.18.0.2 dev eth0" in cmds
    assert "route add 10.244.2.0/24 via 172.18.0.4 dev eth0" in cmds
    assert not any("10.244.1.0/24" in c for c in cmds)      # never a route to its own CIDR
    assert not any("flannel" in c for c in cmds)


def test_flannel_uses_vxlan_onlink_routes_arp_and_fdb():
    spec = LabSpec(cni="flannel")
    nodes = spec.node_plans()
    worker = nodes[1]
    cmds = dataplane.node_commands(spec, worker)
    assert "link add flannel.1 type vxlan id 1 local 172.18.0.3 dev eth0 dstport 8472 nolearning" in cmds
    assert "addr add 10.244.1.0/32 dev flannel.1" in cmds
    assert "route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in cmds
    assert f"neigh add 10.244.2.0 lladdr {nodes[2].vtep_mac} dev flannel.1 nud permanent" in cmds
    fdb = dataplane.flannel_fdb_commands([nodes[0], nodes[2]])
    assert f"fdb append {nodes[2].vtep_mac} dev flannel.1 dst 172.18.0.4 self permanent" in fdb
    assert not any("via 172.18.0" in c and "route add 10.244" in c for c in cmds)


def test_host_routes_reach_every_pod_cidr_through_its_node():
    spec = LabSpec()
    cmds = dataplane.host_commands(spec)
    assert cmds[0] == "link add kubenet-host type veth peer name host netns kubenet-net"
    assert "addr add 172.18.0.1/16 dev kubenet-host" in cmds
    assert "route add 10.244.1.0/24 via 172.18.0.3 dev kubenet-host" in cmds


def test_kindnet_conflist_is_ptp_with_host_local_as_kindnet_writes_it():
    spec = LabSpec()
    conf = node_conflist(spec, spec.node("worker"), "/tmp/ipam")
    ptp, portmap = conf["plugins"]
    assert conf["name"] == "kindnet" and conf["cniVersion"] == "0.3.1"
    assert ptp["type"] == "ptp" and ptp["ipMasq"] is False
    assert ptp["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]
    assert ptp["ipam"]["routes"] == [{"dst": "0.0.0.0/0"}]
    assert ptp["ipam"]["dataDir"] == "/tmp/ipam"
    assert portmap["type"] == "portmap"


def test_flannel_delegates_to_bridge_with_its_mtu_and_network_route():
    spec = LabSpec(cni="flannel")
    node = spec.node("worker2")
    bridge = node_conflist(spec, node, "/x")["plugins"][0]
    assert bridge["type"] == "bridge" and bridge["bridge"] == "cni0" and bridge["mtu"] == 1450
    assert bridge["isDefaultGateway"] and bridge["hairpinMode"]
    assert bridge["ipam"]["routes"] == [{"dst": "10.244.0.0/16"}]
    assert "FLANNEL_SUBNET=10.244.2.1/24" in flannel_subnet_env(spec, node)


def test_cni_result_finds_the_pod_ip_and_host_veth():
    raw = {"interfaces": [{"name": "cni0", "mac": "a"}, {"name": "veth1234abcd", "mac": "b"},
                          {"name": "eth0", "mac": "c", "sandbox": "/run/netns/p"}],
           "ips": [{"address": "10.244.1.7/24", "gateway": "10.244.1.1", "interface": 2}]}
    result = CniResult(raw)
    assert (result.ip, result.gateway, result.host_interface) == ("10.244.1.7", "10.244.1.1", "veth1234abcd")
