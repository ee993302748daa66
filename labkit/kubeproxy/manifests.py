"""Services and EndpointSlices (Kubernetes dict form) into kube-proxy's model.

The dicts may come from YAML manifests or from the API server (the lab's kube-proxy): :func:`from_objects` does
not care. It keeps exactly what kube-proxy keeps (``newBaseServiceInfo``, the EndpointSlice
cache) and drops what kube-proxy ignores (headless and ExternalName Services, non-IPv4 slices),
so the generated rules match a real node. Bad input is reported once, naming the file, the
document and the field, in the learner's language.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import BadInput
from .model import Endpoint, ProxyInput, ServicePort

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
PROTOCOLS = ("TCP", "UDP", "SCTP")
DEFAULT_AFFINITY_TIMEOUT = 10800
# Names that end up in rule comments and chain hashes: a DNS-1123 label, as the API server
# requires of namespaces, Service names (DNS-1035, a subset) and Service port names
# (pkg/apis/core/validation: ValidateServiceName, validateServicePort). kube-proxy trusts the API
# server; the lab checks again so that no string can ever add a rule (no quote, no newline).
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class _Doc:
    """One document being read: knows where it came from, to word the errors."""

    def __init__(self, obj: Mapping[str, Any], source: str, index: str | int) -> None:
        self.obj = obj
        meta: Mapping[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), Mapping) else {}
        self.kind = str(obj.get("kind", "?"))
        self.namespace = str(meta.get("namespace") or "default")
        self.name = meta.get("name")
        self.where = f"{source}, document {index} ({self.kind} {self.namespace}/{self.name or '?'})"

    def fail(self, key: str, field: str, **params: object) -> BadInput:
        return BadInput(f"kubeproxy.field.{key}", where=self.where, field=field, **params)

    def get(self, mapping: Any, path: str, key: str, kind: type | None = None, default: Any = None) -> Any:
        value = mapping.get(key, default) if isinstance(mapping, Mapping) else default
        if value is None or kind is None or isinstance(value, kind):
            return default if value is None else value
        expected = {list: "list", dict: "mapping", str: "string", bool: "bool"}[kind]
        raise self.fail(f"not_{expected}", f"{path}.{key}".lstrip("."), found=value)

    def ip(self, value: Any, field: str) -> str:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise self.fail("not_ip", field, value=value) from None

    def cidr(self, value: Any, field: str) -> str:
        try:
            return str(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise self.fail("not_cidr", field, value=value) from None

    def port(self, value: Any, field: str, allow_zero: bool = False) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and (1 <= value <= 65535 or (allow_zero and value == 0)):
            return int(value)
        raise self.fail("not_port", field, value=value)

    def protocol(self, value: Any, field: str) -> str:
        value = "TCP" if value is None else value
        if value not in PROTOCOLS:
            raise self.fail("not_protocol", field, value=value)
        return str(value)

    def check_name(self, value: Any, field: str, allow_empty: bool = False) -> str:
        if (allow_empty and value == "") or (isinstance(value, str) and len(value) <= 63
                                             and NAME.match(value)):
            return str(value)
        raise self.fail("bad_name", field, value=value)

    def choice(self, value: Any, field: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail("bad_choice", field, value=value, choices=", ".join(choices))
        return str(value)


def _is_ipv4(address: str) -> bool:
    return ipaddress.ip_address(address).version == 4


def _service_ports(doc: _Doc) -> list[ServicePort]:
    """The service ports kube-proxy would program for one Service (none for headless ones)."""
    if not doc.name:
        raise doc.fail("missing", "metadata.name")
    doc.check_name(doc.name, "metadata.name")
    doc.check_name(doc.namespace, "metadata.namespace")
    spec = doc.get(doc.obj, "", "spec", dict, {})
    svc_type = doc.choice(spec.get("type", "ClusterIP"), "spec.type",
                          ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"))
    if svc_type == "ExternalName":
        return []
    cluster_ip = spec.get("clusterIP")
    if cluster_ip is None and spec.get("clusterIPs"):
        cluster_ip = doc.get(spec, "spec", "clusterIPs", list)[0]
    if cluster_ip in ("None", ""):
        return []  # headless: DNS only, no rules
    if cluster_ip is None:
        raise doc.fail("missing", "spec.clusterIP")
    cluster_ip = doc.ip(cluster_ip, "spec.clusterIP")
    if not _is_ipv4(cluster_ip):
        return []  # kube-proxy here programs the IPv4 family only
    external_ips = tuple(doc.ip(v, f"spec.externalIPs[{i}]")
                         for i, v in enumerate(doc.get(spec, "spec", "externalIPs", list, [])))
    status = doc.get(doc.obj, "", "status", dict, {})
    lb = doc.get(status, "status", "loadBalancer", dict, {})
    lb_ips = []
    for i, ing in enumerate(doc.get(lb, "status.loadBalancer", "ingress", list, [])):
        path = f"status.loadBalancer.ingress[{i}]"
        if doc.get(ing, path, "ip", str) and doc.get(ing, path, "ipMode", str, "VIP") == "VIP":
            lb_ips.append(doc.ip(ing["ip"], f"{path}.ip"))
    ranges = tuple(doc.cidr(v, f"spec.loadBalancerSourceRanges[{i}]")
                   for i, v in enumerate(doc.get(spec, "spec", "loadBalancerSourceRanges", list, [])))
    etp = doc.choice(spec.get("externalTrafficPolicy", "Cluster"), "spec.externalTrafficPolicy", ("Cluster", "Local"))
    itp = doc.choice(spec.get("internalTrafficPolicy", "Cluster"), "spec.internalTrafficPolicy", ("Cluster", "Local"))
    if svc_type not in ("NodePort", "LoadBalancer"):
        etp = "Cluster"  # apiservice.ExternalPolicyLocal: only NodePort/LoadBalancer honour it
    hcnp = 0
    if svc_type == "LoadBalancer" and etp == "Local" and spec.get("healthCheckNodePort") is not None:
        hcnp = doc.port(spec["healthCheckNodePort"], "spec.healthCheckNodePort")
    affinity = _affinity_timeout(doc, spec)
    ports = doc.get(spec, "spec", "ports", list, [])
    if not ports:
        raise doc.fail("missing", "spec.ports")
    result, seen = [], set()
    for i, p in enumerate(ports):
        path = f"spec.ports[{i}]"
        if not isinstance(p, Mapping):
            raise doc.fail("not_mapping", path, found=p)
        port_name = doc.check_name(doc.get(p, path, "name", str, ""), f"{path}.name", allow_empty=True)
        protocol = doc.protocol(p.get("protocol"), f"{path}.protocol")
        if (port_name, protocol) in seen:
            raise doc.fail("duplicate_port", f"{path}.name", value=port_name)
        seen.add((port_name, protocol))
        if "port" not in p:
            raise doc.fail("missing", f"{path}.port")
        result.append(ServicePort(
            namespace=doc.namespace, name=str(doc.name), port_name=port_name, protocol=protocol,
            cluster_ip=cluster_ip, port=doc.port(p["port"], f"{path}.port"),
            node_port=doc.port(p.get("nodePort", 0) or 0, f"{path}.nodePort", allow_zero=True),
            type=svc_type, external_ips=tuple(ip for ip in external_ips if _is_ipv4(ip)),
            load_balancer_ips=tuple(ip for ip in lb_ips if _is_ipv4(ip)),
            load_balancer_source_ranges=tuple(r for r in ranges if ":" not in r),
            external_traffic_policy=etp, internal_traffic_policy=itp,
            health_check_node_port=hcnp, session_affinity_timeout=affinity,
        ))
    return result


def _affinity_timeout(doc: _Doc, spec: Mapping[str, Any]) -> int | None:
    affinity = doc.choice(spec.get("sessionAffinity", "None"), "spec.sessionAffinity", ("None", "ClientIP"))
    if affinity != "ClientIP":
        return None
    config = doc.get(spec, "spec", "sessionAffinityConfig", dict, {})
    client = doc.get(config, "spec.sessionAffinityConfig", "clientIP", dict, {})
    timeout = client.get("timeoutSeconds", DEFAULT_AFFINITY_TIMEOUT)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 86400:
        raise doc.fail("bad_timeout", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", value=timeout)
    return timeout


def _condition(doc: _Doc, conditions: Mapping[str, Any], path: str, key: str, default: bool) -> bool:
    return bool(doc.get(conditions, path, key, bool, default))


def _slice_endpoints(doc: _Doc, node_name: str) -> list[tuple[tuple[str, str, str, str], Endpoint]]:
    """(service port key, endpoint) pairs of one EndpointSlice, as the EndpointSlice cache sees them."""
    labels = doc.get(doc.get(doc.obj, "", "metadata", dict, {}), "metadata", "labels", dict, {})
    service = labels.get(SERVICE_NAME_LABEL)
    if not service:
        raise doc.fail("no_service_label", f"metadata.labels[{SERVICE_NAME_LABEL}]")
    doc.check_name(service, f"metadata.labels[{SERVICE_NAME_LABEL}]")
    doc.check_name(doc.namespace, "metadata.namespace")
    if doc.get(doc.obj, "", "addressType", str, "IPv4") != "IPv4":
        return []
    ports = []
    for i, p in enumerate(doc.get(doc.obj, "", "ports", list, [])):
        path = f"ports[{i}]"
        if not isinstance(p, Mapping):
            raise doc.fail("not_mapping", path, found=p)
        if p.get("port") is None:
            continue  # a slice port with no number serves nothing
        ports.append((doc.check_name(doc.get(p, path, "name", str, ""), f"{path}.name", allow_empty=True),
                      doc.protocol(p.get("protocol"), f"{path}.protocol"),
                      doc.port(p["port"], f"{path}.port")))
    pairs = []
    for i, ep in enumerate(doc.get(doc.obj, "", "endpoints", list, [])):
        path = f"endpoints[{i}]"
        if not isinstance(ep, Mapping):
            raise doc.fail("not_mapping", path, found=ep)
        addresses = doc.get(ep, path, "addresses", list, [])
        if not addresses:
            raise doc.fail("missing", f"{path}.addresses")
        ip = doc.ip(addresses[0], f"{path}.addresses[0]")  # kube-proxy uses the first address only
        cond = doc.get(ep, path, "conditions", dict, {})
        cpath = f"{path}.conditions"
        ready = _condition(doc, cond, cpath, "ready", True)
        serving = _condition(doc, cond, cpath, "serving", ready)
        terminating = _condition(doc, cond, cpath, "terminating", False)
        ep_node = doc.get(ep, path, "nodeName", str)
        for port_name, protocol, port in ports:
            key = (doc.namespace, str(service), port_name, protocol)
            pairs.append((key, Endpoint(ip=ip, port=port, ready=ready, serving=serving, terminating=terminating,
                                        node_name=ep_node, is_local=bool(node_name) and ep_node == node_name)))
    return pairs


def from_objects(objects: Iterable[tuple[str, int, Any]], node_name: str = "") -> ProxyInput:
    """Build the proxy input from ``(source, document number, object)`` triples.

    ``node_name`` marks the endpoints that run on this node (``nodeName``), which
    ``externalTrafficPolicy``/``internalTrafficPolicy: Local`` rely on.
    """
    return assemble(object_parts(obj, source, index, node_name) for source, index, obj in objects)


Parts = tuple[list[ServicePort], list[tuple[tuple[str, str, str, str], Endpoint]]]


def object_parts(obj: Any, source: str, index: int, node_name: str = "") -> Parts:
    """What one object (a Service, an EndpointSlice, or a List of them) adds to the proxy input."""
    services: list[ServicePort] = []
    endpoints: list[tuple[tuple[str, str, str, str], Endpoint]] = []
    for item_index, item in _expand(obj, source, index):
        doc = _Doc(item, source, item_index)
        if doc.kind == "Service":
            services.extend(_service_ports(doc))
        elif doc.kind == "EndpointSlice":
            endpoints.extend(_slice_endpoints(doc, node_name))
    return services, endpoints


def assemble(parts: Iterable[Parts]) -> ProxyInput:
    """The proxy input of several objects' parts (the same endpoint in two slices counts once)."""
    result = ProxyInput()
    seen: set[tuple[tuple[str, str, str, str], str, int]] = set()
    for services, endpoints in parts:
        result.services.extend(services)
        for key, ep in endpoints:
            mark = (key, ep.ip, ep.port)
            if mark not in seen:
                seen.add(mark)
                result.endpoints.setdefault(key, []).append(ep)
    return result


