"""A pure description of an embedded lab: names, addresses and CNI flavor, before anything exists.

Like Mininet's ``Topo``, a ``LabSpec`` says what the lab is; ``dataplane`` builds it. Everything
here is computed from the spec alone (no root, no kernel), so the addressing plan, the names and
their limits are tested without touching the machine. Defaults mirror a kind cluster so that what
learners see here matches what they will see on kind: nodes ``<name>-control-plane``,
``<name>-worker``, ``<name>-worker2`` on 172.18.0.0/16, a /24 pod CIDR per node from
10.244.0.0/16, services from 10.96.0.0/16.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import BadInput

CNI_FLAVORS = ("kindnet", "bridge", "flannel", "calico")
PROXY_MODES = ("iptables", "nftables", "ebpf")   # ebpf: socket LB instead of kube-proxy
MAX_NAME = 10          # "<name>-host" must fit the kernel's 15-character interface names
MAX_NODES = 16
IFNAMSIZ = 15
NAME_RE = re.compile(r"^[a-z][a-z0-9]*$")

DEFAULT_NAME = "kubenet"
DEFAULT_NODE_CIDR = "172.18.0.0/16"
DEFAULT_POD_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/16"
NODE_POD_PREFIX = 24
MAX_PODS = 250          # labkit.apiserver.limits.MAX_PODS (the topology may not import the API; a test keeps them equal)
MAX_PODS_LIMIT = 2000   # labkit.apiserver.limits.MAX_PODS_LIMIT
FLANNEL_MTU = 1450
FLANNEL_VNI = 1
FLANNEL_PORT = 8472
POD_NETNS_MAX = 200   # netns names are file names; keep well under NAME_MAX


@dataclass(frozen=True)
class NodePlan:
    """One node as the lab will build it."""

    name: str            # Kubernetes node name, also the node's netns name (kind style)
    role: str            # "control-plane" or "worker"
    ip: str              # address on the node network
    pod_cidr: str        # this node's slice of the pod CIDR (a /24 unless the lab asks otherwise)
    bridge_port: str     # the node's port on the node-network bridge (inside the lab's net namespace)
    vtep_mac: str        # flannel.1 MAC (flannel flavor), deterministic so routes/FDB can be planned

    @property
    def netns(self) -> str:
        return self.name

    @property
    def pod_gateway(self) -> str:
        """The first address of the pod CIDR: ptp's and cni0's gateway (``10.244.N.1``)."""
        return str(ipaddress.ip_network(self.pod_cidr)[1])

    @property
    def flannel_address(self) -> str:
        """flannel.1 carries the network address of the node's subnet as a /32 (``10.244.N.0``)."""
        return str(ipaddress.ip_network(self.pod_cidr).network_address)


