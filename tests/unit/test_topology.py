"""The lab description: kind-like addressing, names within kernel limits, refusal of bad input."""
import pytest

from labkit.embedded.topology import (HostNetwork, LabSpec, check_no_conflicts, conflicts,
                                      with_free_networks)
from labkit.errors import BadInput


def test_default_lab_mirrors_kind():
    spec = LabSpec()
    plans = spec.node_plans()
    assert [p.name for p in plans] == ["kubenet-control-plane", "kubenet-worker", "kubenet-worker2"]
    assert [p.ip for p in plans] == ["172.18.0.2", "172.18.0.3", "172.18.0.4"]
    assert [p.pod_cidr for p in plans] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    assert [p.pod_gateway for p in plans] == ["10.244.0.1", "10.244.1.1", "10.244.2.1"]
    assert plans[2].flannel_address == "10.244.2.0"
    assert spec.gateway_ip == "172.18.0.1"
    assert [p.role for p in plans] == ["control-plane", "worker", "worker"]


def test_every_interface_name_fits_the_kernel_limit():
    spec = LabSpec(name="abcdefghij", nodes=16)
    names = [spec.host_link] + [p.bridge_port for p in spec.node_plans()]
    assert all(len(n) <= 15 for n in names), names
    assert len(set(p.vtep_mac for p in spec.node_plans())) == 16


def test_vtep_macs_are_stable_unicast_and_locally_administered():
    a, b = LabSpec().node_plans()[1].vtep_mac, LabSpec().node_plans()[1].vtep_mac
    assert a == b
    first = int(a.split(":")[0], 16)
    assert first & 1 == 0 and first & 2 == 2


@pytest.mark.parametrize("kwargs", [
    {"cni": "weave"}, {"nodes": 0}, {"nodes": 100}, {"nodes": "3"}, {"name": "a/b"},
    {"name": "averyverylongname"}, {"name": "Kube"}, {"name": ""}, {"name": "1abc"},
    {"pod_cidr": "10.244.0.0/33"}, {"pod_cidr": "10.244.0.1/16"}, {"node_cidr": "nope"},
    {"pod_cidr": "10.244.0.0/23", "nodes": 3}, {"pod_cidr": "172.18.0.0/16"},
    {"service_cidr": "fd00::/64"}, {"max_pods": 0}, {"max_pods": 100_000}, {"max_pods": True},
    {"node_pod_prefix": 30}, {"node_pod_prefix": 8}, {"node_pod_prefix": 17, "nodes": 3},
])
def test_bad_input_is_refused(kwargs):
    with pytest.raises(BadInput) as info:
        LabSpec(**kwargs)
    assert info.value.exit_code == 2
    assert info.value.message("en") and info.value.message("fr")
    assert info.value.message("en") != info.value.message("fr")


def test_pod_netns_names_are_prefixed_and_bounded():
    spec = LabSpec(name="lab1")
    assert spec.pod_netns("demo", "blue-1") == "lab1-pod-demo-blue-1"
    long = spec.pod_netns("demo", "x" * 253)
    assert long.startswith("lab1-pod-demo-") and len(long) <= 200
    assert long != spec.pod_netns("demo", "x" * 252)


def test_sweep_matches_only_this_labs_names():
    spec = LabSpec(name="kubenet")
    assert spec.owns_netns("kubenet-worker2")
    assert spec.owns_netns("kubenet-pod-demo-blue")
    assert spec.owns_netns("kubenet-net")
    assert not spec.owns_netns("kubenet2-worker")
    assert not spec.owns_netns("kubenetx-pod-a-b")
    assert not spec.owns_netns("kubenet-something")


def test_conflicts_with_host_networks_ignore_default_routes():
    spec = LabSpec()
    hosts = [HostNetwork("0.0.0.0/0", "default route"), HostNetwork("192.0.2.0/24", "eth0")]
    assert conflicts(spec, hosts) == []
    hosts.append(HostNetwork("10.244.3.0/24", "route on eth1"))
    found = conflicts(spec, hosts)
    assert [(flag, cidr) for flag, cidr, _ in found] == [("--pod-cidr", "10.244.0.0/16")]
    with pytest.raises(BadInput) as info:
        check_no_conflicts(spec, hosts)
    assert "10.244.3.0/24" in str(info.value) and "--pod-cidr" in str(info.value)


def test_no_host_routes_means_no_host_conflict():
    spec = LabSpec(host_routes=False)
    check_no_conflicts(spec, [HostNetwork("10.244.0.0/16", "other lab")])


def test_default_networks_move_aside_for_a_second_lab_but_chosen_ones_do_not():
    first = LabSpec()
    hosts = [HostNetwork(first.node_cidr, "kubenet-host"), HostNetwork("10.244.0.0/24", "route"),
             HostNetwork("10.96.0.0/16", "route")]
    second = with_free_networks(LabSpec(name="other"), hosts, chosen=set())
    assert (second.node_cidr, second.pod_cidr, second.service_cidr) == (
        "172.19.0.0/16", "10.245.0.0/16", "10.97.0.0/16")
    pinned = with_free_networks(LabSpec(name="other", pod_cidr="10.244.0.0/16"), hosts, {"--pod-cidr"})
    assert pinned.pod_cidr == "10.244.0.0/16"
    with pytest.raises(BadInput):
        check_no_conflicts(pinned, hosts)


def test_spec_round_trips_through_a_dict():
    spec = LabSpec(name="x", nodes=2, cni="flannel", host_routes=False)
    assert LabSpec.from_dict(spec.to_dict()) == spec


def test_a_bench_lab_gets_larger_node_subnets_and_its_own_pod_cap():
    spec = LabSpec(name="bk", max_pods=1000, node_pod_prefix=22)
    assert [p.pod_cidr for p in spec.node_plans()] == ["10.244.0.0/22", "10.244.4.0/22", "10.244.8.0/22"]
    assert LabSpec.from_dict(spec.to_dict()) == spec
    assert LabSpec.from_dict({k: v for k, v in spec.to_dict().items()
                              if k not in ("max_pods", "node_pod_prefix")}).max_pods == 250  # older state
