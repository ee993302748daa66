"""What policies need from a cluster, and the tables over it: the engine over a handle's
namespaces, pods and policies (``labkit.cluster.snapshot(handle, nodes=False)``: a running
embedded lab, any ``labkit.connect()`` cluster, or a ``ClusterSnapshot``), and the pods a table shows.

For a live cluster, namespaces, pods and NetworkPolicies come from its API, because that is where
labels, named ports and policies live: the lab's own pod records (``labkit.embedded.snapshot.take``)
do not follow ``kubectl label`` and hold neither namespace labels nor policies.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import BadInput
from ..snapshot import ClusterSnapshot
from .engine import Engine
from .matrix import Matrix, Reachability
from .objects import from_objects

MESSAGES = {
    "reach.unknown_namespace": {
        "en": "no pod in namespace(s) {namespaces}; namespaces with pods: {known}",
        "fr": "aucun pod dans le(s) namespace(s) {namespaces} ; namespaces qui ont des pods : {known}"},
}

SYSTEM_NAMESPACES = ("kube-system",)


def as_snapshot(cluster: Any) -> ClusterSnapshot:
    """The API objects of a handle (``labkit.cluster.snapshot(cluster, nodes=False)``)."""
    if isinstance(cluster, ClusterSnapshot):
        return cluster
    from ..cluster import snapshot

    return snapshot(cluster, nodes=False)


def engine(cluster: Any, *, ipblock_matches_pods: bool = True, allow_self: bool = True) -> Engine:
    """The policy engine over a cluster's namespaces, pods and policies (the options: Engine's)."""
    snap = as_snapshot(cluster)
    namespaces, pods, policies = from_objects(snap.namespaces, snap.pods, snap.networkpolicies)
    return Engine(namespaces, pods, policies, ipblock_matches_pods=ipblock_matches_pods, allow_self=allow_self)


def shown_pods(eng: Engine, namespaces: str | Iterable[str] | None = None) -> list[str]:
    """The pods a table shows: those of ``namespaces`` (a list or "x,y,z"), by default every
    namespace but kube-system. Unknown namespaces are a BadInput naming the known ones."""
    if namespaces is None:
        return [p.key for p in eng.pods if p.namespace not in SYSTEM_NAMESPACES]
    wanted = split_namespaces(namespaces)
    keys = [p.key for p in eng.pods if p.namespace in wanted]
    have = {p.namespace for p in eng.pods}
    missing = [n for n in wanted if n not in have]
    if missing:
        raise BadInput("reach.unknown_namespace", namespaces=", ".join(missing),
                       known=", ".join(sorted(have)) or "-")
    return keys


def split_namespaces(namespaces: str | Iterable[str]) -> list[str]:
    items = namespaces.split(",") if isinstance(namespaces, str) else list(namespaces)
    return [n.strip() for n in items if n and n.strip()]


def restrict(result: Reachability, pods: Sequence[str]) -> Reachability:
    """The same result over a subset of its pods (same order as given)."""
    def sub(m: Matrix) -> Matrix:
        rows = [sum(1 << j for j, d in enumerate(pods) if m.allowed(s, d)) for s in pods]
        return Matrix(pods, rows)

    return Reachability(result.port, result.protocol, sub(result.ingress), sub(result.egress),
                        sub(result.combined), engine=result._engine)
