"""The traps of SEMANTICS.md one by one, the result API, and engine vs explain on random clusters."""
from __future__ import annotations

import json
import random

import pytest

from labkit.errors import BadInput
from labkit.netpol import ContainerPort, Engine, Namespace, Pod, parse_policy, reachability
from netpol_model import Model, Truth, policy

X_A, X_B = "x/a", "x/b"


def test_podselector_only_peer_means_the_policy_namespace():
    m = Model(["80/TCP"]).create(policy("p", pod_labels={"pod": "a"}, ingress=[{"from": [{"podSelector": {}}]}]))
    r = m.reach(80)
    assert r.allowed(X_B, X_A) and not r.allowed("y/b", X_A)


def test_empty_namespace_selector_means_every_namespace():
    m = Model(["80/TCP"]).create(policy("p", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"pod": "b"}}}]}]))
    r = m.reach(80)
    assert [s for s in r.pods if r.allowed(s, X_A)] == ["x/a", "x/b", "y/b", "z/b"]  # x/a: self


def test_policy_only_selects_pods_of_its_own_namespace():
    m = Model(["80/TCP"]).create(policy("deny", ns="y", pod_labels={"pod": "a"}, ingress=[]))
    Truth().expect_all_ingress("y/a", False).check(m.reach(80))


def test_named_port_resolves_on_each_destination_pod():
    ns = [Namespace("x")]
    pods = [Pod("x", "a", {"app": "web"}, "10.0.0.1", (ContainerPort(80, "TCP", "http"),)),
            Pod("x", "b", {"app": "web"}, "10.0.0.2", (ContainerPort(8080, "TCP", "http"),)),
            Pod("x", "c", {"app": "client"}, "10.0.0.3")]
    pol = policy("web", pod_labels={"app": "web"}, ingress=[{"ports": [{"port": "http"}]}])
    at80, at8080 = (reachability(ns, pods, [pol], port) for port in (80, 8080))
    assert at80.allowed("x/c", "x/a") and not at80.allowed("x/c", "x/b")
    assert at8080.allowed("x/c", "x/b") and not at8080.allowed("x/c", "x/a")


def test_named_port_must_match_the_protocol_and_still_isolates():
    m = Model(["80/TCP", "80/UDP"]).create(policy("p", pod_labels={"pod": "a"},
                                                  ingress=[{"ports": [{"port": "serve-80-tcp", "protocol": "UDP"}]}]))
    for proto in ("TCP", "UDP"):
        Truth().expect_all_ingress(X_A, False).check(m.reach(80, proto))


def test_named_port_in_egress_resolves_on_the_destination():
    m = Model(["80/TCP", "81/TCP"])
    m.pods["y/b"] = Pod("y", "b", {"pod": "b"}, m.ip("y/b"), (ContainerPort(81, "TCP", "serve-80-tcp"),))
    m.create(policy("p", pod_labels={"pod": "a"}, egress=[{"ports": [{"port": "serve-80-tcp"}]}]))
    r80, r81 = m.reach(80), m.reach(81)
    assert r80.allowed(X_A, "y/a") and not r80.allowed(X_A, "y/b")
    assert r81.allowed(X_A, "y/b") and not r81.allowed(X_A, "y/a")


@pytest.mark.parametrize("port, allowed", [(79, False), (80, True), (81, True), (82, True), (83, False)])
def test_end_port_range_is_inclusive(port, allowed):
    m = Model([f"{port}/TCP"]).create(policy("p", pod_labels={"pod": "a"},
                                             ingress=[{"ports": [{"port": 80, "endPort": 82}]}]))
    assert m.reach(port).allowed("y/c", X_A) is allowed


def test_protocol_only_port_entry_allows_every_port_of_that_protocol():
    m = Model(["5353/UDP"]).create(policy("p", pod_labels={"pod": "a"}, ingress=[{"ports": [{"protocol": "UDP"}]}]))
    assert m.reach(5353, "UDP").allowed("y/c", X_A)
    assert not m.reach(5353, "TCP").allowed("y/c", X_A)


def test_policies_add_up():
    m = Model(["80/TCP"]).create(
        policy("from-b", pod_labels={"pod": "a"}, ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]),
        policy("from-y", pod_labels={"pod": "a"}, ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]))
    r = m.reach(80)
    assert {s for s in r.pods if s != X_A and r.allowed(s, X_A)} == {"x/b", "y/a", "y/b", "y/c"}


def test_egress_only_policy_leaves_ingress_open_and_vice_versa():
    m = Model(["80/TCP"]).create(policy("p", pod_labels={"pod": "a"}, egress=[]))
    r = m.reach(80)
    assert r.egress.allowed("y/a", X_A) and not r.egress.allowed(X_A, "y/a")
    assert r.ingress.count() == 81 and r.allowed("y/a", X_A)


