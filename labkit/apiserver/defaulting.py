"""Upstream's defaulting, so objects look as a real API server returns them.

A real API server fills defaults in three places, and every client (``kubectl describe`` first)
may dereference any of them without checking:
- the scheme's defaulting functions, run on every decode (create *and* update):
  kubernetes ``pkg/apis/core/v1/defaults.go`` (SetDefaults_Pod, _PodSpec, _Container, _Probe,
  _Service, _Volume, _HTTPGetAction, _Endpoints...), ``pkg/apis/apps/v1/defaults.go``
  (SetDefaults_Deployment, _ReplicaSet), ``pkg/apis/networking/v1/defaults.go``
  (SetDefaults_NetworkPolicyPort, policyTypes), ``pkg/apis/discovery/v1/defaults.go``
  (SetDefaults_EndpointPort: ``name: ""``, protocol TCP), and the declarative ``+default=``
  markers of ``k8s.io/api`` (container and service port protocol TCP);
- the registry strategies on create (``pkg/registry/core/pod/strategy.go`` PrepareForCreate:
  ``status.phase: Pending`` and ``status.qosClass`` from ``pkg/apis/core/v1/helper/qos``);
- admission plugins on pod create (``plugin/pkg/admission/serviceaccount``: serviceAccountName;
  ``defaulttolerationseconds``: the not-ready/unreachable tolerations for 300 s;
  ``priority``: priority 0 and preemptionPolicy).

This module is pure (dicts in, dicts changed in place). Address allocation (clusterIP, nodePort)
stays in ``objects`` because it needs the allocator's state. Lab departure: pods get no projected
``kube-api-access`` volume, because the lab has no service-account tokens to mount.
"""
from __future__ import annotations

from collections.abc import Callable

# pkg/apis/core/v1/defaults.go and k8s.io/api/core/v1/types.go constants.
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_GRACE_SECONDS = 30
DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_TOLERATION_SECONDS = 300          # plugin/pkg/admission/defaulttolerationseconds
CLIENT_IP_TIMEOUT = 10800                 # v1.DefaultClientIPServiceAffinitySeconds
VOLUME_MODE = 420                         # 0644, Secret/ConfigMap/DownwardAPI/Projected


def image_tag(image: str) -> str:
    """The tag ``parsers.ParseImageName`` finds: ``latest`` when neither tag nor digest is given."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return "" if digest else "latest"


def _probe(probe: dict | None) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def container(c: dict) -> None:
    """SetDefaults_Container, plus the declarative defaults of its nested types."""
    if not isinstance(c, dict):
        return
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = "Always" if image_tag(c.get("image") or "") == "latest" \
            else "IfNotPresent"
    c.setdefault("terminationMessagePath", TERMINATION_MESSAGE_PATH)
    c.setdefault("terminationMessagePolicy", "File")
    if c.get("resources") is None:
        c["resources"] = {}
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(probe))
    for var in c.get("env") or []:
        ref = ((var or {}).get("valueFrom") or {}).get("fieldRef")
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")        # SetDefaults_ObjectFieldSelector


def _volume(volume: dict) -> None:
    if not isinstance(volume, dict):
        return
    if not any(key != "name" for key in volume):
        volume["emptyDir"] = {}                         # SetDefaults_Volume
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", VOLUME_MODE)
    if isinstance(volume.get("hostPath"), dict):
        volume["hostPath"].setdefault("type", "")


def pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and its containers: what a pod *template* gets as well."""
    if not isinstance(spec, dict):
        return
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    spec.setdefault("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    spec.setdefault("schedulerName", DEFAULT_SCHEDULER)
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            container(c)
    for volume in spec.get("volumes") or []:
        _volume(volume)


def _requests_from_limits(spec: dict) -> None:
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            resources = (c or {}).get("resources") or {}
            limits = resources.get("limits")
            if limits:
                requests = resources.setdefault("requests", {})
                for name, value in limits.items():
                    requests.setdefault(name, value)


def _tolerations(spec: dict) -> None:
    """plugin/pkg/admission/defaulttolerationseconds: unless the pod tolerates them already."""
    tolerations = spec.get("tolerations") or []
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if any(t.get("key") == key and t.get("effect") in ("NoExecute", None, "")
               or (not t.get("key") and t.get("operator") == "Exists")
               for t in tolerations if isinstance(t, dict)):
            continue
        tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                            "tolerationSeconds": DEFAULT_TOLERATION_SECONDS})
    spec["tolerations"] = tolerations


