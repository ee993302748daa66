"""The enforcer's compiler, without a lab: rectangles, ipBlocks, and node rules that decide every
(source, destination, port, protocol) exactly as the policy engine does.

The rules are checked by evaluating them as the node's ``forward`` chain would (a small Python
model of the chain: self, then egress at the source's node, ingress at the destination's node),
against ``Engine.reachability`` on the upstream 3x3 model and on random clusters. ``nft -c``
(check only) parses every rendered transaction when nft is present and this is root (nft needs
CAP_NET_ADMIN even to check); the rest needs no root.
"""
from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.embedded.topology import LabSpec
from labkit.netpol import EGRESS, INGRESS, ContainerPort, Engine, IPBlock, Namespace, Pod
from labkit.netpol.nft import (
    ALL_PORTS,
    NodeRules,
    PolicyObjects,
    compile_node,
    disjoint,
    ip_block_ranges,
    merge_ranges,
    node_rules,
    render,
)
from labkit.netpol.resolved import resolve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from netpol_model import Model, policy

PROTO = {"TCP": "TCP", "UDP": "UDP", "SCTP": "SCTP"}


# --- rectangles ---------------------------------------------------------------------------------
def cells(rects):
    return {(a, p) for lo, hi, plo, phi in rects for a in range(lo, hi + 1) for p in range(plo, phi + 1)}


def test_merge_ranges_joins_overlapping_and_adjacent():
    assert merge_ranges([(5, 9), (1, 2), (3, 4), (20, 30), (25, 26)]) == [(1, 9), (20, 30)]


@pytest.mark.parametrize("seed", range(30))
def test_disjoint_covers_the_same_cells_without_overlap(seed):
    rng = random.Random(seed)
    rects = []
    for _ in range(rng.randint(1, 8)):
        a, b = sorted(rng.randint(0, 20) for _ in range(2))
        c, d = sorted(rng.randint(0, 12) for _ in range(2))
        rects.append((a, b, c, d))
    out = disjoint(rects)
    assert cells(out) == cells(rects)
    assert sum((hi - lo + 1) * (phi - plo + 1) for lo, hi, plo, phi in out) == len(cells(out))  # no overlap


def test_disjoint_keeps_one_box_when_one_contains_the_others():
    assert disjoint([(0, 100, 80, 81), (10, 10, 80, 80), (20, 30, 81, 81)]) == [(0, 100, 80, 81)]


def test_ip_block_with_excepts_becomes_ranges():
    r = ip_block_ranges(IPBlock("10.0.0.0/8", ("10.244.1.0/24", "10.244.3.7/32")))
    as_text = [(str(ipaddress.IPv4Address(lo)), str(ipaddress.IPv4Address(hi))) for lo, hi in r]
    assert as_text == [("10.0.0.0", "10.244.0.255"), ("10.244.2.0", "10.244.3.6"),
                       ("10.244.3.8", "10.255.255.255")]
    assert ip_block_ranges(IPBlock("fd00::/8")) == []


# --- node rules decide like the engine ----------------------------------------------------------
def chain_allows(by_node: dict[str, NodeRules], node_of: dict[str, str], src: Pod, dst: Pod, port: int,
                 protocol: str) -> bool:
    """The forward chain of the nodes a new connection crosses, in Python."""
    if src.ip == dst.ip:
        return True

    def side(rules: NodeRules, direction: str, me: str, peer: str) -> bool:
        if me not in rules.isolated[direction]:
            return True
        peer_i = int(ipaddress.ip_address(peer))
        return any(lo <= peer_i <= hi and plo <= port <= phi
                   for lo, hi, plo, phi in rules.allow[direction].get((me, protocol), []))

    return (side(by_node[node_of[src.key]], EGRESS, src.ip, dst.ip)
            and side(by_node[node_of[dst.key]], INGRESS, dst.ip, src.ip))


