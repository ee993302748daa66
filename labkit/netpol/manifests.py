"""Read Namespaces, Pods and NetworkPolicies from the YAML a learner would ``kubectl apply``.

Multi-document files and ``List`` kinds (``kubectl get -o yaml`` output) are accepted; other
kinds (Services, Deployments...) are skipped. What the API server would add is added here too:
every namespace carries ``kubernetes.io/metadata.name``, namespaces only referenced by a pod or
a policy exist, and pods without ``status.podIP`` get a deterministic address (10.244.<n>.<m>,
n = the namespace's rank, m = the pod's rank) so ipBlock peers can be tried offline.
Every error names the file, the document (counted from 1) and the field.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .. import i18n
from ..errors import BadInput
from .model import PROTOCOLS, ContainerPort, Namespace, NetworkPolicy, Pod
from .parse import parse_policy

POD_NETWORK = ipaddress.ip_network("10.244.0.0/16")


class ManifestError(BadInput):
    """A document that cannot be read: ``source`` (file, document), ``field`` and the problem."""

    def __init__(self, source: str, field: str, problem: str, **params: Any) -> None:
        self.source, self.field, self.problem, self.problem_params = source, field, problem, params
        super().__init__("netpol.error.manifest")

    def message(self, lang: str | None = None) -> str:
        return i18n.t("netpol.error.manifest", lang, source=self.source, field=self.field,
                      problem=i18n.t(f"netpol.problem.{self.problem}", lang, **self.problem_params))


def load_manifests(paths: Iterable[str | Path]) -> tuple[list[Namespace], list[Pod], list[NetworkPolicy]]:
    """Namespaces, pods and policies found in ``paths`` (see the module docstring)."""
    collector = _Collector()
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput("netpol.error.file_missing", file=str(path)) from None
        except (OSError, UnicodeDecodeError):
            raise BadInput("netpol.error.file_unreadable", file=str(path)) from None
        collector.add_text(text, str(path))
    return collector.result()


def parse_manifests(text: str, source: str = "<input>") -> tuple[list[Namespace], list[Pod], list[NetworkPolicy]]:
    """Same as ``load_manifests`` for YAML already in memory (notebooks, tests)."""
    collector = _Collector()
    collector.add_text(text, source)
    return collector.result()


class _Collector:
    def __init__(self) -> None:
        self.namespaces: dict[str, Namespace] = {}
        self.pods: dict[str, Pod] = {}
        self.policies: dict[str, NetworkPolicy] = {}

    def add_text(self, text: str, file: str) -> None:
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise BadInput("netpol.error.yaml", file=file, line=mark.line + 1 if mark else "?",
                           column=mark.column + 1 if mark else "?") from None
        for n, doc in enumerate(docs, start=1):
            if doc is not None:
                self.add(doc, i18n.t("netpol.source", "en", file=file, doc=n), "")

    def add(self, doc: Any, source: str, prefix: str) -> None:
        where = prefix.rstrip(".") or "<root>"
        if not isinstance(doc, Mapping):
            raise ManifestError(source, where, "not_object")
        kind = doc.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
            items = doc["items"] or []
            if not isinstance(items, list):
                raise ManifestError(source, f"{prefix}items", "not_list")
            for i, item in enumerate(items):
                self.add(item, source, f"{prefix}items[{i}].")
        elif kind == "Namespace":
            self._namespace(doc, source, prefix)
        elif kind == "Pod":
            self._pod(doc, source, prefix)
        elif kind == "NetworkPolicy":
            self._policy(doc, source, prefix)
        elif not isinstance(kind, str) or not kind:
            raise ManifestError(source, f"{prefix}kind", "kind_missing")

    def _meta(self, doc: Mapping[str, Any], source: str, prefix: str) -> tuple[str, str, dict[str, str]]:
        meta = doc.get("metadata")
        if not isinstance(meta, Mapping):
            raise ManifestError(source, f"{prefix}metadata", "not_object")
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise ManifestError(source, f"{prefix}metadata.name", "name_missing")
        namespace = meta.get("namespace") or "default"
        if not isinstance(namespace, str):
            raise ManifestError(source, f"{prefix}metadata.namespace", "not_string")
        labels = meta.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise ManifestError(source, f"{prefix}metadata.labels", "not_object")
        for key, value in labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ManifestError(source, f"{prefix}metadata.labels.{key}", "label_not_string")
        return name, namespace, dict(labels)

    def _namespace(self, doc: Mapping[str, Any], source: str, prefix: str) -> None:
        name, _, labels = self._meta(doc, source, prefix)
        if name in self.namespaces:
            raise ManifestError(source, f"{prefix}metadata.name", "duplicate", kind="Namespace", name=name)
        self.namespaces[name] = Namespace(name, labels)

    def _pod(self, doc: Mapping[str, Any], source: str, prefix: str) -> None:
        name, namespace, labels = self._meta(doc, source, prefix)
        key = f"{namespace}/{name}"
        if key in self.pods:
            raise ManifestError(source, f"{prefix}metadata.name", "duplicate", kind="Pod", name=key)
        status = doc.get("status") or {}
        ip = status.get("podIP") if isinstance(status, Mapping) else None
        if ip is not None:
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                raise ManifestError(source, f"{prefix}status.podIP", "bad_ip", value=ip) from None
        ports = _container_ports(doc.get("spec") or {}, source, prefix)
        self.pods[key] = Pod(namespace, name, labels, ip, ports)

    def _policy(self, doc: Mapping[str, Any], source: str, prefix: str) -> None:
        where = f"{source}, {prefix.rstrip('.')}" if prefix else source
        policy = parse_policy(doc, source=where)
        if policy.key in self.policies:
            raise ManifestError(source, f"{prefix}metadata.name", "duplicate", kind="NetworkPolicy",
                                name=policy.key)
        self.policies[policy.key] = policy

    def result(self) -> tuple[list[Namespace], list[Pod], list[NetworkPolicy]]:
        referenced = [p.namespace for p in self.pods.values()] + [p.namespace for p in self.policies.values()]
        namespaces = dict(self.namespaces)
        for name in referenced:
            namespaces.setdefault(name, Namespace(name))
        pods = _assign_addresses(sorted(self.pods.values(), key=lambda p: (p.namespace, p.name)))
        return ([namespaces[n] for n in sorted(namespaces)], pods,
                sorted(self.policies.values(), key=lambda p: (p.namespace, p.name)))


def _container_ports(spec: Any, source: str, prefix: str) -> tuple[ContainerPort, ...]:
    if not isinstance(spec, Mapping):
        raise ManifestError(source, f"{prefix}spec", "not_object")
    out = []
    containers = spec.get("containers") or []
    if not isinstance(containers, list):
        raise ManifestError(source, f"{prefix}spec.containers", "not_list")
    for c, container in enumerate(containers):
        ports = container.get("ports") or [] if isinstance(container, Mapping) else []
        if not isinstance(ports, list):
            raise ManifestError(source, f"{prefix}spec.containers[{c}].ports", "not_list")
        for p, port in enumerate(ports):
            path = f"{prefix}spec.containers[{c}].ports[{p}]"
            if not isinstance(port, Mapping):
                raise ManifestError(source, path, "not_object")
            number = port.get("containerPort")
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
                raise ManifestError(source, f"{path}.containerPort", "bad_port", value=number)
            protocol = port.get("protocol") or "TCP"
            if protocol not in PROTOCOLS:
                raise ManifestError(source, f"{path}.protocol", "bad_protocol", value=protocol)
            name = port.get("name")
            if name is not None and not isinstance(name, str):
                raise ManifestError(source, f"{path}.name", "not_string")
            out.append(ContainerPort(number, protocol, name))
    return tuple(out)


def _assign_addresses(pods: list[Pod]) -> list[Pod]:
    """Give pods without an IP a stable one in 10.244.<n>.<m>, never one already in use."""
    used = {p.ip for p in pods if p.ip}
    ranks = {ns: n for n, ns in enumerate(sorted({p.namespace for p in pods}), start=1)}
    counters: dict[str, int] = {}
    out = []
    base = int(POD_NETWORK.network_address)
    for pod in pods:
        if pod.ip is None:
            m = counters.get(pod.namespace, 0)
            while True:
                m += 1
                ip = str(ipaddress.ip_address(base + ranks[pod.namespace] * 256 + m))
                if ip not in used and not ip.endswith((".0", ".255")):
                    break
            counters[pod.namespace] = m
            used.add(ip)
            pod = Pod(pod.namespace, pod.name, pod.labels, ip, pod.ports)
        out.append(pod)
    return out