def qos_class(spec: dict) -> str:
    """pkg/apis/core/v1/helper/qos.GetPodQOS over the regular and init containers."""
    requests: dict[str, bool] = {}
    limits_cover = True
    any_resource = False
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            resources = (c or {}).get("resources") or {}
            req = {k: v for k, v in (resources.get("requests") or {}).items()
                   if k in ("cpu", "memory")}
            lim = {k: v for k, v in (resources.get("limits") or {}).items()
                   if k in ("cpu", "memory")}
            if req or lim:
                any_resource = True
            if set(lim) != {"cpu", "memory"} or any(str(req.get(k, lim[k])) != str(lim[k])
                                                    for k in lim):
                limits_cover = False
            requests.update({k: True for k in req})
    if not any_resource:
        return "BestEffort"
    return "Guaranteed" if limits_cover else "Burstable"


def pod(obj: dict, create: bool = True) -> None:
    """SetDefaults_Pod (+ PodSpec); on create also the strategy's status and the admission
    plugins' fields."""
    spec = obj.setdefault("spec", {})
    _requests_from_limits(spec)
    pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    if spec.get("hostNetwork"):
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                for port in c.get("ports") or []:
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
    if not create:
        return
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = name
    _tolerations(spec)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


def pod_template(template: dict) -> None:
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    pod_spec(template.setdefault("spec", {}))


def deployment(obj: dict) -> None:
    """pkg/apis/apps/v1/defaults.go SetDefaults_Deployment."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.get("rollingUpdate") or {}
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
        strategy["rollingUpdate"] = rolling
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    pod_template(spec.setdefault("template", {}))


def replicaset(obj: dict) -> None:
    """SetDefaults_ReplicaSet: replicas only (a ReplicaSet has no revisionHistoryLimit)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    pod_template(spec.setdefault("template", {}))


def service(obj: dict) -> None:
    """SetDefaults_Service, and the IP family fields the registry's allocator fills in
    (``pkg/registry/core/service/storage/alloc.go``) for a single-stack IPv4 cluster."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig") or {}
        client_ip = config.get("clientIP") or {}
        client_ip.setdefault("timeoutSeconds", CLIENT_IP_TIMEOUT)
        spec["sessionAffinityConfig"] = dict(config, clientIP=client_ip)
    spec.setdefault("type", "ClusterIP")
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    svc_type = spec["type"]
    if svc_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if svc_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if svc_type == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if svc_type != "ExternalName":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")


def endpoint_slice(obj: dict) -> None:
    """discovery/v1 SetDefaults_EndpointPort: ``kubectl describe svc`` dereferences ``name``."""
    for port in obj.get("ports") or []:
        if isinstance(port, dict):
            if port.get("name") is None:
                port["name"] = ""
            port.setdefault("protocol", "TCP")


def endpoints(obj: dict) -> None:
    for subset in obj.get("subsets") or []:
        for port in (subset or {}).get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def network_policy(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if "egress" in spec else [])
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in (rule or {}).get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def namespace(obj: dict) -> None:
    name = obj.get("metadata", {}).get("name")
    if name:
        labels = obj["metadata"].get("labels") or {}
        labels["kubernetes.io/metadata.name"] = name
        obj["metadata"]["labels"] = labels


# kind -> its defaulting steps, given (object, create)
BY_KIND: dict[str, Callable[[dict, bool], None]] = {
    "Pod": pod,
    "Deployment": lambda obj, create: deployment(obj),
    "ReplicaSet": lambda obj, create: replicaset(obj),
    "Service": lambda obj, create: service(obj),
    "EndpointSlice": lambda obj, create: endpoint_slice(obj),
    "Endpoints": lambda obj, create: endpoints(obj),
    "NetworkPolicy": lambda obj, create: network_policy(obj),
    "Namespace": lambda obj, create: namespace(obj),
}


def default(kind: str, obj: dict, create: bool = True) -> None:
    """Every defaulting step of ``kind`` (``create=False``: the decode-time ones of an update)."""
    steps = BY_KIND.get(kind)
    if steps is not None:
        steps(obj, create)
