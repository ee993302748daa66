"""Every resource kind the server knows, declared as data in ONE table.

Discovery, OpenAPI, routing, Tables and validation all read this table, so adding a kind is one
entry here (plus, if it needs one, a validator in ``validation.py``). The printer columns
reproduce what a real cluster sends, so ``kubectl get -o wide`` looks the same as on kind.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import printers as p

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class Column:
    name: str
    cell: Callable[[dict, float], Any]
    priority: int = 0
    type: str = "string"
    format: str = ""
    description: str = ""


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = "v1"


@dataclass(frozen=True)
class ResourceKind:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    columns: tuple[Column, ...] = ()
    # Kinds whose ``spec`` changes bump metadata.generation (controllers report observedGeneration).
    has_generation: bool = False
    # Kinds answered on create and never stored (authorization reviews, see ``authz``).
    virtual: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Identifies the kind in the store and in persisted file names (``apps/deployments``)."""
        return f"{self.group or 'core'}/{self.plural}"

    @property
    def has_status(self) -> bool:
        return any(s.name == "status" for s in self.subresources)

    def table_columns(self) -> tuple[Column, ...]:
        return self.columns or (NAME, AGE)


NAME = Column("Name", p.name, format="name",
              description="Name must be unique within a namespace.")
AGE = Column("Age", p.age, description="CreationTimestamp of the object.")


def _status(kind: str, group: str = "", version: str = "v1") -> Subresource:
    return Subresource("status", kind, ("get", "patch", "update"), group, version)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")


WORKLOAD_WIDE = (Column("Containers", p.containers, 1), Column("Images", p.images, 1),
                 Column("Selector", p.workload_selector, 1))

