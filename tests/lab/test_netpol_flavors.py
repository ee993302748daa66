"""The bridge flavors (``bridge``, ``flannel``): pods of a node share ``cni0`` and are switched at
layer 2, with br_netfilter sending bridged packets through the policy table (see
``labkit.embedded.policy``). Same-node pairs must be filtered like the others, with real packets,
through a Service too, and replies must still pass."""
from __future__ import annotations

import json

import pytest

from .helpers import eventually
from .test_netpol_lab import NetpolLab, _cases, lab_name, policy

CASES = ["default-deny-ingress", "podselector-and-namespaceselector", "deny-egress-from-a-namespace-replies-pass",
         "egress-on-one-named-port"]


@pytest.fixture(scope="module", params=["bridge", "flannel"])
def lab(request, tmp_path_factory):
    lab = NetpolLab(lab_name(f"tnp{request.param[0]}"), request.param, tmp_path_factory.mktemp("kubectl-home"))
    yield lab
    lab.close()


@pytest.fixture(autouse=True)
def no_policies(lab):
    lab.delete_all()
    yield
    lab.delete_all()


def same_node_pair(lab: NetpolLab) -> tuple[str, str]:
    by_node: dict[str, list[str]] = {}
    for key, pod in sorted(lab.pods.items()):
        by_node.setdefault(pod["spec"]["nodeName"], []).append(key)
    return next(keys[:2] for keys in by_node.values() if len(keys) >= 2)


@pytest.mark.parametrize("case", CASES)
def test_upstream_case(lab, case):
    policies, checks = _cases(lab.ip)[case]
    lab.create(*policies)
    for port, protocol, truth in checks:
        lab.check(truth, port, protocol)


def test_same_node_pods_reach_each_other_at_layer_2(lab):
    """The peer's own MAC in the ARP table (not cni0's): the bridge switches, the policy table sees it."""
    src, dst = same_node_pair(lab)
    assert lab.connects(src, lab.ip(dst))
    neigh = json.loads(lab.lab.exec(src, ["ip", "-j", "neigh", "show", lab.ip(dst)]).stdout)
    peer = json.loads(lab.lab.exec(dst, ["ip", "-j", "link", "show", "eth0"]).stdout)[0]["address"]
    assert [n["lladdr"] for n in neigh] == [peer]


def test_same_node_pair_denied_directly_and_through_a_service(lab):
    src, dst = same_node_pair(lab)
    ns, name = dst.split("/")
    lab.kubectl("-n", ns, "create", "service", "clusterip", "svc-one", "--tcp=80:80")
    lab.kubectl("-n", ns, "set", "selector", "service", "svc-one", f"pod={name}")
    try:
        ip = json.loads(lab.kubectl("-n", ns, "get", "service", "svc-one", "-o", "json").stdout)["spec"]["clusterIP"]
        eventually(lambda: lab.connects(src, ip), bool, "kube-proxy rules", interval=0.1)
        assert lab.connects(dst, ip)                       # hairpin: a pod through its own Service
        lab.create(policy("deny-one", ns, {"pod": name}, ingress=[]))
        eventually(lambda: not lab.connects(src, lab.ip(dst)), bool, "the policy", interval=0)
        assert not lab.connects(src, ip)
        assert lab.connects(dst, ip)                       # a pod cannot block itself
        lab.delete_all()
        eventually(lambda: lab.connects(src, ip), bool, "the policy's removal", interval=0)
    finally:
        lab.kubectl("-n", ns, "delete", "service", "svc-one")
