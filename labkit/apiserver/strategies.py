"""Per-kind strategies: what differs between kinds when the verbs create, update and delete them.

After the registry strategies of the real API server (``pkg/registry/<group>/<kind>/strategy.go``:
``PrepareForCreate``, ``PrepareForUpdate``, ``Validate``/``ValidateUpdate``, and the graceful
deletion of ``pkg/registry/rest/delete.go``): ``api.py`` runs the same steps for every kind and
asks the kind's :class:`Strategy` at each point where kinds differ, instead of branching on the
kind. Kinds with nothing special use :class:`Strategy` itself. Validation by kind stays in
``validation.py``, decoding defaults by kind in ``defaulting.py``.
"""
from __future__ import annotations

import copy
import ipaddress
from typing import Any

from . import defaulting, objects, status, validation_common
from .resources import ResourceKind
from .status import Cause, cause

Obj = dict[str, Any]


class Strategy:
    """The defaults of a kind with no special rule (Events, EndpointSlices, policies...)."""

    #: an update keeps the stored status even when the kind has no status subresource
    keeps_status: bool = False

    def __init__(self, kind: str) -> None:
        self.kind = kind

    # --- create ---------------------------------------------------------------------------------
    def create_defaults(self, obj: Obj, addresses: objects.ServiceAddresses) -> None:
        """Defaults of a new object (after validation, before it is stored)."""
        defaulting.default(self.kind, obj)

    def allocation_causes(self, addresses: objects.ServiceAddresses, new: Obj,
                          current: Obj | None) -> list[Cause]:
        """Why what ``new`` asks for cannot be allocated (checked once it validates)."""
        return []

    # --- update ---------------------------------------------------------------------------------
    def prepare_update(self, current: Obj, new: Obj) -> None:
        """Fields an update cannot change, put back from ``current``."""

    def before_validate_update(self, new: Obj) -> None:
        """Decode-time defaults an update's validation needs."""

    def update_causes(self, current: Obj, new: Obj) -> list[Cause]:
        """What an update may not change (beyond the validation of the new object)."""
        return []

    def update_defaults(self, current: Obj, new: Obj, addresses: objects.ServiceAddresses,
                        status_update: bool) -> None:
        """Defaults of an updated object (after validation, before it is stored)."""
        defaulting.default(self.kind, new, create=False)

    def after_update(self, current: Obj, stored: Obj, addresses: objects.ServiceAddresses) -> None:
        """What the stored update frees (not called for a dry run)."""

    # --- delete ---------------------------------------------------------------------------------
    def check_delete(self, name: str) -> None:
        """Refuse deleting an object that must stay."""

    def graceful(self, current: Obj, grace: int | None) -> bool:
        """Whether deletion marks the object (deletionTimestamp) instead of removing it now."""
        return False

    def mark_deleting(self, new: Obj, grace: int | None) -> None:
        new["metadata"]["deletionGracePeriodSeconds"] = grace

    def on_remove(self, obj: Obj, addresses: objects.ServiceAddresses) -> None:
        """Release what the object held once it is really removed."""


class PodStrategy(Strategy):
    """Pods: spec immutable but for images, deadlines and tolerations; a scheduled pod is
    deleted gracefully (the kubelet ends its containers), pkg/registry/core/pod/strategy.go."""

    def before_validate_update(self, new: Obj) -> None:
        objects.pod_spec_defaults(new.setdefault("spec", {}))

    def update_causes(self, current: Obj, new: Obj) -> list[Cause]:
        def masked(spec: Obj) -> Obj:
            spec = copy.deepcopy(spec)
            for key in ("containers", "initContainers"):
                for container in spec.get(key) or []:
                    container.pop("image", None)
            spec.pop("activeDeadlineSeconds", None)
            spec.pop("tolerations", None)
            return spec
        if masked(current.get("spec", {})) != masked(new.get("spec", {})):
            return [cause("spec", "api.pod_update_forbidden")]
        return []

    def graceful(self, current: Obj, grace: int | None) -> bool:
        return bool(current["spec"].get("nodeName")) and grace != 0


class WorkloadStrategy(Strategy):
    """Deployments and ReplicaSets: the controllers own the status."""

    deployment = False

    def create_defaults(self, obj: Obj, addresses: objects.ServiceAddresses) -> None:
        objects.workload_defaults(obj, self.deployment)

    def update_defaults(self, current: Obj, new: Obj, addresses: objects.ServiceAddresses,
                        status_update: bool) -> None:
        status_copy = new.get("status")
        objects.workload_defaults(new, self.deployment)
        new["status"] = status_copy if status_copy is not None else {}


class DeploymentStrategy(WorkloadStrategy):
    deployment = True


