"""NetworkPolicy semantics, computed offline: who may connect to whom, and why.

The engine reproduces the upstream e2e truth tables (``test/e2e/network/netpol``) from plain
data: namespaces, pods and NetworkPolicies (defaulted and validated as the API server does).
Notebooks use the small surface below::

    from labkit import netpol
    namespaces, pods, policies = netpol.load_manifests(["lab.yaml"])
    r = netpol.reachability(namespaces, pods, policies, port=80)
    r                                # ingress / egress / combined tables in Jupyter
    print(r.to_table("fr"))
    print(r.explain("x/a", "y/b").render("fr"))

Module map: ``model`` (the data), ``selector`` (label selectors), ``validation`` (defaults and
422-style field errors), ``parse`` (dict -> model), ``engine`` (bitmask matrices), ``explain``
(per-cell reasons), ``matrix`` (results), ``manifests`` (YAML files).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .engine import Engine
from .explain import DirectionVerdict, Explanation, RuleRef
from .manifests import ManifestError, load_manifests, parse_manifests
from .matrix import Matrix, Reachability
from .model import (
    EGRESS,
    INGRESS,
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    IPBlock,
    Namespace,
    NetworkPolicy,
    Peer,
    Pod,
    Port,
    Rule,
)
from .parse import InvalidPolicy, parse_policy
from .selector import LabelSelector, Requirement
from .validation import FieldError, default_policy, validate_policy

__all__ = [
    "ContainerPort", "DirectionVerdict", "EGRESS", "Engine", "Explanation", "FieldError", "INGRESS", "IPBlock",
    "InvalidPolicy", "LabelSelector", "ManifestError", "Matrix", "NAMESPACE_NAME_LABEL", "Namespace",
    "NetworkPolicy", "Peer", "Pod", "Port", "Reachability", "Requirement", "Rule", "RuleRef",
    "default_policy", "explain", "load_manifests", "parse_manifests", "parse_policy", "reachability",
    "validate_policy",
]


def reachability(
    namespaces: Iterable[Namespace],
    pods: Iterable[Pod],
    policies: Iterable[NetworkPolicy | Mapping[str, Any]],
    port: int = 80,
    protocol: str = "TCP",
    **options: bool,
) -> Reachability:
    """Ingress, egress and combined matrices; ``options`` are ``Engine``'s switches."""
    return Engine(namespaces, pods, policies, **options).reachability(port, protocol)


def explain(
    namespaces: Iterable[Namespace],
    pods: Iterable[Pod],
    policies: Iterable[NetworkPolicy | Mapping[str, Any]],
    src: str,
    dst: str,
    port: int = 80,
    protocol: str = "TCP",
    **options: bool,
) -> Explanation:
    """Why ``src`` may or may not connect to ``dst`` (``namespace/name``) on ``port``/``protocol``."""
    return Engine(namespaces, pods, policies, **options).explain(src, dst, port, protocol)
