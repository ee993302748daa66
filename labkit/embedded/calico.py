"""The Calico-like flavor (``--cni calico``), pure part: pod wiring plans, IPAM blocks, felix's NAT rule.

Read from projectcalico/calico (commit 87c15906, 2026-08):
- Pod wiring, cni-plugin/pkg/dataplane/linux/dataplane_linux.go (``DoWorkloadNetnsSetUp``,
  ``configureSysctls``, ``SetupRoutes``): a veth whose host end is named ``cali`` + 11 hex digits
  of sha1("<namespace>.<pod>") (libcalico-go/lib/backend/k8s/conversion/workload_endpoint_default.go
  ``VethNameForWorkload``) and carries the MAC ``ee:ee:ee:ee:ee:ee`` and no address; the host end
  answers ARP for anything (``proxy_arp=1``, ``proxy_delay=0``) and forwards (``forwarding=1``,
  ``route_localnet=1``); in the pod, the address is a ``/32``, ``169.254.1.1 dev eth0 scope link``
  is a connected route to a next hop nobody owns, and ``default via 169.254.1.1``; on the node,
  ``<pod IP> dev caliXXX scope link``.
- IPAM, libcalico-go/lib/ipam/ipam_block.go (``newBlock``): a pool is cut into blocks (``/26`` by
  default, ``IPPool.spec.blockSize``), each affine to one node; a node hands out its block's
  addresses from ordinal 0 (the block's network address is a pod address too) and claims another
  block when its blocks are full.
- natOutgoing, felix/rules/nat.go: ``cali-nat-outgoing`` masquerades pool sources going to
  destinations outside every pool (a pod talking to a node or beyond).

Where the lab departs (said in the README and notebook text too): no IPIP (this kernel has no
``ipip`` module) and no VXLAN for this flavor, so routes are plain BGP routes over the node network
(Calico's ``ipipMode: Never``, ``vxlanMode: Never``); no felix policy dataplane (the lab's own
policy engine enforces NetworkPolicies, ``table inet labkit-netpol``) and no ``cali-*`` filter
chains; felix's ipsets are replaced by the pool CIDR in the NAT rule; the calico-ipam plugin is
played by :class:`CalicoIpam` and the calico CNI binary by ``calico_cni``; a node's blocks are
taken from the ``/24`` the lab gives each node (real IPAM picks a free block of the pool at random,
seeded by the node name: ipam_block_reader_writer.go ``randomBlockGenerator``) so that this
machine's routes into the lab stay one per node; each node claims its first block when it starts
(real IPAM claims it at the node's first pod).
"""
from __future__ import annotations

import hashlib
import ipaddress

from .topology import LabSpec, NodePlan

GATEWAY = "169.254.1.1"
HOST_MAC = "ee:ee:ee:ee:ee:ee"
BLOCK_PREFIX = 26
AS_NUMBER = 64512
CONFLIST = "10-calico.conflist"
HOST_VETH_SYSCTLS = ("net.ipv4.conf.{dev}.route_localnet", "net.ipv4.neigh.{dev}.proxy_delay",
                     "net.ipv4.conf.{dev}.proxy_arp", "net.ipv4.conf.{dev}.forwarding")
# Lookups for pool addresses try the main table without its default route first (a BIRD route, a
# local /32 or the node's blackholed block), then fail: see ``node_rules``.
RULE_PREF = 100


def host_veth_name(namespace: str, pod: str) -> str:
    """``VethNameForWorkload``: ``cali`` + the first 11 hex digits of sha1("<namespace>.<pod>")."""
    return "cali" + hashlib.sha1(f"{namespace}.{pod}".encode()).hexdigest()[:11]


def node_conflist(node: NodePlan, mtu: int) -> dict:
    """manifests/calico.yaml ``cni_network_config`` as calico-node's install writes it on a node."""
    return {"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [
        {"type": "calico", "log_level": "info", "datastore_type": "kubernetes", "nodename": node.name,
         "mtu": mtu, "ipam": {"type": "calico-ipam"}, "policy": {"type": "k8s"},
         "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
        {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}}]}