RESOURCES: tuple[ResourceKind, ...] = (
    ResourceKind(
        "", "v1", "Namespace", "namespaces", "namespace", False, ("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=(_status("Namespace"), Subresource("finalize", "Namespace", ("update",))),
        columns=(NAME, Column("Status", p.namespace_status), AGE)),
    ResourceKind(
        "", "v1", "Node", "nodes", "node", False, ("no",),
        subresources=(_status("Node"),),
        columns=(NAME, Column("Status", p.node_status), Column("Roles", p.node_roles), AGE,
                 Column("Version", p.node_info("kubeletVersion")),
                 Column("Internal-IP", p.node_address("InternalIP"), 1),
                 Column("External-IP", p.node_address("ExternalIP"), 1),
                 Column("OS-Image", p.node_info("osImage"), 1),
                 Column("Kernel-Version", p.node_info("kernelVersion"), 1),
                 Column("Container-Runtime", p.node_info("containerRuntimeVersion"), 1))),
    ResourceKind(
        "", "v1", "Pod", "pods", "pod", True, ("po",), categories=("all",),
        subresources=(_status("Pod"),
                      Subresource("exec", "PodExecOptions", ("create", "get")),
                      Subresource("attach", "PodAttachOptions", ("create", "get")),
                      Subresource("log", "Pod", ("get",)),
                      Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
                      Subresource("ephemeralcontainers", "Pod", ("get", "patch", "update"))),
        columns=(NAME, Column("Ready", p.pod_ready), Column("Status", p.pod_status),
                 Column("Restarts", p.pod_restarts, type="string"), AGE,
                 Column("IP", p.pod_ip, 1), Column("Node", p.pod_node, 1),
                 Column("Nominated Node", p.pod_nominated, 1),
                 Column("Readiness Gates", p.pod_gates, 1))),
    ResourceKind(
        "", "v1", "Service", "services", "service", True, ("svc",), categories=("all",),
        subresources=(_status("Service"),),
        columns=(NAME, Column("Type", p.svc_type), Column("Cluster-IP", p.svc_cluster_ip),
                 Column("External-IP", p.svc_external_ip), Column("Port(s)", p.svc_ports), AGE,
                 Column("Selector", p.svc_selector, 1))),
    ResourceKind(
        "", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",),
        columns=(NAME, Column("Endpoints", p.endpoints_list), AGE)),
    ResourceKind(
        "", "v1", "Event", "events", "event", True, ("ev",),
        columns=(Column("Last Seen", p.event_last_seen), Column("Type", p.event_field("type")),
                 Column("Reason", p.event_field("reason")), Column("Object", p.event_object),
                 Column("Subobject", p.event_field("involvedObject.fieldPath"), 1),
                 Column("Source", p.event_source, 1), Column("Message", p.event_field("message")),
                 Column("First Seen", p.event_first_seen, 1),
                 Column("Count", p.event_field("count", 1), 1),
                 Column("Name", p.name, 1, format="name"))),
    ResourceKind(
        "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True,
        columns=(NAME, Column("AddressType", p.slice_address_type), Column("Ports", p.slice_ports),
                 Column("Endpoints", p.slice_endpoints), AGE)),
    ResourceKind(
        "apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",),
        categories=("all",), has_generation=True,
        subresources=(_status("Deployment", "apps"), _scale()),
        columns=(NAME, Column("Ready", p.deploy_ready),
                 Column("Up-to-date", p.status_int("status.updatedReplicas"), type="integer"),
                 Column("Available", p.status_int("status.availableReplicas"), type="integer"),
                 AGE) + WORKLOAD_WIDE),
    ResourceKind(
        "apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",),
        categories=("all",), has_generation=True,
        subresources=(_status("ReplicaSet", "apps"), _scale()),
        columns=(NAME, Column("Desired", p.spec_int("spec.replicas"), type="integer"),
                 Column("Current", p.status_int("status.replicas"), type="integer"),
                 Column("Ready", p.status_int("status.readyReplicas"), type="integer"),
                 AGE) + WORKLOAD_WIDE),
    ResourceKind(
        "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", True,
        ("netpol",), has_generation=True,
        columns=(NAME, Column("Pod-Selector", p.policy_selector), AGE)),
    # Multus's CRD (k8snetworkplumbingwg/multus-cni deployments/multus-daemonset.yml): a CNI config
    # in spec.config, named by a pod's k8s.v1.cni.cncf.io/networks annotation (labkit.embedded.multus)
    ResourceKind(
        "k8s.cni.cncf.io", "v1", "NetworkAttachmentDefinition", "network-attachment-definitions",
        "network-attachment-definition", True, ("net-attach-def",)),
    ResourceKind(
        "authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
        "selfsubjectaccessreview", False, verbs=("create",), virtual=True),
    ResourceKind(
        "authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
        "selfsubjectrulesreview", False, verbs=("create",), virtual=True),
    ResourceKind(
        "authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews",
        "selfsubjectreview", False, verbs=("create",), virtual=True),
)

BY_KEY = {r.key: r for r in RESOURCES}
_VERSION_OF_KIND: dict[str, str] = {}
for _res in RESOURCES:                                   # the first of a kind wins
    _VERSION_OF_KIND.setdefault(_res.kind, _res.api_version)
del _res


def find(group: str, version: str, plural: str) -> ResourceKind | None:
    """The kind served at ``/apis/<group>/<version>/<plural>`` (group ``""`` for ``/api/v1``)."""
    for res in RESOURCES:
        if res.group == group and res.version == version and res.plural == plural:
            return res
    return None


def api_version_of(kind: str) -> str:
    """The apiVersion a kind is served at (``v1`` when the kind is not served)."""
    return _VERSION_OF_KIND.get(kind, "v1")


def group_versions() -> dict[str, list[str]]:
    """``{group: [versions]}`` in table order; the core group is ``""``."""
    out: dict[str, list[str]] = {}
    for res in RESOURCES:
        versions = out.setdefault(res.group, [])
        if res.version not in versions:
            versions.append(res.version)
    return out


def in_group_version(group: str, version: str) -> list[ResourceKind]:
    return [r for r in RESOURCES if r.group == group and r.version == version]
