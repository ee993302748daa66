"""Validation of objects before they are stored: names, required fields, then per-kind rules.

Nothing is stored when validation fails: the handler raises 422 Invalid with ``details.causes``,
whose field paths kubectl prints (``spec.containers[0].image: Required value``).

Per-kind validators are a plain dict ``kind -> callable(obj) -> list[Cause]`` so a colleague's
validator can be plugged in without touching this module; ``register_validator`` does that, and
``netpol_adapter`` wraps ``labkit.netpol.validate_policy`` (errors with ``.path`` and a message).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .. import i18n
from . import validation_common as common
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
    if meta.get("generateName") and meta.get("name") is None:
        causes += check_name(str(meta["generateName"]) + "x", NAME_RULES.get(
            kind, "dns1123_subdomain"), "metadata.generateName")
    causes += common.labels(meta.get("labels"), "metadata.labels")
    causes += common.annotations(meta.get("annotations"), "metadata.annotations")
    return causes


def _containers(spec: dict, prefix: str) -> list[Cause]:
    containers = spec.get("containers")
    if not containers:
        return [cause(f"{prefix}.containers", "cause.required")]
    causes, seen = [], set()
    port_names: set[str] = set()
    served: set[tuple] = set()
    host_ports: set[tuple] = set()
    for key in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(key) or []):
            path = f"{prefix}.{key}[{index}]"
            name = container.get("name") or ""
            causes += check_name(name, "dns1123_label", f"{path}.name")
            if name in seen:
                causes.append(cause(f"{path}.name", "cause.duplicate", value=name))
            seen.add(name)
            if not container.get("image"):
                causes.append(cause(f"{path}.image", "cause.required"))
            for pindex, port in enumerate(container.get("ports") or []):
                causes += _container_port(port, f"{path}.ports[{pindex}]", port_names, served,
                                          host_ports)
    return causes


def _container_port(port: dict, at: str, names: set, served: set, host_ports: set) -> list[Cause]:
    """pkg/apis/core/validation validateContainerPorts and checkHostPortConflicts."""
    causes = []
    if port.get("name"):
        causes += common.port_name(port["name"], f"{at}.name")
        if port["name"] in names:
            causes.append(cause(f"{at}.name", "cause.duplicate", value=port["name"]))
        names.add(port["name"])
    number = port.get("containerPort")
    causes += common.port_number(number, f"{at}.containerPort")
    protocol = port.get("protocol") or "TCP"
    causes += common.one_of(protocol, f"{at}.protocol", PROTOCOLS)
    host_port = port.get("hostPort") or 0
    causes += common.port_number(host_port, f"{at}.hostPort", allow_zero=True)
    if port.get("hostIP"):
        causes += common.ip(port["hostIP"], f"{at}.hostIP")
    if host_port:
        key = (port.get("hostIP") or "", host_port, protocol)
        if key in host_ports:
            causes.append(cause(f"{at}.hostPort", "cause.duplicate",
                                value=f"{host_port}/{protocol}"))
        host_ports.add(key)
    if (number, protocol) in served:
        # a lab limit: each port is served by one echo responder (see the rule text)
        causes.append(cause(f"{at}.containerPort", "cause.invalid", value=f"{number}/{protocol}",
                            detail=common.Rule("duplicate_port")))
    served.add((number, protocol))
    return causes


def _tolerations(spec: dict) -> list[Cause]:
    causes = []
    for i, tol in enumerate(spec.get("tolerations") or []):
        at = f"spec.tolerations[{i}]"
        op = tol.get("operator") or "Equal"
        causes += common.one_of(op, f"{at}.operator", ("Exists", "Equal"))
        if tol.get("key"):
            causes += common.qualified_name(tol["key"], f"{at}.key")
        elif op != "Exists":
            causes.append(cause(f"{at}.operator", "cause.invalid", value=f'"{op}"',
                                detail=common.Rule("toleration_key")))
        if op == "Exists" and tol.get("value"):
            causes.append(cause(f"{at}.operator", "cause.invalid", value=f'"{op}"',
                                detail=common.Rule("toleration_value")))
        if tol.get("effect"):
            causes += common.one_of(tol["effect"], f"{at}.effect",
                                    ("NoSchedule", "PreferNoSchedule", "NoExecute"))
    return causes


def _pod_spec(spec: dict, prefix: str) -> list[Cause]:
    causes = _containers(spec, prefix)
    causes += common.labels(spec.get("nodeSelector"), f"{prefix}.nodeSelector")
    causes += [cause(c.field.replace("spec.", f"{prefix}.", 1), c.key, **c.params)
               for c in _tolerations(spec)]
    if spec.get("restartPolicy"):
        causes += common.one_of(spec["restartPolicy"], f"{prefix}.restartPolicy",
                                ("Always", "OnFailure", "Never"))
    if spec.get("dnsPolicy"):
        causes += common.one_of(spec["dnsPolicy"], f"{prefix}.dnsPolicy",
                                ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"))
    for key in ("terminationGracePeriodSeconds", "activeDeadlineSeconds"):
        value = spec.get(key)
        if value is not None and (value < 0 or (key == "activeDeadlineSeconds" and value == 0)):
            causes.append(cause(f"{prefix}.{key}", "cause.invalid", value=value,
                                detail=_rule_text("non_negative")))
    if spec.get("nodeName"):
        causes += check_name(spec["nodeName"], "dns1123_subdomain", f"{prefix}.nodeName")
    return causes


def validate_pod(obj: dict) -> list[Cause]:
    return _pod_spec(obj.get("spec") or {}, "spec")


def check_replicas(value: int, kind: str) -> None:
    """A replica count a client asked for (the scale subresource): >= 0 (and within the cap)."""
    from . import status as status_mod

    if value < 0:
        raise status_mod.invalid(kind, "autoscaling", "", [cause(
            "spec.replicas", "cause.invalid", value=value, detail=_rule_text("non_negative"))])


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
    selector_causes = common.selector(selector, "spec.selector")
    causes += selector_causes
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes += common.labels(labels, "spec.template.metadata.labels")
    if selector and not selector_causes and not selector_matches(selector, labels):
        causes.append(cause("spec.template.metadata.labels", "cause.invalid",
                            value=labels, detail=_rule_text("selector_mismatch")))
    causes += _pod_spec(template.get("spec") or {}, "spec.template.spec")
    if (spec.get("minReadySeconds") or 0) < 0:
        causes.append(cause("spec.minReadySeconds", "cause.invalid", value=spec["minReadySeconds"],
                            detail=_rule_text("non_negative")))
    if obj.get("kind") == "Deployment" or "strategy" in spec:
        causes += _strategy(spec.get("strategy") or {})
    return causes


def _strategy(strategy: dict) -> list[Cause]:
    """pkg/apis/apps/validation ValidateDeploymentStrategy / ValidateRollingUpdateDeployment."""
    update_type = strategy.get("type") or "RollingUpdate"
    causes = common.one_of(update_type, "spec.strategy.type", ("Recreate", "RollingUpdate"))
    rolling = strategy.get("rollingUpdate")
    if update_type == "Recreate" and rolling is not None:
        causes.append(cause("spec.strategy.rollingUpdate", "cause.forbidden",
                            detail=common.Rule("recreate_rolling")))
    if not rolling:
        return causes
    at = "spec.strategy.rollingUpdate"
    surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
    for key, value in (("maxSurge", surge), ("maxUnavailable", unavailable)):
        if value is not None:
            causes += common.int_or_percent(value, f"{at}.{key}")
    if isinstance(unavailable, str) and common.PERCENT.match(unavailable) \
            and int(unavailable[:-1]) > 100:
        causes.append(cause(f"{at}.maxUnavailable", "cause.invalid", value=f'"{unavailable}"',
                            detail=common.Rule("percent_max")))
    zero = lambda v: v in (0, "0%")  # noqa: E731
    if zero(surge) and zero(unavailable):
        causes.append(cause(f"{at}.maxUnavailable", "cause.invalid", value=unavailable,
                            detail=common.Rule("both_zero")))
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
    else:
        causes += common.labels(selector, "spec.selector")
    cluster_ip = spec.get("clusterIP")
    if cluster_ip not in (None, "", "None") and not _is_ipv4(cluster_ip):
        causes.append(cause("spec.clusterIPs[0]", "cause.invalid", value=_short(cluster_ip),
                            detail=_rule_text("ip_address")))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        causes += common.ip(ip, f"spec.externalIPs[{i}]", special=False)
    for i, ip in enumerate(spec.get("clusterIPs") or []):
        if ip not in ("", "None") and i == 0 and cluster_ip not in (None, "") and ip != cluster_ip:
            causes.append(cause("spec.clusterIPs[0]", "cause.invalid", value=_short(ip),
                                detail=_rule_text("ip_address")))
    timeout = (((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
               .get("timeoutSeconds"))
    if timeout is not None and not 0 < timeout <= 86400:
        causes.append(cause("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "cause.invalid",
                            value=timeout, detail=common.Rule("affinity_timeout")))
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
    seen, names = set(), set()
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
        elif port.get("name"):
            causes += common.dns_label(port["name"], f"{at}.name")
            if port["name"] in names:
                causes.append(cause(f"{at}.name", "cause.duplicate", value=_short(port["name"])))
            names.add(port["name"])
        if isinstance(target, str):
            causes += common.port_name(target, f"{at}.targetPort")
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


def validate_endpointslice(obj: dict) -> list[Cause]:
    """pkg/apis/discovery/validation ValidateEndpointSlice (the IP families the lab uses)."""
    causes = common.one_of(obj.get("addressType"), "addressType", ("IPv4", "IPv6", "FQDN"))
    family = obj.get("addressType")
    endpoints = obj.get("endpoints") or []
    if len(endpoints) > 1000:
        causes.append(cause("endpoints", "cause.invalid", value=len(endpoints),
                            detail=common.Rule("too_many", limit=1000)))
    for i, ep in enumerate(endpoints[:1000]):
        at = f"endpoints[{i}]"
        addresses = ep.get("addresses") or []
        if not 0 < len(addresses) <= 100:
            causes.append(cause(f"{at}.addresses", "cause.invalid", value=len(addresses),
                                detail=common.Rule("addresses_one")))
        for j, address in enumerate(addresses[:100]):
            if family in ("IPv4", "IPv6"):
                found = common.ip(address, f"{at}.addresses[{j}]", special=False)
                if not found and (":" in address) != (family == "IPv6"):
                    found = [cause(f"{at}.addresses[{j}]", "cause.invalid", value=f'"{address}"',
                                   detail=common.Rule("address_family", family=family))]
                causes += found
            else:
                causes += check_name(address, "dns1123_subdomain", f"{at}.addresses[{j}]")
        if ep.get("nodeName"):
            causes += check_name(ep["nodeName"], "dns1123_subdomain", f"{at}.nodeName")
        if ep.get("hostname"):
            causes += common.dns_label(ep["hostname"], f"{at}.hostname")
    ports = obj.get("ports") or []
    if len(ports) > 100:
        causes.append(cause("ports", "cause.invalid", value=len(ports),
                            detail=common.Rule("too_many", limit=100)))
    names: set = set()
    for i, port in enumerate(ports[:100]):
        at = f"ports[{i}]"
        if port.get("name"):
            causes += common.dns_label(port["name"], f"{at}.name")
        if port.get("name") in names:
            causes.append(cause(f"{at}.name", "cause.duplicate", value=_short(port.get("name"))))
        names.add(port.get("name"))
        if port.get("port") is not None:
            causes += common.port_number(port["port"], f"{at}.port", allow_zero=True)
        causes += common.one_of(port.get("protocol") or "TCP", f"{at}.protocol", PROTOCOLS)
    return causes


def validate_endpoints(obj: dict) -> list[Cause]:
    """pkg/apis/core/validation ValidateEndpoints: addresses, ports."""
    causes = []
    for i, subset in enumerate(obj.get("subsets") or []):
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(subset.get(key) or []):
                causes += common.ip(address.get("ip"), f"subsets[{i}].{key}[{j}].ip",
                                    special=False)
        ports = subset.get("ports") or []
        for j, port in enumerate(ports):
            at = f"subsets[{i}].ports[{j}]"
            if port.get("name") or len(ports) > 1:
                causes += common.dns_label(port.get("name"), f"{at}.name")
            causes += common.port_number(port.get("port"), f"{at}.port")
            causes += common.one_of(port.get("protocol") or "TCP", f"{at}.protocol", PROTOCOLS)
    return causes


def validate_node(obj: dict) -> list[Cause]:
    import ipaddress

    spec = obj.get("spec") or {}
    causes = []
    for i, cidr in enumerate(spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR")
                                                      else [])):
        try:
            ipaddress.ip_network(cidr)
        except ValueError:
            causes.append(common.invalid(f"spec.podCIDRs[{i}]", cidr, "ip"))
    for i, taint in enumerate(spec.get("taints") or []):
        causes += common.qualified_name(taint.get("key"), f"spec.taints[{i}].key")
        causes += common.one_of(taint.get("effect"), f"spec.taints[{i}].effect",
                                ("NoSchedule", "PreferNoSchedule", "NoExecute"))
    return causes


VALIDATORS: dict[str, Validator] = {
    "Pod": validate_pod, "Deployment": _workload, "ReplicaSet": _workload,
    "Service": validate_service, "NetworkPolicy": validate_networkpolicy,
    "EndpointSlice": validate_endpointslice, "Endpoints": validate_endpoints,
    "Node": validate_node,
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
        from .. import netpol
    except ImportError:
        return False
    validate_policy = getattr(netpol, "validate_policy", None)
    if validate_policy is None:
        return False
    register_validator("NetworkPolicy", netpol_adapter(validate_policy))
    return True


def validate(obj: dict, kind: str) -> list[Cause]:
    """Causes of a 422; a value of a wrong type is a 400 first (as the real decoder refuses it)."""
    from .resources import api_version_of
    from .typecheck import check_types, fill_null_items

    version = api_version_of(kind)
    check_types(obj, kind, version)
    fill_null_items(obj, kind)
    causes = validate_metadata(obj, kind)
    validator = VALIDATORS.get(kind)
    if validator:
        causes += validator(obj)
    return causes
