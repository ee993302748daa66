"""How long the NetworkPolicy engine takes to compute a combined reachability matrix.

Two scenarios: a random but seeded cluster of 1,000 pods (20 namespaces) under 200 policies
mixing every peer and port form (the target is well under 1 s), and upstream's 9-pod model.
Prints figures; asserts nothing (benchmarks are not timed tests).

    python3 bench/netpol_engine.py [--pods 1000] [--policies 200] [--seed 7] [--repeat 5]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.netpol import ContainerPort, Engine, Namespace, Pod, parse_policy

APPS = [f"app{i}" for i in range(40)]
TIERS = ["web", "api", "db", "cache", "batch"]


def random_cluster(n_pods: int, n_policies: int, seed: int) -> tuple[list, list, list]:
    rng = random.Random(seed)
    namespaces = [Namespace(f"ns{i}", {"team": rng.choice("abcde"), "env": rng.choice(["dev", "prod"])})
                  for i in range(20)]
    pods = []
    for i in range(n_pods):
        ns = namespaces[i % len(namespaces)].name
        ports = (ContainerPort(80, "TCP", "http"), ContainerPort(rng.choice([8080, 9090]), "TCP", "metrics"),
                 ContainerPort(53, "UDP", "dns"))
        pods.append(Pod(ns, f"pod{i}", {"app": rng.choice(APPS), "tier": rng.choice(TIERS)},
                        f"10.{i // 65536 + 1}.{i // 256 % 256}.{i % 256}", ports))
    policies = [parse_policy(random_policy(rng, i, namespaces)) for i in range(n_policies)]
    return namespaces, pods, policies


def random_selector(rng: random.Random) -> dict:
    choice = rng.random()
    if choice < 0.15:
        return {}
    if choice < 0.7:
        return {"matchLabels": {"app": rng.choice(APPS)}}
    op = rng.choice(["In", "NotIn", "Exists", "DoesNotExist"])
    expr = {"key": rng.choice(["tier", "app", "missing"]), "operator": op}
    if op in ("In", "NotIn"):
        expr["values"] = rng.sample(TIERS, 2)
    return {"matchExpressions": [expr]}


def random_peer(rng: random.Random) -> dict:
    choice = rng.random()
    if choice < 0.35:
        return {"podSelector": random_selector(rng)}
    if choice < 0.6:
        return {"namespaceSelector": {"matchLabels": {"team": rng.choice("abcde")}}}
    if choice < 0.85:
        return {"namespaceSelector": {"matchLabels": {"env": "prod"}}, "podSelector": random_selector(rng)}
    third = rng.randrange(4)
    excepts = [f"10.1.{third}.{rng.randrange(256)}/32"] if rng.random() < 0.5 else []
    return {"ipBlock": {"cidr": f"10.1.{third}.0/24", "except": excepts}}


def random_ports(rng: random.Random) -> list:
    return rng.choice([
        [], [{"port": 80}], [{"port": "http"}], [{"port": 8000, "endPort": 9000}],
        [{"protocol": "UDP", "port": 53}], [{"port": "metrics"}, {"port": 443}],
    ])


def random_policy(rng: random.Random, i: int, namespaces: list) -> dict:
    spec: dict = {"podSelector": random_selector(rng)}
    kind = rng.random()
    if kind < 0.6 or kind >= 0.8:
        spec["ingress"] = [{"from": [random_peer(rng) for _ in range(rng.randrange(0, 3))],
                            "ports": random_ports(rng)} for _ in range(rng.randrange(0, 3))]
    if kind >= 0.6:
        spec["egress"] = [{"to": [random_peer(rng) for _ in range(rng.randrange(0, 3))],
                           "ports": random_ports(rng)} for _ in range(rng.randrange(0, 3))]
        spec["policyTypes"] = ["Egress"] + (["Ingress"] if "ingress" in spec else [])
    return {"metadata": {"name": f"pol{i}", "namespace": rng.choice(namespaces).name}, "spec": spec}


def model_9() -> tuple[list, list, list]:
    namespaces = [Namespace(n, {"ns": n}) for n in "xyz"]
    ports = (ContainerPort(80, "TCP", "serve-80-tcp"), ContainerPort(81, "TCP", "serve-81-tcp"))
    pods = [Pod(ns, p, {"pod": p}, f"10.244.{k + 1}.{j + 1}", ports)
            for k, ns in enumerate("xyz") for j, p in enumerate("abc")]
    policy = parse_policy({"metadata": {"name": "allow-b", "namespace": "x"},
                           "spec": {"podSelector": {"matchLabels": {"pod": "a"}},
                                    "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]}})
    return namespaces, pods, [policy]


def timed(build, repeat: int) -> tuple[float, float, int]:
    """Median seconds for compiling the engine and for one combined-matrix query."""
    compile_s, query_s, allowed = [], [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        engine = build()
        t1 = time.perf_counter()
        result = engine.reachability(80, "TCP")
        t2 = time.perf_counter()
        compile_s.append(t1 - t0)
        query_s.append(t2 - t1)
        allowed = result.combined.count()
    return statistics.median(compile_s), statistics.median(query_s), allowed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    namespaces, pods, policies = random_cluster(args.pods, args.policies, args.seed)
    c, q, allowed = timed(lambda: Engine(namespaces, pods, policies), args.repeat)
    print(f"{args.pods} pods x {args.policies} policies (seed {args.seed}), TCP/80: "
          f"compile {c * 1000:.1f} ms + combined matrix {q * 1000:.1f} ms = {(c + q) * 1000:.1f} ms "
          f"({allowed} of {args.pods ** 2} pairs allowed)")
    namespaces, pods, policies = model_9()
    c, q, allowed = timed(lambda: Engine(namespaces, pods, policies), max(args.repeat, 100))
    print(f"9-pod model x 1 policy, TCP/80: compile {c * 1e6:.0f} us + combined matrix {q * 1e6:.0f} us "
          f"({allowed} of 81 pairs allowed)")


if __name__ == "__main__":
    main()
