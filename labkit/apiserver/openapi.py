"""OpenAPI v3 schemas of the served kinds, complete enough for ``kubectl explain`` and SSA.

The schemas are not written by hand: they come from the models of the ``kubernetes`` Python
client (a dependency already), which are generated from upstream's ``api/openapi-spec``. Each
model class gives its fields' JSON names, types and descriptions, and the class docstring the
type's description. They are rendered the way upstream's v3 documents are
(``api/openapi-spec/v3/api__v1_openapi.json``): ``components.schemas`` named
``io.k8s.api.core.v1.PodSpec``, fields that are objects as ``allOf: [{$ref}]`` with their own
description, the ``x-kubernetes-group-version-kind`` of each top-level kind, and the list
extensions (``x-kubernetes-patch-merge-key``, ``x-kubernetes-list-map-keys``...) that kubectl's
strategic merge and server-side apply read, taken from the struct tags of ``k8s.io/api``
(``core/v1/types.go``, ``apps/v1/types.go``).

Lab departure: the client's models may be a few minor versions newer than the v1.32 the lab
reports, so ``explain`` can list a field or two that v1.32 does not have.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from .resources import ResourceKind, in_group_version

# Model class per served kind (the Python client names a few after their group).
MODELS = {
    "Namespace": "V1Namespace", "Node": "V1Node", "Pod": "V1Pod", "Service": "V1Service",
    "Endpoints": "V1Endpoints", "Event": "CoreV1Event", "EndpointSlice": "V1EndpointSlice",
    "Deployment": "V1Deployment", "ReplicaSet": "V1ReplicaSet",
    "NetworkPolicy": "V1NetworkPolicy", "SelfSubjectAccessReview": "V1SelfSubjectAccessReview",
    "SelfSubjectRulesReview": "V1SelfSubjectRulesReview",
    "SelfSubjectReview": "V1SelfSubjectReview",
}

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
META_TYPES = {"ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement",
              "OwnerReference", "ManagedFieldsEntry", "Condition", "Status", "StatusDetails",
              "StatusCause", "Time", "MicroTime", "DeleteOptions", "Preconditions",
              "FieldSelectorRequirement"}
EXACT_PACKAGES = {"V1Endpoint": "io.k8s.api.discovery.v1."}
# Python class name prefixes of other groups' types (everything else is core/v1).
GROUP_PACKAGES = (
    (("V1Deployment", "V1ReplicaSet", "V1RollingUpdateDeployment"), "io.k8s.api.apps.v1."),
    (("V1NetworkPolicy", "V1IPBlock"), "io.k8s.api.networking.v1."),
    (("V1EndpointSlice", "V1EndpointConditions", "V1EndpointHints", "V1ForZone", "V1ForNode",
      "DiscoveryV1EndpointPort"), "io.k8s.api.discovery.v1."),
    (("V1SelfSubject", "V1ResourceAttributes", "V1NonResourceAttributes", "V1SubjectAccess",
      "V1ResourceRule", "V1NonResourceRule", "V1SubjectRules", "V1FieldSelectorAttributes",
      "V1LabelSelectorAttributes"), "io.k8s.api.authorization.v1."),
    (("V1UserInfo",), "io.k8s.api.authentication.v1."),
)
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# The intstr.IntOrString fields of the served kinds (the client types them ``object``).
INT_OR_STRING_FIELDS = {("ServicePort", "targetPort"), ("NetworkPolicyPort", "port"),
                        ("HTTPGetAction", "port"), ("TCPSocketAction", "port"),
                        ("RollingUpdateDeployment", "maxSurge"),
                        ("RollingUpdateDeployment", "maxUnavailable"),
                        ("RollingUpdateDaemonSet", "maxSurge")}

# (type, field) -> list extensions, from the ``patchStrategy``/``patchMergeKey`` and
# ``+listType``/``+listMapKey`` markers of k8s.io/api.
_BY_NAME = {"x-kubernetes-list-map-keys": ["name"], "x-kubernetes-list-type": "map",
            "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"}
LIST_EXTENSIONS: dict[tuple[str, str], dict] = {
    **{("PodSpec", f): _BY_NAME for f in ("containers", "initContainers",
                                          "ephemeralContainers", "volumes")},
    ("PodSpec", "imagePullSecrets"): {"x-kubernetes-patch-merge-key": "name",
                                      "x-kubernetes-patch-strategy": "merge"},
    ("PodSpec", "hostAliases"): {"x-kubernetes-list-map-keys": ["ip"],
                                 "x-kubernetes-list-type": "map",
                                 "x-kubernetes-patch-merge-key": "ip",
                                 "x-kubernetes-patch-strategy": "merge"},
    ("PodSpec", "topologySpreadConstraints"): {
        "x-kubernetes-list-map-keys": ["topologyKey", "whenUnsatisfiable"],
        "x-kubernetes-list-type": "map", "x-kubernetes-patch-merge-key": "topologyKey",
        "x-kubernetes-patch-strategy": "merge"},
    **{(t, "env"): {"x-kubernetes-list-map-keys": ["name"], "x-kubernetes-list-type": "map",
                    "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"}
       for t in ("Container", "EphemeralContainer")},
    **{(t, "volumeMounts"): {"x-kubernetes-list-map-keys": ["mountPath"],
                             "x-kubernetes-list-type": "map",
                             "x-kubernetes-patch-merge-key": "mountPath",
                             "x-kubernetes-patch-strategy": "merge"}
       for t in ("Container", "EphemeralContainer")},
    **{(t, "ports"): {"x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                      "x-kubernetes-list-type": "map",
                      "x-kubernetes-patch-merge-key": "containerPort",
                      "x-kubernetes-patch-strategy": "merge"}
       for t in ("Container", "EphemeralContainer")},
    ("ServiceSpec", "ports"): {"x-kubernetes-list-map-keys": ["port", "protocol"],
                               "x-kubernetes-list-type": "map",
                               "x-kubernetes-patch-merge-key": "port",
                               "x-kubernetes-patch-strategy": "merge"},
    ("ServiceSpec", "clusterIPs"): {"x-kubernetes-list-type": "atomic"},
    ("ServiceSpec", "ipFamilies"): {"x-kubernetes-list-type": "atomic"},
    ("ObjectMeta", "finalizers"): {"x-kubernetes-list-type": "set",
                                   "x-kubernetes-patch-strategy": "merge"},
    ("ObjectMeta", "ownerReferences"): {"x-kubernetes-list-map-keys": ["uid"],
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-patch-merge-key": "uid",
                                        "x-kubernetes-patch-strategy": "merge"},
    ("PodStatus", "conditions"): {"x-kubernetes-list-map-keys": ["type"],
                                  "x-kubernetes-list-type": "map",
                                  "x-kubernetes-patch-merge-key": "type",
                                  "x-kubernetes-patch-strategy": "merge"},
    ("DeploymentStatus", "conditions"): {"x-kubernetes-list-map-keys": ["type"],
                                         "x-kubernetes-list-type": "map",
                                         "x-kubernetes-patch-merge-key": "type",
                                         "x-kubernetes-patch-strategy": "merge"},
    ("NodeStatus", "conditions"): {"x-kubernetes-patch-merge-key": "type",
                                   "x-kubernetes-patch-strategy": "merge"},
    ("NodeStatus", "addresses"): {"x-kubernetes-patch-merge-key": "type",
                                  "x-kubernetes-patch-strategy": "merge"},
    ("EndpointSlice", "endpoints"): {"x-kubernetes-list-type": "atomic"},
    ("EndpointSlice", "ports"): {"x-kubernetes-list-type": "atomic"},
}


def _models():
    from kubernetes.client import models
    return models


def schema_name(cls_name: str) -> str:
    """``V1PodSpec`` -> ``io.k8s.api.core.v1.PodSpec`` (the name upstream's documents use)."""
    short = re.sub(r"^(CoreV1|DiscoveryV1|EventsV1|V1)", "", cls_name)
    if short in META_TYPES and cls_name.startswith("V1"):
        return META + short
    if cls_name in EXACT_PACKAGES:
        return EXACT_PACKAGES[cls_name] + short
    for prefixes, package in GROUP_PACKAGES:
        if cls_name.startswith(prefixes):
            return package + short
    return "io.k8s.api.core.v1." + short


def _class_description(cls) -> str:
    doc = inspect.getdoc(cls) or ""
    text = doc.split("Attributes:")[0].split("NOTE: This class is auto generated")[0].strip()
    return " ".join(text.split())


def _field_description(cls, attr: str) -> str:
    fields = getattr(cls, "model_fields", None)
    if fields is not None and attr in fields:
        return fields[attr].description or ""
    prop = getattr(cls, attr, None)          # kubernetes < 35: a property with a docstring
    doc = inspect.getdoc(prop) if isinstance(prop, property) else ""
    lines = [ln for ln in (doc or "").splitlines()[1:] if ln.strip() and not ln.startswith(":")]
    return " ".join(ln.replace("# noqa: E501", "").strip() for ln in lines).strip()


def _required(cls, attr: str) -> bool:
    fields = getattr(cls, "model_fields", None)
    if fields is not None and attr in fields:
        return fields[attr].is_required()
    return False


class Builder:
    """Collects ``components.schemas`` for a set of model classes and what they reference."""

    def __init__(self) -> None:
        self.models = _models()
        self.schemas: dict[str, dict] = {}

    def type_schema(self, type_text: str) -> tuple[dict, str | None]:
        """The schema of a client type string, and the referenced class name if any."""
        text = type_text.strip()
        low = text.lower()
        if low.startswith("list["):
            item, ref = self.type_schema(text[5:-1])
            return {"type": "array", "items": item}, ref
        if low.startswith("dict(") or low.startswith("dict["):
            value = text[5:-1].split(",", 1)[1]
            item, ref = self.type_schema(value)
            return {"type": "object", "additionalProperties": item}, ref
        simple = {"str": {"type": "string"}, "int": {"type": "integer", "format": "int32"},
                  "bool": {"type": "boolean"}, "float": {"type": "number", "format": "double"},
                  "bytearray": {"type": "string", "format": "byte"}}
        if low in simple:
            return dict(simple[low]), None
        if low in ("datetime", "date"):
            self.schemas.setdefault(META + "Time", {
                "description": "Time is a wrapper around time.Time which supports correct "
                               "marshaling to YAML and JSON.",
                "type": "string", "format": "date-time"})
            return {"$ref": f"#/components/schemas/{META}Time"}, None
        if low == "object":
            return {"type": "object"}, None
        cls = getattr(self.models, text, None)
        if cls is None:
            return {"type": "object"}, None
        self.add(text)
        return {"$ref": f"#/components/schemas/{schema_name(text)}"}, text

    def add(self, cls_name: str) -> str:
        name = schema_name(cls_name)
        if name in self.schemas:
            return name
        cls = getattr(self.models, cls_name)
        schema: dict = {"description": _class_description(cls), "type": "object",
                        "properties": {}}
        self.schemas[name] = schema
        short = name.rsplit(".", 1)[1]
        required = []
        for attr, type_text in cls.openapi_types.items():
            json_name = cls.attribute_map[attr]
            description = _field_description(cls, attr)
            prop, ref = self._property(short, json_name, type_text, description)
            schema["properties"][json_name] = prop
            if _required(cls, attr):
                required.append(json_name)
        if required:
            schema["required"] = sorted(required)
        return name

    def _property(self, owner: str, field: str, type_text: str, description: str) -> tuple:
        if (owner, field) in INT_OR_STRING_FIELDS:
            self._int_or_string()
            prop: dict[str, Any] = {"allOf": [{"$ref": f"#/components/schemas/{INT_OR_STRING}"}]}
            ref = None
        else:
            inner, ref = self.type_schema(type_text)
            prop = {"allOf": [inner]} if "$ref" in inner else inner
            if "$ref" in inner and ref is not None:
                prop["default"] = {}
        if not description and ref is not None:
            description = self.schemas[schema_name(ref)].get("description", "")
        if description:
            prop = {"description": description, **prop}
        prop.update(LIST_EXTENSIONS.get((owner, field), {}))
        return prop, ref

    def _int_or_string(self) -> None:
        self.schemas.setdefault(INT_OR_STRING, {
            "description": "IntOrString is a type that can hold an int32 or a string.  When "
                           "used in JSON or YAML marshalling and unmarshalling, it produces or "
                           "consumes the inner type.  This allows you to have, for example, a "
                           "JSON field that can accept a name or number.",
            "format": "int-or-string", "x-kubernetes-int-or-string": True})


@functools.cache
def components(group: str, version: str) -> dict:
    """``components.schemas`` for the kinds served at one group-version."""
    builder = Builder()
    for res in in_group_version(group, version):
        cls_name = MODELS.get(res.kind)
        if cls_name is None or not hasattr(builder.models, cls_name):
            continue
        name = builder.add(cls_name)
        builder.schemas[name]["x-kubernetes-group-version-kind"] = [
            {"group": res.group, "kind": res.kind, "version": res.version}]
    return {"schemas": builder.schemas}


def kind_schema(res: ResourceKind) -> tuple[dict, dict] | None:
    """(schema of the kind, all schemas of its group-version), for SSA's list semantics."""
    schemas = components(res.group, res.version)["schemas"]
    for schema in schemas.values():
        if {"group": res.group, "kind": res.kind, "version": res.version} in schema.get(
                "x-kubernetes-group-version-kind", []):
            return schema, schemas
    return None
