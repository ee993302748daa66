"""Benchmark: NetworkPolicy enforcement and the real-packet probe in the embedded lab (root).

Prints figures, asserts nothing (DESIGN.md: benchmarks are not timed asserts).

* probe time for the 9x9 upstream model (x, y, z / a, b, c) and for 30x30 pods (3 namespaces of
  10), TCP and UDP, with a policy so that some cells are denied (a denied cell waits the timeout);
* enforcement update time: from the API's answer to a policy update to the new table in every
  node, then to the first packet that gets through (median of a few updates);
* the compiler alone (pure): node rules for 300 pods and 60 policies.

    sudo python3 bench/netpol_lab.py [--cni kindnet|bridge|flannel] [--keep]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.netpol.nft import PolicyObjects, node_rules

NAME = "bnetpol"


def pod_docs(ns: str, names: list[str]) -> list[dict]:
    ports = [{"name": f"serve-{n}-{p.lower()}", "containerPort": n, "protocol": p} for n in (80, 81) for p in ("TCP", "UDP")]
    return [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": n, "namespace": ns, "labels": {"pod": n}},
             "spec": {"containers": [{"name": "c", "image": "agnhost", "ports": ports}]}} for n in names]


def deny_but_from(ns: str, allowed_ns: str, name: str = "deny") -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns},
            "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": allowed_ns}}}]}]}}


class Bench:
    def __init__(self, cni: str) -> None:
        from kubernetes import client, config

        lifecycle.down(NAME)
        t = time.monotonic()
        lifecycle.up(LabSpec(name=NAME, cni=cni))
        print(f"lab up ({cni}): {time.monotonic() - t:.1f} s")
        self.lab = EmbeddedLab(NAME)
        api = config.new_client_from_config(config_file=str(kubeconfig_file(NAME)))
        self.core, self.net = client.CoreV1Api(api), client.NetworkingV1Api(api)
        docs = []
        for ns in ["x", "y", "z", "n0", "n1", "n2"]:
            self.core.create_namespace({"metadata": {"name": ns, "labels": {"ns": ns}}})
            docs += pod_docs(ns, list("abc") if len(ns) == 1 else [f"p{i}" for i in range(10)])
        t = time.monotonic()
        for d in docs:
            self.core.create_namespaced_pod(d["metadata"]["namespace"], d)
        while sum(1 for p in self.core.list_pod_for_all_namespaces().items
                  if p.status.pod_ip and p.metadata.namespace != "kube-system") < len(docs):
            time.sleep(0.1)
        print(f"{len(docs)} pods running: {time.monotonic() - t:.1f} s")

    def probe(self, label: str, namespaces: str, protocol: str, timeout: float) -> None:
        r = labkit.probe(NAME, namespaces=namespaces, protocol=protocol, timeout=timeout, retries=0)
        n = len(r.pods)
        print(f"probe {label} {n}x{n} {protocol}, timeout {timeout:g} s: {r.seconds:.2f} s "
              f"({r.observed.count()} of {n * n} connected, {len(r.differences)} differ)")

    def rulesets(self) -> list[str]:
        return [self.lab.node_exec(n.name, ["nft", "-s", "list", "table", "inet", "labkit-netpol"]).stdout
                for n in self.lab.spec.node_plans()]

    def update_times(self, rounds: int = 5) -> None:
        """Flip x's policy between 'from y' and 'from z'; time the table and the first packet."""
        pods = {f"{p.metadata.namespace}/{p.metadata.name}": p for p in self.core.list_pod_for_all_namespaces().items}
        target = pods["x/a"].status.pod_ip
        tables, packets = [], []
        for i in range(rounds):
            source = "z" if i % 2 == 0 else "y"
            before = self.rulesets()
            body = deny_but_from("x", source)
            self.net.replace_namespaced_network_policy("deny", "x", body)
            t0 = time.monotonic()
            while self.rulesets() == before:
                time.sleep(0.005)
            tables.append(time.monotonic() - t0)
            while self.lab.exec(f"{source}/a", ["nc", "-z", "-w", "1", target, "80"]).returncode != 0:
                pass
            packets.append(time.monotonic() - t0)
        print(f"enforcement update (API answer -> every node's table): median {statistics.median(tables) * 1000:.0f} ms, "
              f"max {max(tables) * 1000:.0f} ms; -> first packet through: median {statistics.median(packets) * 1000:.0f} ms")

    def run(self) -> None:
        self.net.create_namespaced_network_policy("x", deny_but_from("x", "y"))
        self.net.create_namespaced_network_policy("n0", deny_but_from("n0", "n1"))
        time.sleep(0.5)
        for protocol in ("TCP", "UDP"):
            for timeout in (2.0, 1.0):
                self.probe("upstream model", "x,y,z", protocol, timeout)
                self.probe("3 namespaces of 10", "n0,n1,n2", protocol, timeout)
        self.update_times()


def compile_figures() -> None:
    """The compiler alone: 300 pods in 10 namespaces on 3 nodes, 60 policies (pure, no lab)."""
    rng = random.Random(1)
    spec = LabSpec(name="bcomp")
    nodes = [n.name for n in spec.node_plans()]
    namespaces = [{"metadata": {"name": f"ns{i}", "labels": {"team": f"t{i % 3}"}}} for i in range(10)]
    pods = [{"metadata": {"name": f"p{i}", "namespace": f"ns{i % 10}", "labels": {"app": f"a{i % 7}"}},
             "spec": {"nodeName": nodes[i % 3], "containers": [{"name": "c", "ports": [
                 {"name": "http", "containerPort": 8080 + i % 3}]}]},
             "status": {"phase": "Running", "podIP": f"10.244.{i % 3}.{i // 3 + 2}"}} for i in range(300)]
    policies = []
    for j in range(60):
        peer = rng.choice([{"podSelector": {"matchLabels": {"app": f"a{rng.randrange(7)}"}}},
                           {"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(3)}"}}},
                           {"ipBlock": {"cidr": "10.244.0.0/16", "except": [f"10.244.{rng.randrange(3)}.0/24"]}}])
        policies.append({"metadata": {"name": f"np{j}", "namespace": f"ns{j % 10}"},
                         "spec": {"podSelector": {"matchLabels": {"app": f"a{j % 7}"}}, "policyTypes": ["Ingress", "Egress"],
                                  "ingress": [{"from": [peer], "ports": [{"port": "http"}, {"port": 80, "endPort": 90}]}],
                                  "egress": [{"to": [peer]}]}})
    objs = PolicyObjects(namespaces, pods, policies)
    t = time.monotonic()
    rules = node_rules(spec, objs)
    elapsed = time.monotonic() - t
    elements = sum(r.element_count() for r in rules.values())
    print(f"compile 300 pods x 60 policies for 3 nodes: {elapsed * 1000:.0f} ms, {elements} set elements")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cni", default="kindnet", choices=("kindnet", "bridge", "flannel"))
    parser.add_argument("--keep", action="store_true", help="leave the lab running")
    args = parser.parse_args()
    compile_figures()
    if os.geteuid() != 0:
        print("the lab figures need root")
        return 0
    bench = Bench(args.cni)
    try:
        bench.run()
    finally:
        if not args.keep:
            lifecycle.down(NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
