"""What the server fills in on create, as a real API server's defaulting does.

Clients send ``creationTimestamp: null`` and leave out most defaults; ``kubectl describe`` and
the lab's controllers expect them filled (restartPolicy, clusterIP, strategy...). Kept apart
from the HTTP layer so controllers creating pods get the very same defaults.
"""
from __future__ import annotations

import ipaddress
import random
import time
import uuid

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_uid() -> str:
    return str(uuid.uuid4())


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(SAFE_ALPHABET) for _ in range(length))


def safe_encode(value: int, length: int = 10) -> str:
    """A stable short string for a hash, in the name-suffix alphabet (pod-template-hash)."""
    out = []
    for _ in range(length):
        value, digit = divmod(value, len(SAFE_ALPHABET))
        out.append(SAFE_ALPHABET[digit])
    return "".join(out)


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def init_metadata(obj: dict, namespace: str | None) -> dict:
    meta = obj.setdefault("metadata", {})
    for key in ("uid", "resourceVersion", "deletionTimestamp", "selfLink", "managedFields"):
        meta.pop(key, None)
    if namespace is not None:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    meta["uid"] = new_uid()
    meta["creationTimestamp"] = now()
    for key in ("labels", "annotations"):
        if meta.get(key) is None:
            meta.pop(key, None)
    return meta


def _container_defaults(container: dict) -> None:
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = container.get("image", "")
    latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def pod_spec_defaults(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for container in spec.get("containers") or []:
        _container_defaults(container)
    spec.setdefault("tolerations", [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}])


def pod_defaults(pod: dict) -> None:
    pod_spec_defaults(pod.setdefault("spec", {}))
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def workload_defaults(obj: dict, deployment: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if deployment:
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    pod_spec_defaults(template.setdefault("spec", {}))
    obj["status"] = {}


class ServiceAddresses:
    """ClusterIPs from the service CIDR (``.1`` is the ``kubernetes`` service, ``.10`` DNS)."""

    RESERVED = (1, 10)

    def __init__(self, cidr: str = "10.96.0.0/16") -> None:
        self.network = ipaddress.ip_network(cidr)
        self.used: set[str] = set()
        self.node_ports: set[int] = set()

    def address(self, index: int) -> str:
        return str(self.network.network_address + index)

    def allocate(self) -> str:
        for _ in range(1000):
            index = random.randint(11, self.network.num_addresses - 2)
            candidate = self.address(index)
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        for host in self.network.hosts():
            if str(host) not in self.used and int(host) - int(self.network.network_address) > 10:
                self.used.add(str(host))
                return str(host)
        raise RuntimeError(f"service CIDR {self.network} is full")

    def node_port(self) -> int:
        free = [p for p in range(30000, 32768) if p not in self.node_ports]
        port = random.choice(free)
        self.node_ports.add(port)
        return port

    def release(self, svc: dict) -> None:
        spec = svc.get("spec") or {}
        self.used.discard(spec.get("clusterIP"))
        for port in spec.get("ports") or []:
            self.node_ports.discard(port.get("nodePort"))


def service_defaults(svc: dict, addresses: ServiceAddresses) -> None:
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = addresses.allocate()
        elif spec["clusterIP"] != "None":
            addresses.used.add(spec["clusterIP"])
        spec["clusterIPs"] = [spec["clusterIP"]]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
        if spec["type"] in ("NodePort", "LoadBalancer"):
            if port.get("nodePort"):
                addresses.node_ports.add(port["nodePort"])
            else:
                port["nodePort"] = addresses.node_port()
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    svc["status"] = {"loadBalancer": {}}


def namespace_defaults(ns: dict) -> None:
    ns.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    ns["status"] = {"phase": "Active"}
    labels = ns["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = ns["metadata"]["name"]


def apply_defaults(kind: str, obj: dict, addresses: ServiceAddresses) -> None:
    if kind == "Pod":
        pod_defaults(obj)
    elif kind in ("Deployment", "ReplicaSet"):
        workload_defaults(obj, kind == "Deployment")
    elif kind == "Service":
        service_defaults(obj, addresses)
    elif kind == "Namespace":
        namespace_defaults(obj)
    elif kind == "NetworkPolicy":
        spec = obj.setdefault("spec", {})
        if "policyTypes" not in spec:
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if "egress" in spec else [])