def compile_all(engine: Engine, node_of: dict[str, str]) -> dict[str, NodeRules]:
    resolved = resolve(engine)
    nodes = sorted(set(node_of.values()))
    return {n: compile_node(resolved, engine.pods, [k for k, v in node_of.items() if v == n]) for n in nodes}


def assert_same_as_engine(engine: Engine, node_of: dict[str, str], queries) -> None:
    by_node = compile_all(engine, node_of)
    for port, protocol in queries:
        expected = engine.reachability(port, protocol)
        for s in engine.pods:
            for d in engine.pods:
                got = chain_allows(by_node, node_of, s, d, port, protocol)
                assert got == expected.allowed(s.key, d.key), (s.key, d.key, port, protocol,
                                                              engine.explain(s.key, d.key, port, protocol).render())
    if shutil.which("nft") and os.geteuid() == 0:
        for rules in by_node.values():
            proc = subprocess.run(["nft", "-c", "-f", "-"], input=render(rules),
                                  capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr


def spread(model: Model) -> dict[str, str]:
    """x/a, y/b... on two nodes, so same-node and cross-node pairs both occur."""
    return {k: f"n{i % 2}" for i, k in enumerate(sorted(model.pods))}


UPSTREAM_LIKE = [
    [policy("deny-all", ingress=[], egress=[])],
    [policy("a", pod_labels={"pod": "a"}, ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}},
                                                              "podSelector": {"matchLabels": {"pod": "b"}}}]}])],
    [policy("named", ingress=[{"ports": [{"port": "serve-81-tcp"}, {"port": "serve-80-udp", "protocol": "UDP"}]}])],
    [policy("eg-named", egress=[{"ports": [{"port": "serve-80-tcp"}]}])],
    [policy("range", pod_labels={"pod": "b"}, ingress=[{"ports": [{"port": 79, "endPort": 80}]}],
            egress=[{"to": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.2.0/24"]}}]}])],
    [policy("sctp-only", pod_labels={"pod": "a"}, ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}])],
    [policy("by-proto", ingress=[{"ports": [{"protocol": "UDP"}]}]),
     policy("y-egress", "y", egress=[{"to": [{"namespaceSelector": {}}], "ports": [{"port": 81, "protocol": "UDP"}]}])],
]


@pytest.mark.parametrize("policies", UPSTREAM_LIKE, ids=[p[0]["metadata"]["name"] for p in UPSTREAM_LIKE])
def test_rules_decide_like_the_engine_on_the_upstream_model(policies):
    m = Model(["80/TCP", "81/TCP", "80/UDP", "81/UDP"]).create(*policies)
    queries = [(p, proto) for p in (79, 80, 81) for proto in ("TCP", "UDP", "SCTP")]
    assert_same_as_engine(m.engine(), spread(m), queries)


def random_cluster(rng: random.Random) -> tuple[Engine, dict[str, str]]:
    namespaces = [Namespace(n, {"team": rng.choice("ab")}) for n in ("p", "q", "r")]
    pods, node_of = [], {}
    for i in range(rng.randint(3, 9)):
        ns = rng.choice(namespaces).name
        ports = tuple(ContainerPort(rng.choice((80, 81, 8080)), rng.choice(("TCP", "UDP")), rng.choice(("web", "alt", None)))
                      for _ in range(rng.randint(0, 2)))
        pod = Pod(ns, f"p{i}", {"app": rng.choice("xyz")}, f"10.1.{i // 4}.{i % 4 + 1}", ports)
        pods.append(pod)
        node_of[pod.key] = rng.choice(("n0", "n1"))
    policies = []
    for j in range(rng.randint(1, 4)):
        def peer():
            kind = rng.randint(0, 3)
            if kind == 0:
                return {"podSelector": {"matchLabels": {"app": rng.choice("xyz")}}}
            if kind == 1:
                return {"namespaceSelector": {"matchLabels": {"team": rng.choice("ab")}}}
            if kind == 2:
                return {"ipBlock": {"cidr": "10.1.0.0/22", "except": [f"10.1.{rng.randint(0, 2)}.0/24"]}}
            return {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": rng.choice("xyz")}}}

        def ports():
            return rng.choice([None, [{"port": 80}], [{"port": "web"}], [{"port": "alt", "protocol": "UDP"}],
                               [{"port": 80, "endPort": 8080, "protocol": rng.choice(("TCP", "UDP"))}],
                               [{"protocol": "UDP"}]])

        def rules(key):
            out = []
            for _ in range(rng.randint(0, 2)):
                rule = {}
                if rng.random() < 0.7:
                    rule[key] = [peer() for _ in range(rng.randint(1, 2))]
                p = ports()
                if p:
                    rule["ports"] = p
                out.append(rule)
            return out

        spec = {"podSelector": rng.choice([{}, {"matchLabels": {"app": rng.choice("xyz")}}])}
        types = rng.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"]])
        spec["policyTypes"] = types
        if "Ingress" in types:
            spec["ingress"] = rules("from")
        if "Egress" in types:
            spec["egress"] = rules("to")
        policies.append({"metadata": {"name": f"np{j}", "namespace": rng.choice("pqr")}, "spec": spec})
    return Engine(namespaces, pods, policies), node_of


@pytest.mark.parametrize("seed", range(40))
def test_rules_decide_like_the_engine_on_random_clusters(seed):
    engine, node_of = random_cluster(random.Random(seed))
    queries = [(p, proto) for p in (80, 81, 8080) for proto in ("TCP", "UDP")]
    assert_same_as_engine(engine, node_of, queries)


# --- the rendered transaction ---------------------------------------------------------------------
def test_render_replaces_the_table():
    m = Model(["80/TCP"]).create(policy("deny", ingress=[]))
    engine = m.engine()
    rules = compile_node(resolve(engine), engine.pods, ["x/a", "y/a"])
    text = render(rules)
    assert text.startswith("table inet labkit-netpol\ndelete table inet labkit-netpol\n")
    assert "ct state established,related accept" in text and "bridge" not in text
    assert f"elements = {{ {m.ip('x/a')} }}" in text                   # x/a isolated, y/a not


def test_node_rules_read_api_objects_and_place_pods_on_their_nodes():
    spec = LabSpec(name="tcomp", nodes=3)
    worker, worker2 = spec.node_plans()[1].name, spec.node_plans()[2].name
    pods = [{"metadata": {"name": n, "namespace": "x", "labels": {"pod": n}},
             "spec": {"nodeName": node, "containers": [{"name": "c"}]},
             "status": {"phase": "Running", "podIP": ip}}
            for n, node, ip in (("a", worker, "10.244.1.2"), ("b", worker2, "10.244.2.2"))]
    pods.append({"metadata": {"name": "h", "namespace": "x", "labels": {"pod": "a"}},
                 "spec": {"nodeName": worker, "hostNetwork": True}, "status": {"podIP": spec.node_plans()[1].ip}})
    deny = {"metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {"matchLabels": {"pod": "a"}}}}
    invalid = {"metadata": {"name": "bad", "namespace": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Up"]}}
    rules = node_rules(spec, PolicyObjects([{"metadata": {"name": "x"}}], pods, [deny, invalid]))
    assert rules[worker].isolated[INGRESS] == ["10.244.1.2"]              # not the hostNetwork pod
    # the invalid policy cannot be compiled: it fails closed, isolating every pod it selects both ways
    assert rules[worker2].isolated[INGRESS] == ["10.244.2.2"] and rules[worker2].local == ["10.244.2.2"]
    valid_only = node_rules(spec, PolicyObjects([{"metadata": {"name": "x"}}], pods, [deny]))
    assert valid_only[worker2].isolated[INGRESS] == []
    assert rules[spec.node_plans()[0].name].local == []
    assert ALL_PORTS == (0, 65535)
