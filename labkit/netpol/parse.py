"""From the Kubernetes dict form of a NetworkPolicy to the engine's ``NetworkPolicy``.

Defaulting and validation come first (as in the API server), so the model never holds a policy a
cluster would not: an invalid one raises ``InvalidPolicy`` carrying every ``FieldError``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import i18n
from ..errors import BadInput
from .model import IPBlock, NetworkPolicy, Peer, Port, Rule
from .selector import LabelSelector
from .validation import FieldError, default_policy, validate_policy


class InvalidPolicy(BadInput):
    """A NetworkPolicy the API server would refuse; ``errors`` lists the causes (422)."""

    def __init__(self, name: str, errors: list[FieldError], source: str = "") -> None:
        self.errors = errors
        self.name = name
        self.source = source
        super().__init__("netpol.error.policy_invalid", name=name)

    def message(self, lang: str | None = None) -> str:
        text = i18n.t("netpol.error.policy_invalid", lang, name=self.name,
                      errors=i18n.t("netpol.list_sep", lang).join(e.render(lang) for e in self.errors))
        if self.source:
            return i18n.t("netpol.error.in_source", lang, source=self.source, message=text)
        return text


def parse_policy(obj: Mapping[str, Any], namespace: str = "default", source: str = "") -> NetworkPolicy:
    """Default, validate and convert one NetworkPolicy dict.

    ``namespace`` is used when ``metadata.namespace`` is absent (as ``kubectl apply -n`` would);
    ``source`` (e.g. ``"policies.yaml, document 3"``) prefixes the error message.
    """
    errors = validate_policy(obj)
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    name = str((meta or {}).get("name") or "?") if isinstance(meta, Mapping) else "?"
    if errors:
        raise InvalidPolicy(name, errors, source)
    obj = default_policy(obj)
    spec = obj.get("spec") or {}
    return NetworkPolicy(
        namespace=str(obj["metadata"].get("namespace") or namespace),
        name=name,
        pod_selector=LabelSelector.from_dict(spec.get("podSelector")),
        policy_types=tuple(spec["policyTypes"]),
        ingress=tuple(_rule(r, "from") for r in spec.get("ingress") or ()),
        egress=tuple(_rule(r, "to") for r in spec.get("egress") or ()),
    )


def _rule(obj: Mapping[str, Any] | None, peers_field: str) -> Rule:
    obj = obj or {}
    return Rule(
        peers=tuple(_peer(p) for p in obj.get(peers_field) or ()),
        ports=tuple(_port(p) for p in obj.get("ports") or ()),
    )


def _peer(obj: Mapping[str, Any]) -> Peer:
    def selector(key: str) -> LabelSelector | None:
        return None if obj.get(key) is None else LabelSelector.from_dict(obj[key])

    block = obj.get("ipBlock")
    return Peer(
        pod_selector=selector("podSelector"),
        namespace_selector=selector("namespaceSelector"),
        ip_block=None if block is None else IPBlock(block["cidr"], tuple(block.get("except") or ())),
    )


def _port(obj: Mapping[str, Any]) -> Port:
    return Port(port=obj.get("port"), protocol=obj.get("protocol") or "TCP", end_port=obj.get("endPort"))