def test_combined_is_ingress_and_egress():
    m = Model(["80/TCP"]).create(
        policy("e", pod_labels={"pod": "a"}, egress=[{"to": [{"namespaceSelector": {}}]}]),
        policy("i", ns="y", ingress=[{"from": [{"podSelector": {}}]}]))
    r = m.reach(80)
    for s in r.pods:
        for d in r.pods:
            assert r.allowed(s, d) == (r.ingress.allowed(s, d) and r.egress.allowed(s, d))
    assert r.egress.allowed(X_A, "y/a") and not r.allowed(X_A, "y/a")


def test_self_traffic_switch():
    m = Model(["80/TCP"]).create(policy("deny", ingress=[], egress=[]))
    assert m.reach(80).allowed(X_A, X_A)
    assert not m.reach(80, allow_self=False).allowed(X_A, X_A)


def test_ipblock_never_matches_a_pod_without_ip():
    ns = [Namespace("x")]
    pods = [Pod("x", "a", {"pod": "a"}, "10.0.0.1"), Pod("x", "b", {"pod": "b"})]
    pol = policy("p", pod_labels={"pod": "a"}, egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])
    r = reachability(ns, pods, [pol], 80)
    assert not r.allowed(X_A, X_B)


def test_ipv6_block_does_not_match_ipv4_pods():
    m = Model(["80/TCP"]).create(policy("p", pod_labels={"pod": "a"}, egress=[{"to": [{"ipBlock": {"cidr": "::/0"}}]}]))
    Truth().expect_all_egress(X_A, False).check(m.reach(80))


def test_undeclared_namespace_gets_its_metadata_name_label():
    pods = [Pod("x", "a", {"pod": "a"}, "10.0.0.1"), Pod("web", "s", {"app": "s"}, "10.0.0.2")]
    pol = policy("p", ns="web", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "x"}}}]}])
    engine = Engine([], pods, [pol])
    assert engine.namespaces["web"].labels == {"kubernetes.io/metadata.name": "web"}
    assert engine.reachability(80).allowed("x/a", "web/s")


def test_policy_dicts_are_validated_on_the_way_in():
    with pytest.raises(BadInput):
        Engine([], [], [policy("bad", ingress=[{"from": [{}]}])])


def test_duplicate_pod_is_bad_input():
    with pytest.raises(BadInput, match="x/a"):
        Engine([], [Pod("x", "a"), Pod("x", "a")], [])


@pytest.mark.parametrize("port, protocol", [(0, "TCP"), (70000, "TCP"), ("http", "TCP"), (80, "ICMP")])
def test_bad_query_is_bad_input(port, protocol):
    with pytest.raises(BadInput) as info:
        Model().engine().reachability(port, protocol)
    assert info.value.exit_code == 2


def test_lowercase_protocol_is_accepted():
    assert Model().reach(80, "tcp").protocol == "TCP"


# -- the result object ------------------------------------------------------------------------

def test_result_api():
    m = Model(["80/TCP"]).create(policy("deny", ingress=[]))
    r = m.reach(80, allow_self=False)
    assert r.pods == ("x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c")
    assert r.pairs() == sorted(r.pairs()) and len(r.pairs()) == 54 == r.combined.count()
    assert len(r.combined.denied_pairs()) == 27
    data = json.loads(r.to_json())
    assert data["port"] == 80 and data["protocol"] == "TCP" and data["pods"] == list(r.pods)
    assert data["allowed"][0] == ["x/a", "y/a"] and ["y/a", "x/a"] not in data["allowed"]
    html = r._repr_html_()
    assert html.count("<table") == 3 and "y/a -&gt; x/a: DENIED" in html
    assert "54 of 81" in repr(r)
    assert r.view("ingress") is r.ingress
    with pytest.raises(BadInput):
        r.allowed("x/zz", "x/a")


def test_html_of_a_large_matrix_is_a_summary():
    pods = [Pod("x", f"p{i}", {}, f"10.0.0.{i + 1}") for i in range(100)]
    html = reachability([], pods, [], 80)._repr_html_()
    assert "<table" not in html and "100 pods: too many to draw; 10000 of 10000 pairs allowed" in html


def test_table_rows_are_sources():
    m = Model(["80/TCP"]).create(policy("deny-egress", pod_labels={"pod": "a"}, egress=[]))
    lines = m.reach(80).combined.to_table().splitlines()
    assert lines[0].split() == ["src\\dst", *m.reach(80).pods]
    assert lines[1].split() == ["x/a", ".", "X", "X", "X", "X", "X", "X", "X", "X"]
    assert lines[2].split() == ["x/b"] + ["."] * 9


