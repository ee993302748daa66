"""``ClusterSnapshot``: one picture of a cluster, the contract between reading it and drawing it.

Diagrams, the reachability matrix and the packet-path trace take a snapshot, never a live
connection, so they are tested from fixture snapshots without root and serve kind and the
embedded lab alike. A snapshot holds the Kubernetes objects as the API returns them (plain
dicts: the policy engine and the kube-proxy generator read the same form) and, for each node,
the network state read through the node seam: interfaces, routes and the parsed kube-proxy rules.
It serializes to JSON and back, so a fixture *is* a snapshot.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .inspect.bird import BgpSession
from .inspect.iproute import Interface, Route
from .inspect.servicemap import EndpointEntry, Frontend, ServiceEntry, ServiceMap

SNAPSHOT_VERSION = 1


@dataclass
class NodeNetwork:
    """A node as the pod network sees it."""

    name: str
    internal_ip: str | None = None
    pod_cidr: str | None = None
    roles: list[str] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    kube_proxy: ServiceMap | None = None
    bgp: list[BgpSession] = field(default_factory=list)   # BIRD's sessions (calico), else empty
    bird_down: bool = False      # routes show ``proto bird`` but BIRD does not answer (killed)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "internal_ip": self.internal_ip, "pod_cidr": self.pod_cidr,
                "roles": list(self.roles),
                "interfaces": [i.to_dict() for i in self.interfaces],
                "routes": [r.to_dict() for r in self.routes],
                "kube_proxy": self.kube_proxy.to_json() if self.kube_proxy else None}
        if self.bgp:
            data["bgp"] = [s.to_dict() for s in self.bgp]
        if self.bird_down:
            data["bird_down"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeNetwork:
        return cls(name=data["name"], internal_ip=data.get("internal_ip"),
                   pod_cidr=data.get("pod_cidr"), roles=list(data.get("roles", [])),
                   interfaces=[Interface.from_dict(i) for i in data.get("interfaces", [])],
                   routes=[Route.from_dict(r) for r in data.get("routes", [])],
                   kube_proxy=service_map_from_json(data["kube_proxy"]) if data.get("kube_proxy") else None,
                   bgp=[BgpSession.from_dict(s) for s in data.get("bgp", [])],
                   bird_down=bool(data.get("bird_down")))


@dataclass
class PodNetwork:
    """A pod's own view (its ``eth0`` and routes), when it could be read."""

    key: str
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "interfaces": [i.to_dict() for i in self.interfaces],
                "routes": [r.to_dict() for r in self.routes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PodNetwork:
        return cls(key=data["key"], interfaces=[Interface.from_dict(i) for i in data.get("interfaces", [])],
                   routes=[Route.from_dict(r) for r in data.get("routes", [])])


@dataclass
class ClusterSnapshot:
    name: str
    source: str = "embedded"            # "embedded", "kind", "cluster" or "fixture"
    cni: str | None = None              # kindnet, bridge, flannel, calico, cilium, ... when known
    proxy_mode: str | None = None       # iptables, nftables, ipvs
    taken_at: str | None = None
    namespaces: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[NodeNetwork] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    endpointslices: list[dict[str, Any]] = field(default_factory=list)
    networkpolicies: list[dict[str, Any]] = field(default_factory=list)
    pod_networks: dict[str, PodNetwork] = field(default_factory=dict)
    pod_cidr: str | None = None         # the cluster's pod network (kubeadm's podSubnet), when known

    # --- lookups ------------------------------------------------------------------------------
    def node(self, name: str) -> NodeNetwork:
        for n in self.nodes:
            if n.name == name or n.name.endswith(f"-{name}"):
                return n
        raise KeyError(name)

    def pod(self, key: str) -> dict[str, Any]:
        namespace, _, name = key.rpartition("/")
        for p in self.pods:
            meta = p["metadata"]
            if meta["name"] == name and meta.get("namespace", "default") == (namespace or "default"):
                return p
        raise KeyError(key)

    def pods_on(self, node: str) -> list[dict[str, Any]]:
        return [p for p in self.pods if p.get("spec", {}).get("nodeName") == node]

    # --- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"version": SNAPSHOT_VERSION, "name": self.name, "source": self.source,
                "cni": self.cni, "proxy_mode": self.proxy_mode, "taken_at": self.taken_at,
                "namespaces": self.namespaces, "nodes": [n.to_json() for n in self.nodes],
                "pods": self.pods, "services": self.services, "endpointslices": self.endpointslices,
                "networkpolicies": self.networkpolicies,
                "pod_networks": {k: v.to_json() for k, v in self.pod_networks.items()},
                **({"pod_cidr": self.pod_cidr} if self.pod_cidr else {})}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterSnapshot:
        return cls(name=data["name"], source=data.get("source", "fixture"), cni=data.get("cni"),
                   proxy_mode=data.get("proxy_mode"), taken_at=data.get("taken_at"),
                   namespaces=list(data.get("namespaces", [])),
                   nodes=[NodeNetwork.from_json(n) for n in data.get("nodes", [])],
                   pods=list(data.get("pods", [])), services=list(data.get("services", [])),
                   endpointslices=list(data.get("endpointslices", [])),
                   networkpolicies=list(data.get("networkpolicies", [])),
                   pod_networks={k: PodNetwork.from_json(v) for k, v in data.get("pod_networks", {}).items()},
                   pod_cidr=data.get("pod_cidr"))

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.dumps() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ClusterSnapshot:
        return cls.from_json(json.loads(Path(path).read_text()))


def service_map_from_json(data: dict[str, Any]) -> ServiceMap:
    """The inverse of ``ServiceMap.to_json`` (frontends keep their chains, not their endpoints)."""
    def endpoints(items: list[dict[str, Any]]) -> list[EndpointEntry]:
        return [EndpointEntry(e["ip"], e["port"], e["share"], list(e.get("chains", []))) for e in items]

    services = []
    for s in data.get("services", []):
        eps = endpoints(s.get("endpoints", []))
        fronts = [Frontend(f["kind"], f.get("ip"), f["port"], list(f.get("chains", [])),
                           endpoints(f.get("endpoints", [])) or [EndpointEntry(e.ip, e.port, e.share,
                                                                               list(e.chains)) for e in eps])
                  for f in s.get("frontends", [])]
        services.append(ServiceEntry(s["service"], s["protocol"], s.get("cluster_ip"), s.get("port"),
                                     s.get("node_port"), list(s.get("chains", [])), eps, fronts))
    return ServiceMap(data["mode"], services)