def _expand(obj: Any, source: str, index: int) -> list[tuple[str | int, Mapping[str, Any]]]:
    if obj is None:
        return []
    if not isinstance(obj, Mapping):
        raise BadInput("kubeproxy.not_a_mapping", file=source, doc=index, found=type(obj).__name__)
    if obj.get("kind") == "List" or (str(obj.get("kind", "")).endswith("List") and "items" in obj):
        items = obj.get("items") or []
        return [(f"{index}.items[{i}]", it) for i, it in enumerate(items) if _check(it, source, index)]
    return [(index, obj)]


def _check(item: Any, source: str, index: int) -> bool:
    if not isinstance(item, Mapping):
        raise BadInput("kubeproxy.not_a_mapping", file=source, doc=index, found=type(item).__name__)
    return True


def read_documents(path: str | Path, text: str | None = None) -> list[tuple[str, int, Any]]:
    """The YAML documents of one file (``text`` given: already read, e.g. from stdin)."""
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput("kubeproxy.file_unreadable", file=source, reason=exc) from exc
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        reason = str(exc).replace("\n", " ")
        raise BadInput("kubeproxy.bad_yaml", file=source, reason=reason) from exc
    return [(source, i + 1, d) for i, d in enumerate(docs)]


def load_manifests(paths: Iterable[str | Path], node_name: str = "") -> ProxyInput:
    """Read Services and EndpointSlices from YAML files (several documents or ``kind: List``)."""
    objects: list[tuple[str, int, Any]] = []
    for path in paths:
        objects.extend(read_documents(path))
    return from_objects(objects, node_name=node_name)