def test_results_are_cached_per_port_and_protocol():
    engine = Model().engine()
    assert engine.reachability(80) is engine.reachability(80, "TCP")
    assert engine.reachability(81) is not engine.reachability(80)


# -- engine (bitmasks) vs explain (rule walk) on random clusters ------------------------------

def _random_selector(rng: random.Random, keys=("app", "tier")) -> dict:
    r = rng.random()
    if r < 0.2:
        return {}
    if r < 0.6:
        return {"matchLabels": {"app": rng.choice("pqr")}}
    op = rng.choice(["In", "NotIn", "Exists", "DoesNotExist"])
    expr = {"key": rng.choice(keys), "operator": op}
    if op in ("In", "NotIn"):
        expr["values"] = rng.sample(["p", "q", "r", "1", "2"], 2)
    return {"matchExpressions": [expr]}


def _random_peer(rng: random.Random, ips: list[str]) -> dict:
    r = rng.random()
    if r < 0.3:
        return {"podSelector": _random_selector(rng)}
    if r < 0.55:
        return {"namespaceSelector": _random_selector(rng, ("team", "env"))}
    if r < 0.8:
        return {"namespaceSelector": _random_selector(rng, ("team", "env")), "podSelector": _random_selector(rng)}
    ip = rng.choice(ips)
    prefix = ip.rsplit(".", 1)[0]
    return {"ipBlock": {"cidr": f"{prefix}.0/24", "except": [f"{ip}/32"] if rng.random() < 0.5 else []}}


def _random_ports(rng: random.Random) -> list:
    return rng.choice([[], [{"port": 80}], [{"port": "http"}], [{"port": "dns", "protocol": "UDP"}],
                       [{"port": 79, "endPort": 81}], [{"protocol": "UDP"}], [{"port": 81, "protocol": "SCTP"}]])


def _random_cluster(seed: int):
    rng = random.Random(seed)
    namespaces = [Namespace(f"n{i}", {"team": rng.choice("pq"), "env": rng.choice(["1", "2"])}) for i in range(4)]
    pods = []
    for i in range(40):
        ports = [ContainerPort(rng.choice([80, 81]), "TCP", "http"), ContainerPort(80, "UDP", "dns")]
        ip = None if rng.random() < 0.1 else f"10.{i % 3}.{i % 2}.{i}"
        pods.append(Pod(rng.choice(namespaces).name, f"p{i}", {"app": rng.choice("pqr"), "tier": rng.choice("12")},
                        ip, tuple(rng.sample(ports, rng.randrange(3)))))
    ips = [p.ip for p in pods if p.ip]
    policies = []
    for i in range(15):
        spec = {"podSelector": _random_selector(rng)}
        for direction, field in (("ingress", "from"), ("egress", "to")):
            if rng.random() < 0.6:
                spec[direction] = [{field: [_random_peer(rng, ips) for _ in range(rng.randrange(3))],
                                    "ports": _random_ports(rng)} for _ in range(rng.randrange(3))]
        if rng.random() < 0.5:
            spec["policyTypes"] = rng.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"]])
        policies.append(parse_policy({"metadata": {"name": f"pol{i}", "namespace": rng.choice(namespaces).name},
                                      "spec": spec}))
    return namespaces, pods, policies


@pytest.mark.parametrize("seed", range(6))
def test_engine_agrees_with_the_rule_walk_on_random_clusters(seed):
    namespaces, pods, policies = _random_cluster(seed)
    for options in ({}, {"ipblock_matches_pods": False, "allow_self": False}):
        engine = Engine(namespaces, pods, policies, **options)
        for port, protocol in ((80, "TCP"), (81, "TCP"), (80, "UDP"), (81, "SCTP")):
            r = engine.reachability(port, protocol)
            for s in r.pods:
                for d in r.pods:
                    e = engine.explain(s, d, port, protocol)
                    assert (e.ingress.allowed or e.self_allowed) == r.ingress.allowed(s, d)
                    assert (e.egress.allowed or e.self_allowed) == r.egress.allowed(s, d)
                    assert e.allowed == r.allowed(s, d), (s, d, port, protocol, e.render())


def test_random_clusters_are_not_trivial():
    """Guard for the test above: the generated clusters must allow some pairs and deny others."""
    namespaces, pods, policies = _random_cluster(0)
    r = Engine(namespaces, pods, policies).reachability(80)
    assert 0.1 < r.combined.count() / len(pods) ** 2 < 0.95