class ServiceStrategy(Strategy):
    """Services: a ClusterIP and node ports allocated once, kept across updates, released on
    removal (pkg/registry/core/service/storage/alloc.go); only the status subresource writes
    status.loadBalancer."""

    def create_defaults(self, obj: Obj, addresses: objects.ServiceAddresses) -> None:
        objects.service_defaults(obj, addresses)

    def allocation_causes(self, addresses: objects.ServiceAddresses, new: Obj,
                          current: Obj | None) -> list[Cause]:
        """A requested ClusterIP must be in the range and free; a requested nodePort free."""
        from .validation import _rule_text

        spec, old = new.get("spec") or {}, (current or {}).get("spec") or {}
        causes = []
        ip = spec.get("clusterIP")
        if ip not in (None, "", "None") and ip != old.get("clusterIP"):
            net = addresses.network
            if ipaddress.ip_address(ip) in (net.network_address, net.broadcast_address):
                causes.append(status.cause("spec.clusterIPs", "cause.invalid", value=f'[]string{{"{ip}"}}',
                                           detail=validation_common.Rule("cluster_ip_edge", ip=ip,
                                                                         cidr=str(net))))
            elif ipaddress.ip_address(ip) not in addresses.network:
                causes.append(status.cause("spec.clusterIPs", "cause.invalid", value=f'[]string{{"{ip}"}}',
                                           detail=_rule_text("cluster_ip_range", ip=ip,
                                                             cidr=str(addresses.network))))
            elif ip in addresses.used:
                causes.append(status.cause("spec.clusterIPs", "cause.invalid", value=f'[]string{{"{ip}"}}',
                                           detail=_rule_text("cluster_ip_taken", ip=ip)))
        mine = {p.get("nodePort") for p in old.get("ports") or []}
        for index, port in enumerate(spec.get("ports") or []):
            node_port = port.get("nodePort")
            if node_port and node_port not in mine and node_port in addresses.node_ports:
                causes.append(status.cause(f"spec.ports[{index}].nodePort", "cause.invalid",
                                           value=node_port, detail=_rule_text("node_port_taken")))
        return causes

    def prepare_update(self, current: Obj, new: Obj) -> None:
        spec = new.setdefault("spec", {})
        old_spec = current.get("spec", {})
        for key in ("clusterIP", "clusterIPs"):
            spec.setdefault(key, old_spec.get(key))
        node_typed = ("NodePort", "LoadBalancer")
        if old_spec.get("type") in node_typed and spec.get("type") not in node_typed:
            _drop_type_dependent_fields(old_spec, spec)
        elif spec.get("type", old_spec.get("type")) in node_typed:
            # a port the update names without a nodePort keeps the one it had (patchAllocatedValues in
            # pkg/registry/core/service/storage/storage.go): same port and protocol
            had = {(p.get("port"), p.get("protocol", "TCP")): p["nodePort"]
                   for p in old_spec.get("ports") or [] if p.get("nodePort")}
            for port in spec.get("ports") or []:
                if isinstance(port, dict) and not port.get("nodePort"):
                    kept = had.get((port.get("port"), port.get("protocol", "TCP")))
                    if kept:
                        port["nodePort"] = kept

    def update_defaults(self, current: Obj, new: Obj, addresses: objects.ServiceAddresses,
                        status_update: bool) -> None:
        written = new.get("status")
        objects.service_defaults(new, addresses)
        new["status"] = copy.deepcopy(written if status_update and written is not None
                                      else current.get("status", {"loadBalancer": {}}))

    def after_update(self, current: Obj, stored: Obj, addresses: objects.ServiceAddresses) -> None:
        """Node ports the update gave up are free again (a patched nodePort, a type back to ClusterIP)."""
        kept = {p.get("nodePort") for p in (stored.get("spec") or {}).get("ports") or []}
        for port in (current.get("spec") or {}).get("ports") or []:
            if port.get("nodePort") and port["nodePort"] not in kept:
                addresses.node_ports.discard(port["nodePort"])

    def on_remove(self, obj: Obj, addresses: objects.ServiceAddresses) -> None:
        addresses.release(obj)


def _drop_type_dependent_fields(old: Obj, new: Obj) -> None:
    """A Service turned from NodePort/LoadBalancer into ClusterIP loses the fields only the old type
    needs, when the update left them as they were (dropTypeDependentFields in
    pkg/registry/core/service/storage/storage.go): its node ports, health-check node port and
    external traffic policy."""
    def node_ports(spec: Obj) -> list:
        return [p.get("nodePort") for p in spec.get("ports") or [] if isinstance(p, dict)]

    if node_ports(new) == node_ports(old):
        for port in new.get("ports") or []:
            if isinstance(port, dict):
                port.pop("nodePort", None)
    for key in ("healthCheckNodePort", "externalTrafficPolicy"):
        if key in new and new.get(key) == old.get(key):
            new.pop(key)


class NamespaceStrategy(Strategy):
    """Namespaces: spec and status are the server's; deletion finalizes (Terminating), and the
    system namespaces stay (pkg/registry/core/namespace/storage/storage.go)."""

    keeps_status = True

    def create_defaults(self, obj: Obj, addresses: objects.ServiceAddresses) -> None:
        objects.namespace_defaults(obj)

    def prepare_update(self, current: Obj, new: Obj) -> None:
        new["spec"] = copy.deepcopy(current.get("spec", {}))

    def check_delete(self, name: str) -> None:
        if name in objects.SYSTEM_NAMESPACES:
            raise status.forbidden("api.namespace_protected", name=name)

    def graceful(self, current: Obj, grace: int | None) -> bool:
        return True

    def mark_deleting(self, new: Obj, grace: int | None) -> None:
        new["status"] = {"phase": "Terminating"}


_SPECIAL: dict[str, type[Strategy]] = {
    "Pod": PodStrategy,
    "Deployment": DeploymentStrategy,
    "ReplicaSet": WorkloadStrategy,
    "Service": ServiceStrategy,
    "Namespace": NamespaceStrategy,
}
_cache: dict[str, Strategy] = {}


def for_kind(kind: str) -> Strategy:
    strategy = _cache.get(kind)
    if strategy is None:
        strategy = _cache[kind] = _SPECIAL.get(kind, Strategy)(kind)
    return strategy


def of(res: ResourceKind) -> Strategy:
    """The strategy of a resource kind."""
    return for_kind(res.kind)
