"""NodePorts in ``--service-proxy ebpf`` mode: kube-proxy's nftables rules, NodePorts only (pure).

The socket load balancer (``sock_lb.c``) translates ClusterIPs in ``connect()``; a packet that
arrives on a node's address for a NodePort has no socket of the node's own behind it, so something
must rewrite *packets* there. Cilium does it with programs on the node's devices (bpf/bpf_host.c,
lib/nodeport.h) when ``nodePort.enabled``; with ``kubeProxyReplacement=false``,
``socketLB.enabled=true`` and ``nodePort.enabled=false`` it leaves NodePorts to kube-proxy
("kube-proxy Hybrid Modes", Documentation/network/kubernetes/kubeproxy-free.rst). The lab takes
that split, one step further: kube-proxy's nftables rules are rendered as usual from the
externally reachable Services only (NodePort, ExternalIPs, LoadBalancer IPs), then every trace of
a ClusterIP is left out (no ``cluster-ips`` element, no ``service-ips`` or ``no-endpoint-services``
element keyed by a ClusterIP, no ``ip daddr <ClusterIP>`` rule), where a real kube-proxy beside
Cilium keeps its ClusterIP rules (unused: the socket LB translates first). So ``nft list ruleset``
shows NodePorts and no ClusterIP, and ``bpftool map dump`` shows ClusterIPs.

The ``cluster-ips`` set's comment says so; the snapshot reader finds the socket LB's maps by it
(:data:`MARK`). The drop of the service CIDR stays (``Drop traffic to unallocated ClusterIPs``):
a packet that still carries a ClusterIP (no socket LB translated it) is dropped, not routed on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..kubeproxy.model import ProxyInput
from ..kubeproxy.nftables import (
    CLUSTER_IPS,
    NO_ENDPOINT_SERVICES,
    SERVICE_IPS,
    NftChain,
    NftRuleset,
    NftSet,
)

if TYPE_CHECKING:
    from ..inspect.servicemap import ServiceMap

MARK = "none here: the BPF socket load balancer translates ClusterIPs"
_REJECT_CLUSTER_PORTS = "ip daddr @cluster-ips reject"


def external_only(inp: ProxyInput) -> ProxyInput:
    """The Services reachable from outside (NodePort, ExternalIPs, LoadBalancer IPs) and their endpoints."""
    keep = [s for s in inp.services if s.externally_accessible]
    return ProxyInput(keep, {s.key: list(inp.endpoints_for(s)) for s in keep})


def without_cluster_ips(rs: NftRuleset) -> NftRuleset:
    """A copy of ``rs`` with every element and rule that names a ClusterIP left out."""
    ips = set(rs.sets[CLUSTER_IPS].elements) if CLUSTER_IPS in rs.sets else set()
    out = NftRuleset(comment=rs.comment)
    for name, s in rs.sets.items():
        if name == CLUSTER_IPS:
            elements: list[str] = []
            comment: str | None = f"Active ClusterIPs: {MARK}"
        else:
            keyed = name in (SERVICE_IPS, NO_ENDPOINT_SERVICES)
            elements = [e for e in s.elements if not (keyed and e.split(" ", 1)[0] in ips)]
            comment = s.comment
        out.sets[name] = NftSet(s.name, s.type, s.is_map, comment, s.flags, s.timeout, elements)
    for name, c in rs.chains.items():
        rules = [(r, cm) for r, cm in c.rules
                 if r != _REJECT_CLUSTER_PORTS and not any(f"ip daddr {ip} " in r + " " for ip in ips)]
        out.chains[name] = NftChain(c.name, c.hook, c.comment, rules)
    return out



def with_node_ports(bpf: ServiceMap, nft: ServiceMap | None) -> ServiceMap:
    """One ``ebpf`` service map for a node: the socket LB's ClusterIPs (``bpf``, read from the maps)
    and kube-proxy's NodePorts, ExternalIPs and LoadBalancer IPs (``nft``, read from the NodePort-only
    table). A NodePort's frontend keeps its nftables path, its hook (``nat-prerouting``) first, as
    ``labkit.inspect.servicemap.trace`` adds it in nftables mode: the map's mode (``ebpf``) names no
    hook, and a packet to ``NodeIP:NodePort`` goes through kube-proxy's chains, not through a socket."""
    from dataclasses import replace

    from ..inspect.servicemap import Frontend, ServiceEntry, ServiceMap

    if nft is None:
        return bpf
    services = list(bpf.services)
    by_key = {(s.service, s.protocol): n for n, s in enumerate(services)}
    for entry in nft.services:
        outside = [Frontend(f.kind, f.ip, f.port, ["nat-prerouting", *f.chains], list(f.endpoints))
                   for f in entry.frontends if f.kind != "cluster_ip"]
        if not outside:
            continue
        n = by_key.get((entry.service, entry.protocol))
        if n is None:       # not (yet) in the maps: its NodePort still answers through kube-proxy
            services.append(ServiceEntry(entry.service, entry.protocol, None, None, entry.node_port,
                                         [], list(entry.endpoints), outside))
        else:
            s = services[n]
            services[n] = replace(s, node_port=entry.node_port or s.node_port, frontends=[*s.frontends, *outside])
    return ServiceMap(bpf.mode, sorted(services, key=lambda e: (e.service, e.protocol)))