@dataclass(frozen=True)
class LabSpec:
    """What a lab is. Validated on creation: an invalid spec cannot exist."""

    name: str = DEFAULT_NAME
    nodes: int = 3
    cni: str = "kindnet"
    node_cidr: str = DEFAULT_NODE_CIDR
    pod_cidr: str = DEFAULT_POD_CIDR
    service_cidr: str = DEFAULT_SERVICE_CIDR
    host_routes: bool = True
    proxy_mode: str = "iptables"
    # False: no NetworkPolicy enforcer runs (as on a cluster whose CNI implements no policies):
    # the API still stores policies, nothing applies them.
    policy_controller: bool = True
    # How many pods the API accepts (the default keeps a laptop lab safe; a bench lab asks for
    # 1,000) and the prefix of each node's slice of the pod CIDR (kind's /24 by default; a /22
    # holds 1,000 pods on one node).
    max_pods: int = MAX_PODS
    node_pod_prefix: int = NODE_POD_PREFIX
    node_names: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.nodes, bool) or not isinstance(self.nodes, int) or not 1 <= self.nodes <= MAX_NODES:
            raise BadInput("lab.bad_node_count", count=self.nodes, max=MAX_NODES)
        if self.cni not in CNI_FLAVORS:
            raise BadInput("lab.bad_cni", cni=self.cni, choices=", ".join(CNI_FLAVORS))
        if self.proxy_mode not in PROXY_MODES:
            raise BadInput("lab.bad_proxy_mode", mode=self.proxy_mode, choices=", ".join(PROXY_MODES))
        for key, value, low, high in (("max_pods", self.max_pods, 1, MAX_PODS_LIMIT),
                                      ("node_pod_prefix", self.node_pod_prefix, 16, 28)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise BadInput("lab.bad_bound", what=key, value=value, low=low, high=high)
        node_net = _network("node network CIDR", self.node_cidr)
        pod_net = _network("pod CIDR", self.pod_cidr)
        svc_net = _network("service CIDR", self.service_cidr)
        if node_net.num_addresses < self.nodes + 4:
            raise BadInput("lab.cidr_too_small", what="node network", cidr=self.node_cidr,
                           count=self.nodes, mask=32)
        prefix = self.node_pod_prefix
        if pod_net.prefixlen > prefix or 2 ** (prefix - pod_net.prefixlen) < self.nodes:
            raise BadInput("lab.cidr_too_small", what="pod CIDR", cidr=self.pod_cidr,
                           count=self.nodes, mask=prefix)
        nets = [node_net, pod_net, svc_net]
        for i, a in enumerate(nets):
            for b in nets[i + 1:]:
                if a.overlaps(b):
                    raise BadInput("lab.cidrs_overlap_each_other", a=str(a), b=str(b))

    # --- derived names -------------------------------------------------------------------------
    @property
    def net_netns(self) -> str:
        """The namespace holding the node-network bridge (kind's docker network stand-in)."""
        return f"{self.name}-net"

    @property
    def host_link(self) -> str:
        """The host side of the veth that joins this machine to the node network."""
        return f"{self.name}-host"

    @property
    def gateway_ip(self) -> str:
        """The host's address on the node network, as docker's bridge gateway (``172.18.0.1``)."""
        return str(ipaddress.ip_network(self.node_cidr)[1])

    @property
    def dns_ip(self) -> str:
        """The ``kube-dns`` Service address (10.96.0.10 with kind's service CIDR)."""
        return str(ipaddress.ip_network(self.service_cidr)[10])

    @property
    def node_prefixlen(self) -> int:
        return ipaddress.ip_network(self.node_cidr).prefixlen

    def summary(self) -> dict[str, object]:
        """What an ordinary user may know of the lab's shape (``GET /labkit/v1/lab``; the state files
        are root's): CNI, ranges, proxy mode, host routes, nodes."""
        return {"cni": self.cni, "podCIDR": self.pod_cidr, "nodeCIDR": self.node_cidr,
                "serviceCIDR": self.service_cidr, "policyController": self.policy_controller,
                "proxyMode": self.proxy_mode, "hostRoutes": self.host_routes, "gatewayIP": self.gateway_ip,
                "nodes": [{"name": n.name, "role": n.role, "ip": n.ip} for n in self.node_plans()]}

    def node_plans(self) -> list[NodePlan]:
        """Nodes in kind's order: the control plane first, then ``worker``, ``worker2``..."""
        node_net = ipaddress.ip_network(self.node_cidr)
        pod_subnets = ipaddress.ip_network(self.pod_cidr).subnets(new_prefix=self.node_pod_prefix)
        plans = []
        for i in range(self.nodes):
            role = "control-plane" if i == 0 else "worker"
            suffix = "control-plane" if i == 0 else ("worker" if i == 1 else f"worker{i}")
            name = f"{self.name}-{suffix}"
            plans.append(NodePlan(
                name=name, role=role, ip=str(node_net[2 + i]), pod_cidr=str(next(pod_subnets)),
                bridge_port=suffix[:IFNAMSIZ], vtep_mac=_stable_mac(name)))
        return plans

    def node(self, name: str) -> NodePlan:
        for plan in self.node_plans():
            if plan.name == name or plan.name == f"{self.name}-{name}":
                return plan
        raise BadInput("lab.unknown_node", node=name, name=self.name,
                       nodes=", ".join(p.name for p in self.node_plans()))

    def pod_netns(self, namespace: str, pod: str) -> str:
        """The netns of a pod: ``<lab>-pod-<namespace>-<pod>``, hashed when too long for a file name."""
        base = f"{self.name}-pod-{namespace}-{pod}"
        if len(base) <= POD_NETNS_MAX:
            return base
        digest = hashlib.sha256(base.encode()).hexdigest()[:10]
        return f"{base[:POD_NETNS_MAX - 11]}-{digest}"

    def owns_netns(self, netns: str) -> bool:
        """Whether a namespace name is one this lab creates (the sweep must not touch other labs)."""
        n = re.escape(self.name)
        return bool(re.fullmatch(rf"{n}-(net|control-plane|worker\d*|pod-.+)", netns))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("node_names")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabSpec:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "node_names"}
        return cls(**known)

    def networks(self) -> dict[str, str]:
        """The networks this lab puts on the host (when host routes are on), by flag name."""
        return {"--node-cidr": self.node_cidr, "--pod-cidr": self.pod_cidr,
                "--service-cidr": self.service_cidr}


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > MAX_NAME:
        raise BadInput("lab.bad_name", name=name, max=MAX_NAME)


