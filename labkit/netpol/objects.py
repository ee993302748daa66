"""The engine's inputs from live API objects (``kubectl get -o json`` items, the lab's store).

Unlike ``manifests`` (files a learner wrote, where a missing IP gets a stand-in address), this
reads what a cluster reports: a pod without ``status.podIP`` keeps no IP (it matches selectors,
never an ipBlock, and a data plane has nothing to filter for it), hostNetwork pods are left out
(their traffic is node traffic, as most CNIs treat it), and finished pods are gone. A policy the
API server would refuse cannot be in a live cluster; if one is found anyway (an old state file),
``skip_invalid`` drops it instead of failing the whole computation.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from .manifests import ManifestError, _container_ports
from .model import Namespace, NetworkPolicy, Pod
from .parse import InvalidPolicy, parse_policy

FINISHED_PHASES = ("Succeeded", "Failed")


def namespace_from_object(obj: Mapping[str, Any]) -> Namespace:
    meta = obj.get("metadata") or {}
    return Namespace(str(meta["name"]), dict(meta.get("labels") or {}))


def pod_from_object(obj: Mapping[str, Any]) -> Pod | None:
    """The engine's Pod, or None for a pod that takes no part in pod-to-pod policy."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    if spec.get("hostNetwork") or status.get("phase") in FINISHED_PHASES:
        return None
    ip = status.get("podIP") or None
    if ip is not None:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            ip = None
    namespace = str(meta.get("namespace") or "default")
    try:
        ports = _container_ports(spec, f"{namespace}/{meta.get('name')}", "")
    except ManifestError:
        ports = ()
    return Pod(namespace, str(meta["name"]), dict(meta.get("labels") or {}), ip, ports)


def from_objects(
    namespaces: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    policies: Iterable[Mapping[str, Any]],
    skip_invalid: bool = False,
) -> tuple[list[Namespace], list[Pod], list[NetworkPolicy]]:
    """Namespaces, pods and policies for ``Engine`` from API-shaped dicts, sorted by name."""
    ns = sorted((namespace_from_object(o) for o in namespaces), key=lambda n: n.name)
    found = (pod_from_object(o) for o in pods)
    model_pods = sorted((p for p in found if p is not None), key=lambda p: (p.namespace, p.name))
    model_policies = []
    for obj in policies:
        meta = obj.get("metadata") or {}
        try:
            model_policies.append(parse_policy(obj, namespace=str(meta.get("namespace") or "default")))
        except InvalidPolicy:
            if not skip_invalid:
                raise
    model_policies.sort(key=lambda p: (p.namespace, p.name))
    return ns, model_pods, model_policies