# --- IPAM (pure) ------------------------------------------------------------------------------------
def node_blocks(node: NodePlan) -> list[str]:
    """The blocks this node may claim, in order (the lab's departure: from the node's /24)."""
    return [str(b) for b in ipaddress.ip_network(node.pod_cidr).subnets(new_prefix=BLOCK_PREFIX)]


def allocate(node: NodePlan, claimed: list[str], used: set[str]) -> tuple[str, str | None]:
    """The next address for a pod on ``node``: ``(ip, newly claimed block or None)``.

    The claimed blocks are searched in claim order, each from ordinal 0; when all are full, the
    next free block of the node is claimed. Raises ``LookupError`` when the node has none left.
    """
    for block in claimed:
        for ip in ipaddress.ip_network(block):
            if str(ip) not in used:
                return str(ip), None
    for block in node_blocks(node):
        if block not in claimed:
            return str(ipaddress.ip_network(block)[0]), block
    raise LookupError(node.name)


# --- wiring plans (pure) ------------------------------------------------------------------------------
def host_side_commands(host: str, pod_netns: str, ip: str, mtu: int) -> list[str]:
    """In the node: the veth pair (its pod end moved into the pod), the MAC, the /32 route."""
    return [f"link add {host} mtu {mtu} type veth peer name eth0 mtu {mtu} netns {pod_netns}",
            f"link set {host} address {HOST_MAC}",
            f"link set {host} up",
            f"route add {ip}/32 dev {host} scope link"]


def pod_side_commands(ip: str) -> list[str]:
    """In the pod: the /32 address, the connected route to 169.254.1.1 and the default route."""
    return ["link set eth0 up", f"addr add {ip}/32 dev eth0",
            f"route add {GATEWAY}/32 dev eth0 scope link",
            f"route add default via {GATEWAY} dev eth0"]


def node_rules(spec: LabSpec) -> list[str]:
    """``ip`` commands run in each node of this flavor (not Calico's: the lab's own, see below).

    On a real network the node network's gateway knows no pod route, so a pod block whose BGP
    route is gone is unreachable. Here that gateway is this machine, which routes every node's
    pod CIDR into the lab: without these two rules a withdrawn block would still be reached
    through it on a machine that forwards (Docker sets ``ip_forward=1``), and would time out
    elsewhere; with them it fails at once (``No route to host``). Pool addresses use the main table except its default route
    (``suppress_prefixlength 0``: a BIRD route, a local /32 or the node's own blackholed block),
    and are unreachable otherwise.
    """
    return [f"rule add pref {RULE_PREF} to {spec.pod_cidr} lookup main suppress_prefixlength 0",
            f"rule add pref {RULE_PREF + 1} to {spec.pod_cidr} unreachable"]


def nat_outgoing_rules(spec: LabSpec) -> str:
    """felix's natOutgoing (felix/rules/nat.go), with the pool CIDR in place of felix's ipsets
    ``cali40masq-ipam-pools`` and ``cali40all-ipam-pools`` and plain comments in place of felix's
    rule hashes. Loaded with ``iptables-restore --noflush``."""
    pool = spec.pod_cidr
    return "\n".join([
        "*nat", ":cali-POSTROUTING - [0:0]", ":cali-nat-outgoing - [0:0]",
        '-A POSTROUTING -m comment --comment "cali: felix natOutgoing" -j cali-POSTROUTING',
        '-A cali-POSTROUTING -m comment --comment "cali: felix natOutgoing" -j cali-nat-outgoing',
        f'-A cali-nat-outgoing -m comment --comment "cali: felix natOutgoing" -s {pool} ! -d {pool} '
        "-j MASQUERADE --random-fully",
        "COMMIT", ""])


def cni_result(host: str, container_mac: str, pod_netns: str, ip: str) -> dict:
    """What the calico plugin prints after ADD (CNI 0.3.1): the host veth, the pod's eth0, its /32."""
    return {"cniVersion": "0.3.1",
            "interfaces": [{"name": host, "mac": HOST_MAC},
                           {"name": "eth0", "mac": container_mac, "sandbox": f"/run/netns/{pod_netns}"}],
            "ips": [{"version": "4", "address": f"{ip}/32", "interface": 1}],
            "dns": {}}
