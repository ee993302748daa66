"""What the server fills in on create, as a real API server's defaulting does.

Clients send ``creationTimestamp: null`` and leave out most defaults; ``kubectl describe`` and
the lab's controllers expect them filled (restartPolicy, clusterIP, strategy...). Kept apart
from the HTTP layer so controllers creating pods get the very same defaults.
"""
from __future__ import annotations

import ipaddress
import os
import random
import time
import uuid

from . import defaulting

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


_UIDS = random.Random(os.urandom(32))


def new_uid() -> str:
    """A random (version 4) UUID, as the API server's. Not from ``uuid4()``: its ``os.urandom``
    call gives up the interpreter lock, and getting it back behind the store's writer thread
    made a uid cost 0.1 ms instead of 2 µs, with two uids for each pod created (pod, Event)."""
    return str(uuid.UUID(int=_UIDS.getrandbits(128), version=4))


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


def pod_spec_defaults(spec: dict) -> None:
    """The decode-time defaults of a pod spec (an update's; see ``defaulting``)."""
    defaulting.pod({"spec": spec}, create=False)


def workload_defaults(obj: dict, deployment: bool) -> None:
    (defaulting.deployment if deployment else defaulting.replicaset)(obj)
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
    defaulting.service(svc)
    spec = svc["spec"]
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = addresses.allocate()
        elif spec["clusterIP"] != "None":
            addresses.used.add(spec["clusterIP"])
        spec["clusterIPs"] = [spec["clusterIP"]]
    for port in spec.get("ports") or []:
        if spec["type"] in ("NodePort", "LoadBalancer"):
            if port.get("nodePort"):
                addresses.node_ports.add(port["nodePort"])
            else:
                port["nodePort"] = addresses.node_port()
    svc["status"] = {"loadBalancer": {}}


def namespace_defaults(ns: dict) -> None:
    ns.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    ns["status"] = {"phase": "Active"}
    defaulting.namespace(ns)
