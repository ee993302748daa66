"""The types of the fields of every kind the lab stores, checked as a real API server decodes.

The real API server decodes a body into Go structs, so a value of the wrong type never reaches
validation: ``{"spec": {"containers": "x"}}`` is a 400 BadRequest ``Pod in version "v1" cannot be
handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of
type []v1.Container`` (k8s.io/apimachinery/pkg/runtime/serializer/json, encoding/json). Here the
same check runs on the dict before anything reads it, so no handler or controller ever meets a
string where it expects a list (the ``'str' object has no attribute 'get'`` class of errors).

The schema is data: a scalar type name, ``{field: schema}`` for a struct (fields not listed are
not checked: ``fields.py`` reports unknown ones under ``fieldValidation=Strict``), ``[schema]``
for a list, ``Map(schema)`` for a map, ``ANY`` for content the lab does not interpret.
``null`` is accepted everywhere, as Go decodes it to the zero value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import status

STR, INT, BOOL, NUM, INTSTR, OBJ = "string", "integer", "boolean", "number", "intstr", "object"
ANY = None


@dataclass(frozen=True)
class Map:
    value: Any


STR_MAP = Map(STR)
REF = {"apiVersion": STR, "kind": STR, "name": STR, "uid": STR, "controller": BOOL,
       "blockOwnerDeletion": BOOL, "namespace": STR, "resourceVersion": STR, "fieldPath": STR}
META = {"name": STR, "generateName": STR, "namespace": STR, "labels": STR_MAP,
        "annotations": STR_MAP, "uid": STR, "resourceVersion": STR, "generation": INT,
        "creationTimestamp": STR, "deletionTimestamp": STR, "deletionGracePeriodSeconds": INT,
        "ownerReferences": [REF], "finalizers": [STR], "managedFields": [OBJ], "selfLink": STR}
SELECTOR = {"matchLabels": STR_MAP,
            "matchExpressions": [{"key": STR, "operator": STR, "values": [STR]}]}
CONTAINER_PORT = {"name": STR, "hostPort": INT, "containerPort": INT, "protocol": STR,
                  "hostIP": STR}
CONTAINER = {"name": STR, "image": STR, "command": [STR], "args": [STR], "workingDir": STR,
             "ports": [CONTAINER_PORT], "env": [{"name": STR, "value": STR, "valueFrom": OBJ}],
             "envFrom": [OBJ], "resources": OBJ, "volumeMounts": [OBJ], "livenessProbe": OBJ,
             "readinessProbe": OBJ, "startupProbe": OBJ, "lifecycle": OBJ,
             "imagePullPolicy": STR, "securityContext": OBJ, "stdin": BOOL, "stdinOnce": BOOL,
             "tty": BOOL, "restartPolicy": STR, "terminationMessagePath": STR,
             "terminationMessagePolicy": STR}
TOLERATION = {"key": STR, "operator": STR, "value": STR, "effect": STR, "tolerationSeconds": INT}
POD_SPEC = {"containers": [CONTAINER], "initContainers": [CONTAINER],
            "ephemeralContainers": [CONTAINER], "nodeName": STR, "nodeSelector": STR_MAP,
            "tolerations": [TOLERATION], "hostNetwork": BOOL, "hostPID": BOOL, "hostIPC": BOOL,
            "restartPolicy": STR, "terminationGracePeriodSeconds": INT,
            "activeDeadlineSeconds": INT, "dnsPolicy": STR, "serviceAccountName": STR,
            "serviceAccount": STR, "automountServiceAccountToken": BOOL, "hostname": STR,
            "subdomain": STR, "schedulerName": STR, "priority": INT, "priorityClassName": STR,
            "volumes": [OBJ], "affinity": OBJ, "securityContext": OBJ, "dnsConfig": OBJ,
            "imagePullSecrets": [OBJ], "enableServiceLinks": BOOL, "readinessGates": [OBJ],
            "topologySpreadConstraints": [OBJ], "hostAliases": [OBJ],
            "shareProcessNamespace": BOOL, "setHostnameAsFQDN": BOOL}
CONDITION = {"type": STR, "status": STR, "reason": STR, "message": STR,
             "lastTransitionTime": STR, "lastProbeTime": STR, "lastUpdateTime": STR,
             "lastHeartbeatTime": STR}
POD_STATUS = {"phase": STR, "conditions": [CONDITION], "podIP": STR, "podIPs": [{"ip": STR}],
              "hostIP": STR, "hostIPs": [{"ip": STR}], "startTime": STR,
              "containerStatuses": [{"name": STR, "ready": BOOL, "restartCount": INT,
                                     "image": STR, "imageID": STR, "containerID": STR,
                                     "started": BOOL, "state": OBJ, "lastState": OBJ}],
              "initContainerStatuses": [OBJ], "message": STR, "reason": STR, "qosClass": STR}
TEMPLATE = {"metadata": META, "spec": POD_SPEC}
WORKLOAD_SPEC = {"replicas": INT, "selector": SELECTOR, "template": TEMPLATE,
                 "strategy": {"type": STR, "rollingUpdate": {"maxSurge": INTSTR,
                                                             "maxUnavailable": INTSTR}},
                 "minReadySeconds": INT, "revisionHistoryLimit": INT, "paused": BOOL,
                 "progressDeadlineSeconds": INT}
WORKLOAD_STATUS = {"replicas": INT, "readyReplicas": INT, "availableReplicas": INT,
                   "updatedReplicas": INT, "unavailableReplicas": INT,
                   "fullyLabeledReplicas": INT, "observedGeneration": INT,
                   "conditions": [CONDITION], "collisionCount": INT}
SERVICE_SPEC = {"selector": STR_MAP, "clusterIP": STR, "clusterIPs": [STR], "type": STR,
                "externalIPs": [STR], "sessionAffinity": STR,
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": INT}},
                "ports": [{"name": STR, "protocol": STR, "appProtocol": STR, "port": INT,
                           "targetPort": INTSTR, "nodePort": INT}],
                "loadBalancerIP": STR, "loadBalancerSourceRanges": [STR], "externalName": STR,
                "externalTrafficPolicy": STR, "internalTrafficPolicy": STR,
                "healthCheckNodePort": INT, "publishNotReadyAddresses": BOOL,
                "ipFamilies": [STR], "ipFamilyPolicy": STR,
                "allocateLoadBalancerNodePorts": BOOL, "loadBalancerClass": STR,
                "trafficDistribution": STR}
SERVICE_STATUS = {"loadBalancer": {"ingress": [{"ip": STR, "hostname": STR, "ipMode": STR,
                                                "ports": [OBJ]}]}, "conditions": [OBJ]}
POLICY_PEER = {"podSelector": SELECTOR, "namespaceSelector": SELECTOR,
               "ipBlock": {"cidr": STR, "except": [STR]}}
POLICY_PORT = {"port": INTSTR, "endPort": INT, "protocol": STR}
POLICY_SPEC = {"podSelector": SELECTOR, "policyTypes": [STR],
               "ingress": [{"from": [POLICY_PEER], "ports": [POLICY_PORT]}],
               "egress": [{"to": [POLICY_PEER], "ports": [POLICY_PORT]}]}
ENDPOINT_ADDRESS = {"ip": STR, "hostname": STR, "nodeName": STR, "targetRef": REF}
ENDPOINT_PORT = {"name": STR, "port": INT, "protocol": STR, "appProtocol": STR}
NODE_SPEC = {"podCIDR": STR, "podCIDRs": [STR], "unschedulable": BOOL, "providerID": STR,
             "taints": [{"key": STR, "value": STR, "effect": STR, "timeAdded": STR}]}

SCHEMAS: dict[str, dict] = {
    "Pod": {"spec": POD_SPEC, "status": POD_STATUS},
    "Deployment": {"spec": WORKLOAD_SPEC, "status": WORKLOAD_STATUS},
    "ReplicaSet": {"spec": WORKLOAD_SPEC, "status": WORKLOAD_STATUS},
    "Service": {"spec": SERVICE_SPEC, "status": SERVICE_STATUS},
    "NetworkPolicy": {"spec": POLICY_SPEC},
    "Namespace": {"spec": {"finalizers": [STR]}, "status": {"phase": STR}},
    "Node": {"spec": NODE_SPEC, "status": OBJ},
    "Endpoints": {"subsets": [{"addresses": [ENDPOINT_ADDRESS],
                               "notReadyAddresses": [ENDPOINT_ADDRESS],
                               "ports": [ENDPOINT_PORT]}]},
    "EndpointSlice": {"addressType": STR, "ports": [ENDPOINT_PORT], "endpoints": [{
        "addresses": [STR], "hostname": STR, "nodeName": STR, "zone": STR, "targetRef": REF,
        "conditions": {"ready": BOOL, "serving": BOOL, "terminating": BOOL}, "hints": OBJ}]},
    "Event": {"involvedObject": REF, "reason": STR, "message": STR, "type": STR, "count": INT,
              "source": {"component": STR, "host": STR}, "firstTimestamp": STR,
              "lastTimestamp": STR, "reportingComponent": STR, "reportingInstance": STR,
              "action": STR, "note": STR},
}
GO_TYPES = {STR: "string", INT: "int32", BOOL: "bool", NUM: "float64", INTSTR: "IntOrString",
            OBJ: "object"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fits(value: Any, expected: str) -> bool:
    if expected == STR:
        return isinstance(value, str)
    if expected == INT:
        return isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63
    if expected == BOOL:
        return isinstance(value, bool)
    if expected == NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == INTSTR:
        return isinstance(value, str) or _fits(value, INT)
    if expected == OBJ:
        return isinstance(value, dict)
    return True


def _want(schema: Any) -> str:
    if isinstance(schema, list):
        return f"[]{_want(schema[0])}"
    if isinstance(schema, Map):
        return f"map[string]{_want(schema.value)}"
    if isinstance(schema, dict):
        return "struct"
    return GO_TYPES.get(schema, "value")


def first_type_error(value: Any, schema: Any, path: str = "") -> tuple[str, str, str] | None:
    """``(path, found, wanted)`` of the first value of the wrong type, or None."""
    if schema is ANY or value is None:
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return path, _json_type(value), _want(schema)
        for i, item in enumerate(value):
            found = first_type_error(item, schema[0], f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(schema, Map):
        if not isinstance(value, dict):
            return path, _json_type(value), _want(schema)
        for key, item in value.items():
            found = first_type_error(item, schema.value, f"{path}[{key}]")
            if found:
                return found
        return None
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return path, _json_type(value), _want(schema)
        for key, sub in schema.items():
            if key in value:
                found = first_type_error(value[key], sub, f"{path}.{key}" if path else key)
                if found:
                    return found
        return None
    if not _fits(value, schema):
        return path, _json_type(value), _want(schema)
    return None


def check_types(obj: Any, kind: str, version: str, schema: dict | None = None) -> None:
    """Raise 400 BadRequest as the real decoder does when ``obj`` has a value of a wrong type."""
    schema = {"apiVersion": STR, "kind": STR, "metadata": META,
              **(SCHEMAS.get(kind, {}) if schema is None else schema)}
    if not isinstance(obj, dict):
        raise status.bad_request("reliability.cannot_decode", kind=kind, version=version,
                                 path="", found=_json_type(obj), wanted="struct")
    found = first_type_error(obj, schema)
    if found:
        path, got, wanted = found
        raise status.bad_request("reliability.cannot_decode", kind=kind, version=version,
                                 path=path, found=got, wanted=wanted)


def fill_null_items(obj: Any, kind: str) -> None:
    """Null items of lists of structs become empty structs, as Go decodes them (a ``ports:
    [null]`` entry of a NetworkPolicy is a port with every field unset: all TCP ports)."""
    def walk(value: Any, schema: Any) -> None:
        if isinstance(schema, list) and isinstance(value, list):
            for i, item in enumerate(value):
                if item is None and isinstance(schema[0], dict):
                    value[i] = {}
                else:
                    walk(item, schema[0])
        elif isinstance(schema, Map) and isinstance(value, dict):
            for item in value.values():
                walk(item, schema.value)
        elif isinstance(schema, dict) and isinstance(value, dict):
            for key, sub in schema.items():
                if key in value:
                    walk(value[key], sub)
    walk(obj, {"metadata": META, **SCHEMAS.get(kind, {})})
