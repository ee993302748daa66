"""The wiring plan of each CNI flavor, read without building anything."""
from labkit.embedded import dataplane
from labkit.embedded.cni import (CniResult, flannel_delegate, flannel_subnet_env, node_conflist,
                                 parse_subnet_env)
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


def test_flannel_conflist_is_kube_flannels_and_its_delegate_is_the_bridge_flannel_builds():
    spec = LabSpec(cni="flannel")
    node = spec.node("worker2")
    conf = node_conflist(spec, node, "/x")
    assert conf == {"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}
    env = parse_subnet_env(flannel_subnet_env(spec, node))
    assert env["FLANNEL_SUBNET"] == "10.244.2.1/24" and env["FLANNEL_IPMASQ"] == "true"
    bridge = flannel_delegate(conf["plugins"][0], "cbr0", "0.3.1", env, "/x")
    assert bridge["type"] == "bridge" and "bridge" not in bridge and bridge["mtu"] == 1450
    assert bridge["isDefaultGateway"] and bridge["hairpinMode"] and bridge["isGateway"]
    assert bridge["ipMasq"] is False                     # flanneld masquerades (FLANNEL_IPMASQ)
    assert bridge["ipam"] == {"type": "host-local", "ranges": [[{"subnet": "10.244.2.0/24"}]],
                              "routes": [{"dst": "10.244.0.0/16"}], "dataDir": "/x"}


def test_kindnet_masquerades_all_but_the_pod_subnet_as_kindnetd():
    rules = dataplane.kindnet_masquerade_rules(LabSpec())
    chain = [l for l in rules.splitlines() if l.startswith("-A KIND-MASQ-AGENT")]
    assert [l.split(" -m comment")[0] for l in chain] == [
        "-A KIND-MASQ-AGENT -d 10.244.0.0/16", "-A KIND-MASQ-AGENT"]
    assert chain[-1].endswith("-j MASQUERADE")


def test_flannel_ip_masq_rules_as_flanneld_writes_them():
    spec = LabSpec(cni="flannel")
    rules = dataplane.node_iptables_rules(spec, spec.node("worker"))
    assert "-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16" in rules
    assert '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" ' \
           "-j MASQUERADE --random-fully" in rules
    assert '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD' in rules
    assert dataplane.node_iptables_rules(LabSpec(cni="bridge"), spec.node("worker")) is None


def test_cni_result_finds_the_pod_ip_and_host_veth():
    raw = {"interfaces": [{"name": "cni0", "mac": "a"}, {"name": "veth1234abcd", "mac": "b"},
                          {"name": "eth0", "mac": "c", "sandbox": "/run/netns/p"}],
           "ips": [{"address": "10.244.1.7/24", "gateway": "10.244.1.1", "interface": 2}]}
    result = CniResult(raw)
    assert (result.ip, result.gateway, result.host_interface) == ("10.244.1.7", "10.244.1.1", "veth1234abcd")


def test_the_real_flannel_plugin_when_present_gets_the_labs_paths(tmp_path):
    from labkit.embedded.cni import CniRunner
    spec = LabSpec(cni="flannel")
    conf = node_conflist(spec, spec.node("worker"), "/x")
    env = tmp_path / "subnet.env"
    env.write_text(flannel_subnet_env(spec, spec.node("worker")))
    runner = CniRunner(conf, "n", bin_dir=str(tmp_path), subnet_env=str(env), ipam_dir="/lab/ipam")
    assert runner._resolved(conf["plugins"][0])["type"] == "bridge"        # no binary: delegated here
    (tmp_path / "flannel").write_text("")
    real = runner._resolved(conf["plugins"][0])
    assert real["type"] == "flannel" and real["subnetFile"] == str(env)
    assert real["ipam"] == {"dataDir": "/lab/ipam"} and real["delegate"] == conf["plugins"][0]["delegate"]
