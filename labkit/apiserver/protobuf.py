"""Decode the protobuf bodies that ``kubectl create deployment|namespace|service`` send.

Those commands POST ``application/vnd.kubernetes.protobuf`` with no JSON fallback, so a
JSON-only server must read them. The body is the magic ``k8s\\0`` followed by a
``runtime.Unknown`` {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
4: contentType}; ``raw`` is the object's own message. The schemas below are the subset of
k8s.io/api ``generated.proto`` (v0.32.0) those commands (and typed clients creating pods,
replica sets and services) use; unknown fields are skipped. Field names are the JSON names.

Like Go's JSON ``omitempty``, empty strings, zero numbers, false and empty messages are dropped,
except pointer fields such as ``replicas`` where zero means something (``KEEP_ZERO``).
"""
from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

MAGIC = b"k8s\x00"
KEEP_ZERO = {"replicas"}

# message -> {field number: (json name, type, repeated)}
S, I, B = "string", "int", "bool"
SCHEMAS: dict[str, dict[int, tuple[str, str, bool]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta", False), 2: ("raw", "bytes", False),
                3: ("contentEncoding", S, False), 4: ("contentType", S, False)},
    "TypeMeta": {1: ("apiVersion", S, False), 2: ("kind", S, False)},
    "ObjectMeta": {1: ("name", S, False), 2: ("generateName", S, False),
                   3: ("namespace", S, False), 5: ("uid", S, False),
                   6: ("resourceVersion", S, False), 7: ("generation", I, False),
                   8: ("creationTimestamp", "time", False), 9: ("deletionTimestamp", "time", False),
                   10: ("deletionGracePeriodSeconds", I, False), 11: ("labels", "map", False),
                   12: ("annotations", "map", False),
                   13: ("ownerReferences", "OwnerReference", True),
                   14: ("finalizers", S, True)},
    "OwnerReference": {1: ("kind", S, False), 3: ("name", S, False), 4: ("uid", S, False),
                       5: ("apiVersion", S, False), 6: ("controller", B, False),
                       7: ("blockOwnerDeletion", B, False)},
    "LabelSelector": {1: ("matchLabels", "map", False),
                      2: ("matchExpressions", "LabelSelectorRequirement", True)},
    "LabelSelectorRequirement": {1: ("key", S, False), 2: ("operator", S, False),
                                 3: ("values", S, True)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False),
                  3: ("status", "NamespaceStatus", False)},
    "NamespaceSpec": {1: ("finalizers", S, True)},
    "NamespaceStatus": {1: ("phase", S, False)},
    "Deployment": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "DeploymentSpec", False),
                   3: ("status", "Status", False)},
    "DeploymentSpec": {1: ("replicas", I, False), 2: ("selector", "LabelSelector", False),
                       3: ("template", "PodTemplateSpec", False),
                       4: ("strategy", "DeploymentStrategy", False),
                       5: ("minReadySeconds", I, False), 6: ("revisionHistoryLimit", I, False),
                       7: ("paused", B, False), 9: ("progressDeadlineSeconds", I, False)},
    "DeploymentStrategy": {1: ("type", S, False),
                           2: ("rollingUpdate", "RollingUpdateDeployment", False)},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intstr", False),
                                2: ("maxSurge", "intstr", False)},
    "ReplicaSet": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ReplicaSetSpec", False),
                   3: ("status", "Status", False)},
    "ReplicaSetSpec": {1: ("replicas", I, False), 2: ("selector", "LabelSelector", False),
                       3: ("template", "PodTemplateSpec", False), 4: ("minReadySeconds", I, False)},
    "Status": {},   # statuses are the server's to write: skipped
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False)},
    "Pod": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False),
            3: ("status", "Status", False)},
    "PodSpec": {2: ("containers", "Container", True), 3: ("restartPolicy", S, False),
                4: ("terminationGracePeriodSeconds", I, False),
                5: ("activeDeadlineSeconds", I, False), 6: ("dnsPolicy", S, False),
                7: ("nodeSelector", "map", False), 8: ("serviceAccountName", S, False),
                9: ("serviceAccount", S, False), 10: ("nodeName", S, False),
                11: ("hostNetwork", B, False), 16: ("hostname", S, False),
                17: ("subdomain", S, False), 19: ("schedulerName", S, False),
                20: ("initContainers", "Container", True), 22: ("tolerations", "Toleration", True),
                24: ("priorityClassName", S, False), 25: ("priority", I, False),
                30: ("enableServiceLinks", B, False), 31: ("preemptionPolicy", S, False)},
    "Toleration": {1: ("key", S, False), 2: ("operator", S, False), 3: ("value", S, False),
                   4: ("effect", S, False), 5: ("tolerationSeconds", I, False)},
    "Container": {1: ("name", S, False), 2: ("image", S, False), 3: ("command", S, True),
                  4: ("args", S, True), 5: ("workingDir", S, False),
                  6: ("ports", "ContainerPort", True), 7: ("env", "EnvVar", True),
                  8: ("resources", "ResourceRequirements", False),
                  9: ("volumeMounts", "VolumeMount", True),
                  13: ("terminationMessagePath", S, False), 14: ("imagePullPolicy", S, False),
                  16: ("stdin", B, False), 17: ("stdinOnce", B, False), 18: ("tty", B, False),
                  20: ("terminationMessagePolicy", S, False)},
    "ContainerPort": {1: ("name", S, False), 2: ("hostPort", I, False),
                      3: ("containerPort", I, False), 4: ("protocol", S, False),
                      5: ("hostIP", S, False)},
    "EnvVar": {1: ("name", S, False), 2: ("value", S, False)},
    "VolumeMount": {1: ("name", S, False), 2: ("readOnly", B, False), 3: ("mountPath", S, False),
                    4: ("subPath", S, False)},
    "ResourceRequirements": {1: ("limits", "quantities", False),
                             2: ("requests", "quantities", False)},
    "Service": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ServiceSpec", False),
                3: ("status", "Status", False)},
    "ServiceSpec": {1: ("ports", "ServicePort", True), 2: ("selector", "map", False),
                    3: ("clusterIP", S, False), 4: ("type", S, False),
                    5: ("externalIPs", S, True), 7: ("sessionAffinity", S, False),
                    8: ("loadBalancerIP", S, False), 10: ("externalName", S, False),
                    11: ("externalTrafficPolicy", S, False),
                    13: ("publishNotReadyAddresses", B, False), 17: ("ipFamilyPolicy", S, False),
                    18: ("clusterIPs", S, True), 19: ("ipFamilies", S, True),
                    20: ("allocateLoadBalancerNodePorts", B, False),
                    22: ("internalTrafficPolicy", S, False)},
    "ServicePort": {1: ("name", S, False), 2: ("protocol", S, False), 3: ("port", I, False),
                    4: ("targetPort", "intstr", False), 5: ("nodePort", I, False),
                    6: ("appProtocol", S, False)},
}


