"""Known fields of the kinds the lab serves, for ``fieldValidation=Strict`` (kubectl's default).

kubectl 1.32 validates on the server: it sends ``fieldValidation=Strict`` and expects a typo such
as ``contianers`` to be refused with ``strict decoding error: unknown field "spec.contianers"``.
The schema is data: a dict of known field names, ``ANY`` where the lab accepts any content (maps,
and sub-objects the lab does not interpret), and ``[schema]`` for lists of objects.
"""
from __future__ import annotations

from typing import Any

ANY = None

META = {k: ANY for k in (
    "name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "ownerReferences", "finalizers", "managedFields", "selfLink")}

CONTAINER_PORT = {k: ANY for k in ("name", "hostPort", "containerPort", "protocol", "hostIP")}
CONTAINER = {**{k: ANY for k in (
    "name", "image", "command", "args", "workingDir", "envFrom", "env", "resources", "resizePolicy",
    "restartPolicy", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe",
    "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy",
    "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty")},
    "ports": [CONTAINER_PORT]}
POD_SPEC = {**{k: ANY for k in (
    "volumes", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount",
    "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC",
    "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain",
    "affinity", "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority",
    "dnsConfig", "readinessGates", "runtimeClassName", "enableServiceLinks", "preemptionPolicy",
    "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os", "hostUsers",
    "schedulingGates", "resourceClaims", "resources")},
    "containers": [CONTAINER], "initContainers": [CONTAINER]}
TEMPLATE = {"metadata": META, "spec": POD_SPEC}
WORKLOAD_SPEC = {**{k: ANY for k in ("replicas", "selector", "strategy", "minReadySeconds",
                                      "revisionHistoryLimit", "paused", "progressDeadlineSeconds")},
                 "template": TEMPLATE}
SERVICE_PORT = {k: ANY for k in ("name", "protocol", "appProtocol", "port", "targetPort", "nodePort")}
SERVICE_SPEC = {**{k: ANY for k in (
    "selector", "clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity",
    "loadBalancerIP", "loadBalancerSourceRanges", "externalName", "externalTrafficPolicy",
    "healthCheckNodePort", "publishNotReadyAddresses", "sessionAffinityConfig", "ipFamilies",
    "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
    "internalTrafficPolicy", "trafficDistribution")},
    "ports": [SERVICE_PORT]}
POLICY_PEER = {k: ANY for k in ("podSelector", "namespaceSelector", "ipBlock")}
POLICY_PORT = {k: ANY for k in ("port", "endPort", "protocol")}
POLICY_SPEC = {"podSelector": ANY, "policyTypes": ANY,
               "ingress": [{"from": [POLICY_PEER], "ports": [POLICY_PORT]}],
               "egress": [{"to": [POLICY_PEER], "ports": [POLICY_PORT]}]}


def _top(spec: Any, **extra: Any) -> dict:
    return {"apiVersion": ANY, "kind": ANY, "metadata": META, "spec": spec, "status": ANY, **extra}


SCHEMAS: dict[str, dict] = {
    "Pod": _top(POD_SPEC),
    "Deployment": _top(WORKLOAD_SPEC),
    "ReplicaSet": _top(WORKLOAD_SPEC),
    "Service": _top(SERVICE_SPEC),
    "NetworkPolicy": _top(POLICY_SPEC),
    "Namespace": _top(ANY),
}


def unknown_fields(obj: Any, kind: str) -> list[str]:
    """Paths of the fields ``obj`` has that ``kind`` does not (``spec.containers[0].bogus``)."""
    schema = SCHEMAS.get(kind)
    if schema is None or not isinstance(obj, dict):
        return []
    found: list[str] = []
    _walk(obj, schema, "", found)
    return found


def _walk(value: Any, schema: Any, path: str, found: list[str]) -> None:
    if schema is ANY or value is None:
        return
    if isinstance(schema, list):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _walk(item, schema[0], f"{path}[{i}]", found)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if isinstance(key, str) and key.startswith("$"):   # strategic merge patch directives
            continue
        where = f"{path}.{key}" if path else key
        if key not in schema:
            found.append(where)
        else:
            _walk(item, schema[key], where, found)
