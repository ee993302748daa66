"""Validation of objects before they are stored: names, required fields, then per-kind rules.

Nothing is stored when validation fails: the handler raises 422 Invalid with ``details.causes``,
whose field paths kubectl prints (``spec.containers[0].image: Required value``).

Per-kind validators are a plain dict ``kind -> callable(obj) -> list[Cause]`` so a colleague's
validator can be plugged in without touching this module; ``register_validator`` does that, and
``netpol_adapter`` wraps ``labkit.netpol.validate_policy`` (errors with ``.path`` and a message).
"""
from __future__ import annotations

import re
from typing import Callable

from .. import i18n
from .selectors import selector_matches
from .status import Cause, cause

Validator = Callable[[dict], list[Cause]]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Which rule names of each kind follow (upstream: services are DNS-1035, namespaces labels).
NAME_RULES = {"Namespace": "dns1123_label", "Service": "dns1035_label",
              "Node": "dns1123_subdomain"}


def check_name(value: str, rule: str, field: str) -> list[Cause]:
    pattern, limit = {"dns1123_label": (DNS1123_LABEL, 63),
                      "dns1035_label": (DNS1035_LABEL, 63),
                      "dns1123_subdomain": (DNS1123_SUBDOMAIN, 253)}[rule]
    if not value:
        return [cause(field, "cause.required")]
    causes = []
    if len(value) > limit:
        causes.append(cause(field, "cause.invalid_name", value=value,
                            rule=_rule_text("too_long", max=limit)))
    if not pattern.match(value):
        causes.append(cause(field, "cause.invalid_name", value=value, rule=_rule_text(rule)))
    return causes


class _RuleText:
    """A rule explanation rendered lazily, so a Cause prints in the language asked at render."""

    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = key, params

    def render(self, lang: str | None = None) -> str:
        return i18n.t(f"rule.{self.key}", lang, **self.params)

    def __str__(self) -> str:
        return self.render()


def _rule_text(key: str, **params: object) -> _RuleText:
    return _RuleText(key, **params)


def validate_metadata(obj: dict, kind: str) -> list[Cause]:
    meta = obj.get("metadata") or {}
    causes = []
    if meta.get("name") is not None or not meta.get("generateName"):
        causes += check_name(meta.get("name") or "", NAME_RULES.get(kind, "dns1123_subdomain"),
                             "metadata.name")
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            causes.append(cause("metadata.labels", "cause.invalid_name", value=value,
                                rule=_rule_text("label_value")))
    return causes


def _containers(spec: dict, prefix: str) -> list[Cause]:
    containers = spec.get("containers")
    if not containers:
        return [cause(f"{prefix}.containers", "cause.required")]
    causes, seen = [], set()
    for index, container in enumerate(containers):
        path = f"{prefix}.containers[{index}]"
        name = container.get("name") or ""
        causes += check_name(name, "dns1123_label", f"{path}.name")
        if name in seen:
            causes.append(cause(f"{path}.name", "cause.duplicate", value=name))
        seen.add(name)
        if not container.get("image"):
            causes.append(cause(f"{path}.image", "cause.required"))
        for pindex, port in enumerate(container.get("ports") or []):
            number = port.get("containerPort")
            if not isinstance(number, int) or not 0 < number < 65536:
                causes.append(cause(f"{path}.ports[{pindex}].containerPort", "cause.invalid",
                                    value=number, detail=_rule_text("port_range")))
            if port.get("protocol", "TCP") not in ("TCP", "UDP", "SCTP"):
                causes.append(cause(f"{path}.ports[{pindex}].protocol", "cause.unsupported",
                                    value=port.get("protocol"), supported='"SCTP", "TCP", "UDP"'))
    return causes


def validate_pod(obj: dict) -> list[Cause]:
    return _containers(obj.get("spec") or {}, "spec")


def _workload(obj: dict) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes = []
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(cause("spec.replicas", "cause.invalid", value=replicas,
                            detail=_rule_text("non_negative")))
    selector = spec.get("selector")
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(cause("spec.selector", "cause.required"))
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector and not selector_matches(selector, labels):
        causes.append(cause("spec.template.metadata.labels", "cause.invalid",
                            value=labels, detail=_rule_text("selector_mismatch")))
    causes += _containers(template.get("spec") or {}, "spec.template.spec")
    return causes


NODE_PORT_RANGE = (30000, 32767)
PROTOCOLS = ("TCP", "UDP", "SCTP")


