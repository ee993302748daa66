"""Test helpers (imported by the netpol tests): the upstream e2e model (namespaces x, y, z; pods a, b, c) and its truth-table helpers.

``Model`` mirrors ``test/e2e/network/netpol/model.go``: namespaces labelled ``ns=<name>`` (the
API server adds ``kubernetes.io/metadata.name``), pods labelled ``pod=<name>``, one container
port per served port and protocol, named ``serve-<port>-<proto>``. ``Truth`` mirrors
``reachability.go``: start all-allowed, then ``expect_peer`` / ``expect_all_ingress`` /
``expect_all_egress`` / ``expect`` flip cells. Self pairs are ignored (``ignoreLoopback``).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

import pytest

from labkit.netpol import ContainerPort, Engine, Namespace, Pod, Reachability

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
ALL_PODS = tuple(f"{ns}/{p}" for ns in NAMESPACES for p in PODS)


class Model:
    def __init__(self, served: Iterable[str] = ("80/TCP", "81/TCP")) -> None:
        ports = []
        for item in served:
            number, proto = item.split("/")
            ports.append(ContainerPort(int(number), proto, f"serve-{number}-{proto.lower()}"))
        self.namespaces = {ns: Namespace(ns, {"ns": ns}) for ns in NAMESPACES}
        self.pods = {
            f"{ns}/{p}": Pod(ns, p, {"pod": p}, f"10.244.{i + 1}.{j + 1}", tuple(ports))
            for i, ns in enumerate(NAMESPACES) for j, p in enumerate(PODS)
        }
        self.policies: dict[str, Any] = {}

    # -- scenario steps -----------------------------------------------------------------------
    def create(self, *policies: dict) -> "Model":
        for policy in policies:
            meta = policy["metadata"]
            self.policies[f"{meta['namespace']}/{meta['name']}"] = policy
        return self

    update = create  # same name, new content: replaces

    def delete_all(self) -> "Model":
        self.policies.clear()
        return self

    def label_namespace(self, ns: str, **labels: str) -> "Model":
        old = self.namespaces[ns]
        self.namespaces[ns] = Namespace(ns, {**old.labels, **labels})
        return self

    def set_pod_labels(self, pod: str, labels: dict[str, str]) -> "Model":
        self.pods[pod] = dataclasses.replace(self.pods[pod], labels=labels)
        return self

    def ip(self, pod: str) -> str:
        return self.pods[pod].ip

    def engine(self, **options: Any) -> Engine:
        return Engine(self.namespaces.values(), self.pods.values(), self.policies.values(), **options)

    def reach(self, port: int, protocol: str = "TCP", **options: Any) -> Reachability:
        return self.engine(**options).reachability(port, protocol)


def _matches(peer: dict, pod: str) -> bool:
    ns, name = pod.split("/")
    return peer.get("ns", ns) == ns and peer.get("pod", name) == name


class Truth:
    """An expected 9x9 table, built the way upstream's tests build theirs."""

    def __init__(self, default: bool = True) -> None:
        self.cells = {(s, d): default for s in ALL_PODS for d in ALL_PODS}

    def expect_peer(self, src: dict, dst: dict, value: bool) -> "Truth":
        for s, d in self.cells:
            if _matches(src, s) and _matches(dst, d):
                self.cells[(s, d)] = value
        return self

    def expect_all_ingress(self, pod: str, value: bool) -> "Truth":
        return self.expect_peer({}, dict(zip(("ns", "pod"), pod.split("/"))), value)

    def expect_all_egress(self, pod: str, value: bool) -> "Truth":
        return self.expect_peer(dict(zip(("ns", "pod"), pod.split("/"))), {}, value)

    def expect(self, src: str, dst: str, value: bool) -> "Truth":
        self.cells[(src, dst)] = value
        return self

    def check(self, result: Reachability) -> None:
        """Compare non-self cells and print both tables on mismatch."""
        wrong = [(s, d, want) for (s, d), want in self.cells.items()
                 if s != d and result.allowed(s, d) != want]
        if wrong:
            pytest.fail(f"{len(wrong)} cells differ, e.g. {wrong[:5]}\nobserved:\n{result.to_table()}")


def policy(name: str, ns: str = "x", pod_labels: dict | None = None, *, ingress: list | None = None,
           egress: list | None = None, selector: dict | None = None) -> dict:
    """Like upstream's GenNetworkPolicyWithNameAndPod{MatchLabel,Selector} + SetSpec*Rules:
    a policy type is listed for each rule list given, even an empty one (default deny)."""
    spec: dict[str, Any] = {"podSelector": selector if selector is not None else
                            ({"matchLabels": pod_labels} if pod_labels else {}), "policyTypes": []}
    if ingress is not None:
        spec["ingress"] = ingress
        spec["policyTypes"].append("Ingress")
    if egress is not None:
        spec["egress"] = egress
        spec["policyTypes"].append("Egress")
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}
