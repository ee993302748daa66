"""What kube-proxy knows about services, endpoints and its own node: the generator's input.

These records mirror kube-proxy's own ``ServicePort`` and ``Endpoint`` interfaces
(pkg/proxy/types.go, endpoint.go) so the rule generators can follow ``syncProxyRules()`` line by
line. They are produced from Kubernetes objects by :mod:`labkit.kubeproxy.manifests` (YAML files,
or the lab API server's objects) and are plain frozen dataclasses, so a test can build them by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    """One backend of a service port, as the EndpointSlice cache hands it to kube-proxy."""

    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str | None = None
    is_local: bool = False

    def __str__(self) -> str:  # net.JoinHostPort: the string kube-proxy hashes and sorts on
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePort:
    """One port of one Service: kube-proxy programs each port separately."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # "TCP", "UDP" or "SCTP", as in the API
    cluster_ip: str
    port: int
    node_port: int = 0
    type: str = "ClusterIP"
    external_ips: tuple[str, ...] = ()
    load_balancer_ips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    health_check_node_port: int = 0
    session_affinity_timeout: int | None = None  # seconds when sessionAffinity is ClientIP

    @property
    def key(self) -> tuple[str, str, str, str]:
        """``ServicePortName``: endpoints attach to it by namespace, service, port name and protocol."""
        return (self.namespace, self.name, self.port_name, self.protocol)

    @property
    def name_string(self) -> str:
        """``ServicePortName.String()``: ``ns/name:port``, without the colon for an unnamed port."""
        base = f"{self.namespace}/{self.name}"
        return f"{base}:{self.port_name}" if self.port_name else base

    @property
    def proto(self) -> str:
        return self.protocol.lower()

    @property
    def externally_accessible(self) -> bool:
        return bool(self.node_port or self.external_ips or self.load_balancer_ips)

    @property
    def external_policy_local(self) -> bool:
        return self.externally_accessible and self.external_traffic_policy == "Local"

    @property
    def internal_policy_local(self) -> bool:
        return self.internal_traffic_policy == "Local"

    @property
    def uses_cluster_endpoints(self) -> bool:
        # Even with eTP=Local, external traffic needs Cluster endpoints to short-circuit pod and
        # host traffic (upstream BaseServicePortInfo.UsesClusterEndpoints).
        return not self.internal_policy_local or self.externally_accessible

    @property
    def uses_local_endpoints(self) -> bool:
        return self.internal_policy_local or self.external_policy_local

    @property
    def affinity(self) -> bool:
        return self.session_affinity_timeout is not None


@dataclass(frozen=True)
class NodeContext:
    """Per-node settings kube-proxy runs with (its flags and what it detects on the node).

    Defaults are those of a real node (kind); the upstream unit tests use a fake proxier with
    a few differences (mark ``0x4000``, nfacct counters present, no ``--random-fully``), which
    :meth:`upstream_test` reproduces.
    """

    node_name: str = ""
    node_ips: tuple[str, ...] = ()
    cluster_cidr: str | None = None  # pod CIDR for the "by CIDR" local-traffic detector
    service_cidrs: tuple[str, ...] = ()
    masquerade_bit: int = 14
    masquerade_mark: str | None = None  # override the "%#08x" text (the tests use "0x4000")
    masquerade_all: bool = False
    localhost_node_ports: bool = True
    nfacct: bool = False  # nfacct counters available (xt_nfacct)
    random_fully: bool = True  # iptables supports MASQUERADE --random-fully
    conntrack_tcp_be_liberal: bool = False
    large_cluster_threshold: int = 1000
    # nftables: pick an endpoint with upstream's one ``numgen random mod N vmap { ... }`` rule
    # (an anonymous map per service chain), or with the lab's ``numgen random mod N-i 0 goto``
    # cascade (no map; see ``nftables._Service.write_dispatch`` for why the lab departs).
    endpoint_vmap: bool = False

    @property
    def mark(self) -> str:
        if self.masquerade_mark:
            return self.masquerade_mark
        return "0x%08x" % (1 << self.masquerade_bit)  # Go's "%#08x" pads 8 digits after 0x

    @property
    def primary_node_ip(self) -> str | None:
        return self.node_ips[0] if self.node_ips else None

    @classmethod
    def upstream_test(cls, **overrides: object) -> NodeContext:
        """The settings of upstream's ``NewFakeProxier`` (NOTES.md §2.8, §3.6)."""
        values: dict[str, object] = dict(
            node_name="test-node", node_ips=("192.168.0.2",), cluster_cidr="10.0.0.0/8",
            service_cidrs=("172.30.0.0/16",), masquerade_mark="0x4000", nfacct=True,
            random_fully=False, endpoint_vmap=True,
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


@dataclass
class ProxyInput:
    """Everything one sync needs: service ports and their endpoints, keyed by ``ServicePort.key``."""

    services: list[ServicePort] = field(default_factory=list)
    endpoints: dict[tuple[str, str, str, str], list[Endpoint]] = field(default_factory=dict)

    def endpoints_for(self, svc: ServicePort) -> list[Endpoint]:
        return self.endpoints.get(svc.key, [])

    def total_endpoints(self) -> int:
        return sum(len(eps) for eps in self.endpoints.values())

    def sorted_services(self) -> list[ServicePort]:
        """A stable order, so that two syncs of the same input write the same bytes."""
        return sorted(self.services, key=lambda s: (s.name_string, s.proto))


@dataclass(frozen=True)
class Categorized:
    cluster: list[Endpoint]
    local: list[Endpoint]
    reachable: list[Endpoint]
    has_any: bool


def _sorted(endpoints: list[Endpoint]) -> list[Endpoint]:
    # kube-proxy sorts by the endpoint string (byEndpoint): "10.0.0.10:80" < "10.0.0.2:80".
    return sorted(endpoints, key=str)


def categorize_endpoints(endpoints: list[Endpoint], svc: ServicePort) -> Categorized:
    """``proxy.CategorizeEndpoints`` without topology hints: who serves cluster and local traffic.

    Ready endpoints first; when none is ready, endpoints that are still serving while
    terminating take over, so connections are not dropped during a rollout.
    """
    endpoints = _sorted(endpoints)
    cluster: list[Endpoint] = []
    has_any = False
    if svc.uses_cluster_endpoints:
        cluster = [ep for ep in endpoints if ep.ready]
        if not cluster:
            cluster = [ep for ep in endpoints if ep.serving and ep.terminating]
        has_any = bool(cluster)
    if not svc.uses_local_endpoints:
        return Categorized(cluster, [], cluster, has_any)

    usable = [ep for ep in endpoints if ep.ready or (ep.serving and ep.terminating)]
    has_any = has_any or bool(usable)
    local = [ep for ep in endpoints if ep.is_local and ep.ready]
    fallback = not local
    if fallback:
        local = [ep for ep in endpoints if ep.is_local and ep.serving and ep.terminating]
    if not svc.uses_cluster_endpoints:
        return Categorized([], local, local, has_any)
    if not fallback or not local:
        return Categorized(cluster, local, cluster, has_any)
    merged = {str(ep): ep for ep in cluster + local}
    return Categorized(cluster, local, _sorted(list(merged.values())), has_any)

