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

from ..kubeproxy.model import ProxyInput
from ..kubeproxy.nftables import (
    CLUSTER_IPS,
    NO_ENDPOINT_SERVICES,
    SERVICE_IPS,
    NftChain,
    NftRuleset,
    NftSet,
)

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