def validate_service(obj: dict) -> list[Cause]:
    """The Service rules kubectl users meet (upstream ValidateService, the common subset)."""
    spec = obj.get("spec") or {}
    causes = []
    kind = spec.get("type", "ClusterIP")
    supported = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
    if kind not in supported:
        causes.append(cause("spec.type", "cause.unsupported", value=kind,
                            supported=", ".join(f'"{s}"' for s in supported)))
    selector = spec.get("selector")
    if selector is not None and (not isinstance(selector, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in selector.items())):
        causes.append(cause("spec.selector", "cause.invalid", value=_short(selector),
                            detail=_rule_text("string_map")))
    cluster_ip = spec.get("clusterIP")
    if cluster_ip not in (None, "", "None") and not _is_ipv4(cluster_ip):
        causes.append(cause("spec.clusterIPs[0]", "cause.invalid", value=_short(cluster_ip),
                            detail=_rule_text("ip_address")))
    causes += _service_ports(spec, kind)
    for key, values in (("sessionAffinity", ("None", "ClientIP")),
                        ("externalTrafficPolicy", ("Cluster", "Local")),
                        ("internalTrafficPolicy", ("Cluster", "Local"))):
        if spec.get(key) is not None and spec[key] not in values:
            causes.append(cause(f"spec.{key}", "cause.unsupported", value=spec[key],
                                supported=", ".join(f'"{v}"' for v in values)))
    if spec.get("externalTrafficPolicy") and kind not in ("NodePort", "LoadBalancer"):
        causes.append(cause("spec.externalTrafficPolicy", "cause.invalid",
                            value=spec["externalTrafficPolicy"], detail=_rule_text("etp_needs_external")))
    return causes


def _service_ports(spec: dict, kind: str) -> list[Cause]:
    causes = []
    ports = spec.get("ports") or []
    if not isinstance(ports, list):
        return [cause("spec.ports", "cause.invalid", value=_short(ports), detail=_rule_text("list"))]
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(cause("spec.ports", "cause.required"))
    seen = set()
    for index, port in enumerate(ports):
        at = f"spec.ports[{index}]"
        if not isinstance(port, dict):
            causes.append(cause(at, "cause.invalid", value=_short(port), detail=_rule_text("object")))
            continue
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 65536:
            causes.append(cause(f"{at}.port", "cause.invalid", value=number,
                                detail=_rule_text("port_range")))
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            causes.append(cause(f"{at}.protocol", "cause.unsupported", value=protocol,
                                supported=", ".join(f'"{p}"' for p in PROTOCOLS)))
        if (number, protocol) in seen:
            causes.append(cause(f"{at}", "cause.duplicate", value=f"{number}/{protocol}"))
        seen.add((number, protocol))
        target = port.get("targetPort")
        if isinstance(target, int) and not isinstance(target, bool) and not 0 < target < 65536:
            causes.append(cause(f"{at}.targetPort", "cause.invalid", value=target,
                                detail=_rule_text("port_range")))
        node_port = port.get("nodePort")
        if node_port not in (None, 0):
            if kind not in ("NodePort", "LoadBalancer"):
                causes.append(cause(f"{at}.nodePort", "cause.forbidden",
                                    detail=_rule_text("node_port_type", type=kind)))
            elif not isinstance(node_port, int) or not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
                causes.append(cause(f"{at}.nodePort", "cause.invalid", value=node_port,
                                    detail=_rule_text("node_port_range", low=NODE_PORT_RANGE[0],
                                                      high=NODE_PORT_RANGE[1])))
        if len(ports) > 1 and not port.get("name"):
            causes.append(cause(f"{at}.name", "cause.required"))
    return causes


def _is_ipv4(value: object) -> bool:
    import ipaddress

    try:
        return isinstance(value, str) and ipaddress.ip_address(value).version == 4
    except ValueError:
        return False


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_networkpolicy(obj: dict) -> list[Cause]:
    """Built-in minimum; ``netpol_adapter`` replaces it when labkit.netpol is available."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) or "podSelector" not in spec:
        return [cause("spec.podSelector", "cause.required")]
    return []


VALIDATORS: dict[str, Validator] = {
    "Pod": validate_pod, "Deployment": _workload, "ReplicaSet": _workload,
    "Service": validate_service, "NetworkPolicy": validate_networkpolicy,
}


def register_validator(kind: str, validator: Validator) -> None:
    """Plug a validator for ``kind`` (replaces the built-in one)."""
    VALIDATORS[kind] = validator


class _Deferred:
    """A message rendered in the language asked when the Status is written."""

    def __init__(self, render) -> None:
        self.render = render


def netpol_adapter(validate_policy: Callable[[dict], list]) -> Validator:
    """Wrap ``labkit.netpol.validate_policy`` as a Validator.

    Its errors carry the field path (``.field``, or ``.path``) and a message, either a string or
    a method taking the language (``FieldError.message(lang)``), so causes stay bilingual.
    """
    def validator(obj: dict) -> list[Cause]:
        causes = []
        for error in validate_policy(obj):
            path = getattr(error, "field", None) or getattr(error, "path", None) or "spec"
            message = getattr(error, "message", None)
            if not callable(message):
                text = message or str(error)
                message = lambda lang=None, text=text: text  # noqa: E731
            causes.append(cause(str(path), "cause.external", message=_Deferred(message)))
        return causes
    return validator


def plug_netpol() -> bool:
    """Use the colleague's NetworkPolicy validator when ``labkit.netpol`` provides one."""
    try:
        from .. import netpol  # type: ignore[attr-defined]
    except ImportError:
        return False
    validate_policy = getattr(netpol, "validate_policy", None)
    if validate_policy is None:
        return False
    register_validator("NetworkPolicy", netpol_adapter(validate_policy))
    return True


def validate(obj: dict, kind: str) -> list[Cause]:
    causes = validate_metadata(obj, kind)
    validator = VALIDATORS.get(kind)
    if validator:
        causes += validator(obj)
    return causes
