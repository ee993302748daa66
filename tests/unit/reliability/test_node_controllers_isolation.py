"""The node controllers (kube-proxy, policy enforcer) with a malformed object among good ones.

Pure: what they compile, no lab. The lab test (tests/lab/test_reliability.py) checks the same
with real packets.
"""
from __future__ import annotations

from labkit.embedded.proxy import usable
from labkit.embedded.topology import LabSpec
from labkit.netpol import EGRESS, INGRESS
from labkit.netpol.nft import FailedClosed, PolicyObjects, node_rules

SPEC = LabSpec(name="tiso")
NODE = SPEC.node_plans()[1].name


def _ns(name):
    return {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}}


def _pod(name, ip, labels):
    return {"metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "i"}]},
            "status": {"podIP": ip, "phase": "Running"}}


def _policy(name, spec):
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def _objects(*policies, pods=()):
    return PolicyObjects([_ns("default")], [
        _pod("a", "10.244.1.2", {"app": "a"}), _pod("b", "10.244.1.3", {"app": "b"}), *pods],
        list(policies))


def test_a_policy_that_cannot_be_compiled_isolates_what_it_selects_and_is_reported():
    reports = []
    bad = _policy("bad", {"podSelector": {"matchLabels": {"app": "a"}},
                          "ingress": [{"ports": [None]}]})
    rules = node_rules(SPEC, _objects(bad), lambda obj, exc: reports.append((obj, exc)))[NODE]
    assert rules.isolated[INGRESS] == ["10.244.1.2"]       # closed: a is isolated, b is not
    assert rules.isolated[EGRESS] == ["10.244.1.2"]        # policyTypes unreadable: both ways
    assert not rules.allow[INGRESS]                         # and nothing is allowed to a
    assert [obj["metadata"]["name"] for obj, _ in reports] == ["bad"]
    assert isinstance(reports[0][1], FailedClosed)


def test_a_bad_policy_does_not_stop_a_new_deny_all():
    bad = _policy("bad", {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Ingress"],
                          "ingress": [{"ports": [None]}]})
    deny = _policy("deny-b", {"podSelector": {"matchLabels": {"app": "b"}}})
    rules = node_rules(SPEC, _objects(bad, deny))[NODE]
    assert rules.isolated[INGRESS] == ["10.244.1.2", "10.244.1.3"]
    assert rules.isolated[EGRESS] == []


def test_an_unreadable_selector_closes_the_whole_namespace():
    bad = _policy("bad", {"podSelector": {"matchExpressions": [{"key": "x", "operator": "Foo"}]},
                          "policyTypes": ["Ingress"]})
    rules = node_rules(SPEC, _objects(bad))[NODE]
    assert rules.isolated[INGRESS] == ["10.244.1.2", "10.244.1.3"]


def test_a_malformed_pod_is_left_out_and_reported_the_others_are_enforced():
    reports = []
    broken = {"metadata": {"name": "z", "namespace": "default", "labels": ["not", "a", "map"]},
              "spec": {"nodeName": NODE}, "status": {"podIP": "10.244.1.9"}}
    deny = _policy("deny-a", {"podSelector": {"matchLabels": {"app": "a"}}})
    rules = node_rules(SPEC, _objects(deny, pods=[broken]),
                       lambda obj, exc: reports.append(obj))[NODE]
    assert rules.isolated[INGRESS] == ["10.244.1.2"]
    assert [r["metadata"]["name"] for r in reports] == ["z"]


def _service(name, **spec):
    return {"kind": "Service", "metadata": {"name": name, "namespace": "default", "uid": name},
            "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80}], **spec}}


def test_kube_proxy_skips_what_it_cannot_read_and_keeps_the_rest():
    good = _service("good")
    dup = _service("dup", ports=[{"name": "a", "port": 80}, {"name": "a", "port": 81}])
    affinity = _service("aff", sessionAffinity="ClientIP",
                        sessionAffinityConfig={"clientIP": {"timeoutSeconds": -1}})
    orphan_slice = {"kind": "EndpointSlice", "metadata": {"name": "s", "namespace": "default"},
                    "addressType": "IPv4", "endpoints": [], "ports": []}
    reports = []
    kept = usable([good, dup, affinity, orphan_slice], lambda obj, exc: reports.append(obj))
    assert kept == [good]
    assert [r["metadata"]["name"] for r in reports] == ["dup", "aff", "s"]