def _network(what: str, value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise BadInput("lab.bad_cidr", what=what, value=value, reason=str(exc)) from exc
    if net.version != 4:
        raise BadInput("lab.bad_cidr", what=what, value=value, reason="IPv4 only")
    return net


def _stable_mac(seed: str) -> str:
    """A locally administered unicast MAC derived from a name, so plans are reproducible."""
    b = bytearray(hashlib.sha256(seed.encode()).digest()[:6])
    b[0] = (b[0] & 0xFC) | 0x02
    return ":".join(f"{x:02x}" for x in b)


# --- conflicts with the host's own networks (pure: the host's networks are passed in) ----------
@dataclass(frozen=True)
class HostNetwork:
    cidr: str
    where: str    # e.g. "route on eth0", "address of docker0"


def conflicts(spec: LabSpec, host_networks: Iterable[HostNetwork]) -> list[tuple[str, str, HostNetwork]]:
    """The lab networks that overlap a network the host already uses, as (flag, cidr, host network).

    Default routes are not conflicts: every network overlaps 0.0.0.0/0.
    """
    found = []
    for flag, cidr in spec.networks().items():
        mine = ipaddress.ip_network(cidr)
        for hn in host_networks:
            other = ipaddress.ip_network(hn.cidr, strict=False)
            if other.version == 4 and other.prefixlen > 0 and mine.overlaps(other):
                found.append((flag, cidr, hn))
    return found


def check_no_conflicts(spec: LabSpec, host_networks: Iterable[HostNetwork]) -> None:
    """Refuse a lab whose networks overlap the host's; changes nothing (pure)."""
    if not spec.host_routes:
        return
    found = conflicts(spec, list(host_networks))
    if found:
        flag, cidr, hn = found[0]
        what = {"--node-cidr": "node network", "--pod-cidr": "pod CIDR",
                "--service-cidr": "service CIDR"}[flag]
        raise BadInput("lab.cidr_overlap", what=what, cidr=cidr, other=hn.cidr, where=hn.where, flag=flag)


# Candidates tried, in order, for networks the user did not choose (docker also walks 172.18, 172.19...)
NODE_CIDR_CANDIDATES = [f"172.{n}.0.0/16" for n in range(18, 32)]
POD_CIDR_CANDIDATES = [f"10.{n}.0.0/16" for n in range(244, 256)]
SERVICE_CIDR_CANDIDATES = [f"10.{n}.0.0/16" for n in range(96, 112)]


def with_free_networks(spec: LabSpec, host_networks: Iterable[HostNetwork], chosen: set[str]) -> LabSpec:
    """Move the networks the user left at their defaults to the first free candidates.

    ``chosen`` names the flags the user gave explicitly; those are never moved (a conflict on them is
    an error). This lets a second lab start beside the first without flags, as docker does for a
    second network.
    """
    if not spec.host_routes:
        return spec
    hosts = list(host_networks)
    values = spec.to_dict()
    for flag, key, candidates in (("--node-cidr", "node_cidr", NODE_CIDR_CANDIDATES),
                                  ("--pod-cidr", "pod_cidr", POD_CIDR_CANDIDATES),
                                  ("--service-cidr", "service_cidr", SERVICE_CIDR_CANDIDATES)):
        if flag in chosen:
            continue
        for candidate in [values[key]] + candidates:
            trial = LabSpec.from_dict({**values, key: candidate})
            if not any(f == flag for f, _, _ in conflicts(trial, hosts)):
                values[key] = candidate
                break
    return LabSpec.from_dict(values)