class ProtobufError(ValueError):
    """The body is not a Kubernetes protobuf message we can read."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# A raw field value: an int (wire types 0, 1, 5) or bytes (2). Typed Any: the schema, not the
# wire, says which one a field must be, and a body where they disagree fails with its
# AttributeError or TypeError, a 400 (``bodies.decode_protobuf``).
Raw = Any


def fields(data: bytes) -> list[tuple[int, int, Raw]]:
    """The raw (field number, wire type, value) triples of one message."""
    out: list[tuple[int, int, Raw]] = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        value: Raw
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
            if pos > len(data):
                raise ProtobufError("truncated field")
        elif wire == 1:
            value, pos = struct.unpack_from("<q", data, pos)[0], pos + 8
        elif wire == 5:
            value, pos = struct.unpack_from("<i", data, pos)[0], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(wire: str, value: Raw) -> object:
    if wire == S:
        return value.decode("utf-8")
    if wire == I:
        return _signed(value)
    if wire == B:
        return bool(value)
    if wire == "bytes":
        return value
    if wire == "time":
        parts = dict((n, v) for n, _, v in fields(value))
        when = datetime.fromtimestamp(parts.get(1, 0), tz=UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if wire == "intstr":
        parts = dict((n, v) for n, _, v in fields(value))
        return parts.get(3, b"").decode() if parts.get(1) == 1 else _signed(parts.get(2, 0))
    raise ProtobufError(f"unknown type {wire}")


def _map_entry(value: bytes, quantity: bool) -> tuple[str, str]:
    parts = dict((n, v) for n, _, v in fields(value))
    key = parts.get(1, b"").decode()
    raw = parts.get(2, b"")
    if quantity:  # resource.Quantity {1: string}
        raw = dict((n, v) for n, _, v in fields(raw)).get(1, b"")
    return key, raw.decode()


def decode_message(data: bytes, schema: str) -> dict:
    result: dict = {}
    table = SCHEMAS[schema]
    for number, _, value in fields(data):
        if number not in table:
            continue
        name, wire, repeated = table[number]
        if wire in ("map", "quantities"):
            key, val = _map_entry(value, wire == "quantities")
            result.setdefault(name, {})[key] = val
            continue
        decoded = decode_message(value, wire) if wire in SCHEMAS else _scalar(wire, value)
        if repeated:
            result.setdefault(name, []).append(decoded)
        else:
            result[name] = decoded
    return {k: v for k, v in result.items() if _keep(k, v)}


def _keep(name: str, value: object) -> bool:
    if name in KEEP_ZERO and value == 0:
        return True
    return value not in ("", 0, False, {}, None) or value is True


def decode(body: bytes) -> dict:
    """The JSON-shaped object in a ``k8s\\0``-framed protobuf body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing k8s protobuf magic")
    unknown = decode_message(body[len(MAGIC):], "Unknown")
    type_meta = unknown.get("typeMeta", {})
    kind = type_meta.get("kind", "")
    if kind not in SCHEMAS or kind in ("Unknown", "TypeMeta", "Status"):
        raise ProtobufError(f"cannot decode kind {kind!r} from protobuf; send JSON instead")
    obj = decode_message(unknown.get("raw", b""), kind)
    obj.pop("status", None)
    return {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind, **obj}
