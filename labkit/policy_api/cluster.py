"""Reading what policies need from a cluster: a running embedded lab (through its Kubernetes API)
or a ``ClusterSnapshot``; then the engine over it, and the pods a table shows.

For a lab, namespaces, pods and NetworkPolicies come from its API, because that is where labels,
named ports and policies live: the lab's own pod records (``labkit.embedded.snapshot.take``) do
not follow ``kubectl label`` and hold neither namespace labels nor policies.
"""
from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from ..errors import BadInput, LabkitError
from ..netpol import Engine, Matrix, Reachability
from ..netpol.objects import from_objects
from ..snapshot import ClusterSnapshot

MESSAGES = {
    "reach.api_unreachable": {
        "en": "cannot read {what} from the API of lab {name!r} ({error}); is its daemon running? "
              "(`labkit status --name {name}`)",
        "fr": "impossible de lire {what} depuis l'API du lab {name!r} ({error}) ; son démon tourne-t-il ? "
              "(`labkit status --name {name}`)"},
    "reach.bad_cluster": {
        "en": "expected a lab name, an EmbeddedLab or a ClusterSnapshot, not {kind}",
        "fr": "attendu : un nom de lab, un EmbeddedLab ou un ClusterSnapshot, pas {kind}"},
    "reach.unknown_namespace": {
        "en": "no pod in namespace(s) {namespaces}; namespaces with pods: {known}",
        "fr": "aucun pod dans le(s) namespace(s) {namespaces} ; namespaces qui ont des pods : {known}"},
}

SYSTEM_NAMESPACES = ("kube-system",)
API_LISTS = {"namespaces": "/api/v1/namespaces", "pods": "/api/v1/pods",
             "networkpolicies": "/apis/networking.k8s.io/v1/networkpolicies"}


def read_api(kubeconfig: str, name: str) -> dict[str, list[dict]]:
    """Namespaces, pods and NetworkPolicies from the API a kubeconfig points to (its current
    context, its CA and bearer token): three GETs, no client library to import."""
    try:
        config = yaml.safe_load(open(kubeconfig, encoding="utf-8"))
    except FileNotFoundError:
        raise LabkitError("lab.not_running", name=name) from None
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    tls = ssl.create_default_context(
        cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    out = {}
    for what, path in API_LISTS.items():
        request = urllib.request.Request(cluster["server"] + path,
                                         headers={"Authorization": f"Bearer {user['token']}",
                                                  "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, context=tls, timeout=10) as resp:
                out[what] = json.load(resp).get("items") or []
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise LabkitError("reach.api_unreachable", what=what, name=name,
                              error=getattr(exc, "reason", exc)) from exc
    return out


def lab_snapshot(name: str) -> ClusterSnapshot:
    """What policies need from a running embedded lab, read from its API (no node state)."""
    from ..embedded.userconfig import readable_kubeconfig  # an ordinary user's own copy too

    objs = read_api(str(readable_kubeconfig(name)), name)
    return ClusterSnapshot(name=name, source="embedded", namespaces=objs["namespaces"], pods=objs["pods"],
                           networkpolicies=objs["networkpolicies"])


def as_snapshot(cluster: Any) -> ClusterSnapshot:
    """A ``ClusterSnapshot`` for a lab name, an ``EmbeddedLab`` or a snapshot (returned as is)."""
    if isinstance(cluster, ClusterSnapshot):
        return cluster
    if isinstance(cluster, str):
        return lab_snapshot(cluster)
    name = getattr(cluster, "name", None)
    if isinstance(name, str) and hasattr(cluster, "exec"):
        return lab_snapshot(name)
    raise BadInput("reach.bad_cluster", kind=type(cluster).__name__)


def engine(cluster: Any, **options: bool) -> Engine:
    """The policy engine over a cluster's namespaces, pods and policies (``options``: Engine's)."""
    snap = as_snapshot(cluster)
    return Engine(*from_objects(snap.namespaces, snap.pods, snap.networkpolicies), **options)


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
