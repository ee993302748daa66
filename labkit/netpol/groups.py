"""The policy verdicts a drawing shows, computed here so that diagrams only draw.

- :func:`snapshot_engine`: the engine over *every* pod of a snapshot (the pods a diagram or a
  trace draws, hostNetwork and finished ones included, keyed ``namespace/name``), unlike
  :func:`labkit.netpol.objects.from_objects`, which keeps only the pods pod-to-pod policy applies to.
- :func:`selected_by`: the policies whose podSelector picks each pod (an isolated pod has one).
- :func:`pod_classes`: pods the policies cannot tell apart (same namespace, same values of every
  label key a selector names), so that 30 pods read as a few groups.
- :func:`flows` and :func:`pair_counts`: per group pair, how many pod pairs a policy decides and
  how many it lets through, and the rules that do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..snapshot import ClusterSnapshot
from .engine import Engine
from .matrix import Reachability
from .model import ContainerPort, Namespace, NetworkPolicy, Pod


def snapshot_engine(snapshot: ClusterSnapshot, **options: bool) -> Engine:
    """A policy engine over the snapshot's namespaces, pods (labels, IP, named ports) and policies."""
    namespaces = [Namespace(ns["metadata"]["name"], (ns["metadata"].get("labels") or {}))
                  for ns in snapshot.namespaces]
    pods = []
    for p in snapshot.pods:
        meta = p["metadata"]
        ports = tuple(ContainerPort(int(cp["containerPort"]), cp.get("protocol") or "TCP", cp.get("name"))
                      for c in (p.get("spec") or {}).get("containers") or [] for cp in c.get("ports") or [])
        pods.append(Pod(meta.get("namespace", "default"), meta["name"], meta.get("labels") or {},
                        (p.get("status") or {}).get("podIP") or None, ports))
    return Engine(namespaces, pods, snapshot.networkpolicies, **options)


def selected_by(eng: Engine) -> dict[str, list[NetworkPolicy]]:
    """Pod key -> the policies whose podSelector picks it (in its own namespace)."""
    out: dict[str, list[NetworkPolicy]] = {p.key: [] for p in eng.pods}
    for pol in eng.policies:
        for pod in eng.pods:
            if pod.namespace == pol.namespace and pol.pod_selector.matches(pod.labels):
                out[pod.key].append(pol)
    return out


@dataclass(frozen=True)
class PodClass:
    """Pods the policies cannot tell apart (same namespace, same values of the selected label keys)."""

    id: str
    number: int
    namespace: str
    labels: tuple[tuple[str, str], ...]
    pods: tuple[Pod, ...]

    @property
    def name(self) -> str:
        return f"G{self.number}"

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.pods]


def selector_keys(policies: list[dict[str, Any]]) -> set[str]:
    """Every label key a policy's pod selector (its own, or a peer's) names."""
    keys: set[str] = set()

    def take(sel: Any) -> None:
        if isinstance(sel, dict):
            keys.update((sel.get("matchLabels") or {}).keys())
            keys.update(e.get("key") for e in sel.get("matchExpressions") or [] if e.get("key"))

    for pol in policies:
        spec = pol.get("spec") or {}
        take(spec.get("podSelector"))
        for rule in (spec.get("ingress") or []):
            for peer in rule.get("from") or []:
                take(peer.get("podSelector"))
        for rule in (spec.get("egress") or []):
            for peer in rule.get("to") or []:
                take(peer.get("podSelector"))
    return keys


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def pod_classes(eng: Engine, policies: list[dict[str, Any]]) -> list[PodClass]:
    """The engine's pods in classes, numbered by namespace (``ns2`` before ``ns10``) then labels."""
    keys = selector_keys(policies)
    buckets: dict[tuple[str, tuple[tuple[str, str], ...]], list[Pod]] = {}
    for pod in eng.pods:
        sig = (pod.namespace, tuple(sorted((k, v) for k, v in pod.labels.items() if k in keys)))
        buckets.setdefault(sig, []).append(pod)
    out = []
    for i, ((ns, labels), pods) in enumerate(sorted(buckets.items(), key=lambda kv: (_natural(kv[0][0]), kv[0][1]))):
        out.append(PodClass(f"g/{ns}/" + ",".join(f"{k}={v}" for k, v in labels), i + 1, ns, labels,
                            tuple(sorted(pods, key=lambda p: p.key))))
    return out


@dataclass(frozen=True)
class Flow:
    """Pod pairs from ``src`` to ``dst`` a policy decides (``decided``), how many it lets through
    (``allowed``, at least one) and the rules that do."""

    src: PodClass
    dst: PodClass
    allowed: int
    decided: int
    rules: tuple[str, ...]


def flows(eng: Engine, reach: Reachability, classes: list[PodClass], iso_in: set[str], iso_out: set[str],
          port: int, protocol: str) -> list[Flow]:
    """Class pairs a policy decides and lets through (at least partly), with the rules that allow them.

    A pair is decided when the source is isolated for egress or the destination for ingress; self
    pairs are left out (a pod may always reach itself). Pods of one class are alike for every
    policy, so the rules of one allowed pair are the class pair's.
    """
    out = []
    for src in classes:
        for dst in classes:
            allowed = decided = 0
            first = None
            for s in src.keys:
                for d in dst.keys:
                    if s == d or (s not in iso_out and d not in iso_in):
                        continue
                    decided += 1
                    if reach.allowed(s, d):
                        allowed += 1
                        first = first or (s, d)
            if first is not None:
                why = eng.explain(first[0], first[1], port, protocol)
                rules = {str(r) for r in (*why.ingress.allowed_by, *why.egress.allowed_by)}
                out.append(Flow(src, dst, allowed, decided, tuple(sorted(rules))))
    return out


@dataclass(frozen=True)
class PairCount:
    """One cell of the class matrix: ``allowed`` of ``total`` pod pairs (self pairs left out);
    ``decided`` when a policy isolates one of them (source for egress, destination for ingress)."""

    allowed: int
    total: int
    decided: bool


def pair_counts(reach: Reachability, src: PodClass, dst: PodClass, iso_in: set[str], iso_out: set[str]) -> PairCount:
    allowed = total = 0
    decided = False
    for a in src.keys:
        for b in dst.keys:
            if a != b:
                total += 1
                allowed += reach.allowed(a, b)
                decided = decided or a in iso_out or b in iso_in
    return PairCount(allowed, total, decided)
