"""Turn a ``LabSpec`` into namespaces, links and routes; add and remove pods.

The plan for each namespace is a list of ``ip`` commands computed from the spec alone
(``node_network_commands``, ``node_commands``...), so the wiring of every CNI flavor can be read
and tested without root; ``build`` applies the plans with one ``ip -batch`` per namespace. Pods
are wired by the reference CNI plugins (``cni.CniRunner``), as a kubelet would.
"""
from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from ..errors import LabkitError
from . import calico
from . import netns as ns
from .calico_node import CalicoNode
from .cni import CniRunner, conflist_filename, flannel_subnet_env, node_conflist
from .paths import lab_dir, node_dir
from .topology import FLANNEL_MTU, FLANNEL_PORT, FLANNEL_VNI, LabSpec, NodePlan

NODE_BRIDGE = "kind"   # the node-network bridge, named like kind's docker network


# --- plans (pure) -----------------------------------------------------------------------------
def net_commands(spec: LabSpec) -> list[str]:
    """The namespace that holds the node-network bridge."""
    return ["link set lo up", f"link add {NODE_BRIDGE} type bridge", f"link set {NODE_BRIDGE} up"]


def node_link_commands(spec: LabSpec, node: NodePlan) -> list[str]:
    """Run in the lab's net namespace: the node's veth, its ``eth0`` end moved into the node."""
    return [f"link add {node.bridge_port} type veth peer name eth0 netns {node.netns}",
            f"link set {node.bridge_port} master {NODE_BRIDGE} up"]


def node_commands(spec: LabSpec, node: NodePlan) -> list[str]:
    """Inside a node: its address on the node network and the routes of its CNI flavor."""
    cmds = ["link set lo up",
            f"addr add {node.ip}/{spec.node_prefixlen} dev eth0",
            "link set eth0 up",
            f"route add default via {spec.gateway_ip} dev eth0"]
    others = [p for p in spec.node_plans() if p.name != node.name]
    if spec.cni in ("kindnet", "bridge"):
        # kindnet's routes.go: every other node's pod CIDR via that node's InternalIP.
        cmds += [f"route add {o.pod_cidr} via {o.ip} dev eth0" for o in others]
    elif spec.cni == "calico":
        cmds += calico.node_rules(spec)     # routes between nodes come from BIRD (see calico_node)
    else:
        cmds += flannel_commands(node, others)
    return cmds


def flannel_commands(node: NodePlan, others: list[NodePlan]) -> list[str]:
    """flannel's vxlan backend: flannel.1 with a /32, and per remote node 1 route, 1 ARP, 1 FDB entry."""
    cmds = [f"link add flannel.1 type vxlan id {FLANNEL_VNI} local {node.ip} dev eth0 "
            f"dstport {FLANNEL_PORT} nolearning",
            f"link set flannel.1 address {node.vtep_mac} mtu {FLANNEL_MTU}",
            f"addr add {node.flannel_address}/32 dev flannel.1",
            "link set flannel.1 up"]
    for o in others:
        cmds += [f"route add {o.pod_cidr} via {o.flannel_address} dev flannel.1 onlink",
                 f"neigh add {o.flannel_address} lladdr {o.vtep_mac} dev flannel.1 nud permanent"]
    return cmds


def flannel_fdb_commands(others: list[NodePlan]) -> list[str]:
    """``bridge`` commands (not ``ip``): where to send each remote VTEP's frames."""
    return [f"fdb append {o.vtep_mac} dev flannel.1 dst {o.ip} self permanent" for o in others]


def kindnet_masquerade_rules(spec: LabSpec) -> str:
    """kindnetd's ip-masq-agent chain, as kind's kindnetd writes it (kubernetes-sigs/kind
    images/kindnetd/cmd/kindnetd/masq.go ``SyncRules``; main.go passes only ``POD_SUBNET`` as the
    no-masquerade CIDRs). Only traffic to the pod subnet keeps its source: a pod talking to
    *another* node (or to anything outside the cluster) is masqueraded to its node's address.
    Traffic to the node itself is LOCAL, never masqueraded. Loaded with ``iptables-restore --noflush``.
    """
    c = "kind-masq-agent"
    return "\n".join([
        "*nat", ":KIND-MASQ-AGENT - [0:0]",
        f'-A POSTROUTING -m addrtype ! --dst-type LOCAL -m comment --comment "{c}: ensure nat POSTROUTING '
        f'directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain" -j KIND-MASQ-AGENT',
        f'-A KIND-MASQ-AGENT -d {spec.pod_cidr} -m comment --comment "{c}: local traffic is not subject '
        f'to MASQUERADE" -j RETURN',
        f'-A KIND-MASQ-AGENT -m comment --comment "{c}: outbound traffic is subject to MASQUERADE '
        f'(must be last in chain)" -j MASQUERADE',
        "COMMIT", ""])


def flannel_iptables_rules(spec: LabSpec, node: NodePlan) -> str:
    """flanneld ``--ip-masq`` (kube-flannel.yml; hence ``FLANNEL_IPMASQ=true`` in subnet.env):
    ``FLANNEL-POSTRTG`` and ``FLANNEL-FWD`` as flannel-io/flannel
    pkg/trafficmngr/iptables/iptables.go ``masqRules`` / ``forwardRules`` write them. Pod to pod
    keeps its source; a pod talking to a node or outside is masqueraded; the host side talking to
    a remote pod is masqueraded too. Loaded with ``iptables-restore --noflush``.
    """
    cluster, subnet = spec.pod_cidr, node.pod_cidr
    masq, fwd = '-m comment --comment "flanneld masq"', '-m comment --comment "flanneld forward"'
    return "\n".join([
        "*nat", ":FLANNEL-POSTRTG - [0:0]",
        f"-A POSTROUTING {masq} -j FLANNEL-POSTRTG",
        f"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 {masq} -j RETURN",
        f"-A FLANNEL-POSTRTG -s {subnet} -d {cluster} {masq} -j RETURN",
        f"-A FLANNEL-POSTRTG -s {cluster} -d {subnet} {masq} -j RETURN",
        f"-A FLANNEL-POSTRTG ! -s {cluster} -d {subnet} {masq} -j RETURN",
        f"-A FLANNEL-POSTRTG -s {cluster} ! -d 224.0.0.0/4 {masq} -j MASQUERADE --random-fully",
        f"-A FLANNEL-POSTRTG ! -s {cluster} -d {cluster} {masq} -j MASQUERADE --random-fully",
        "COMMIT",
        "*filter", ":FLANNEL-FWD - [0:0]",
        f"-A FORWARD {fwd} -j FLANNEL-FWD",
        f"-A FLANNEL-FWD -s {cluster} {fwd} -j ACCEPT",
        f"-A FLANNEL-FWD -d {cluster} {fwd} -j ACCEPT",
        "COMMIT", ""])


def node_iptables_rules(spec: LabSpec, node: NodePlan) -> str | None:
    """The CNI daemon's own rules in a node (the plain ``bridge`` flavor has no daemon: none)."""
    if spec.cni == "kindnet":
        return kindnet_masquerade_rules(spec)
    if spec.cni == "flannel":
        return flannel_iptables_rules(spec, node)
    if spec.cni == "calico":
        return calico.nat_outgoing_rules(spec)
    return None


# Bridge flavors: kubeadm's preflight requires bridge-nf-call-iptables=1, so bridged IPv4 packets
# traverse the inet hooks (kube-proxy's un-DNAT of same-node replies, the policy table). The
# sysctl is per network namespace: set in each node, where cni0 lives.
BRIDGE_NF_SYSCTL = "net.bridge.bridge-nf-call-iptables"


def ensure_br_netfilter() -> None:
    if not Path("/proc/sys/net/bridge").exists():
        try:
            ns.run(["modprobe", "br_netfilter"], check=False)
        except LabkitError:
            pass                                 # no modprobe: the message below says what to do
    if not Path("/proc/sys/net/bridge").exists():
        raise LabkitError("lab.no_br_netfilter")


def host_commands(spec: LabSpec) -> list[str]:
    """On this machine: join the node network and route pod CIDRs through their nodes (kind + host routes)."""
    cmds = [f"link add {spec.host_link} type veth peer name host netns {spec.net_netns}",
            f"addr add {spec.gateway_ip}/{spec.node_prefixlen} dev {spec.host_link}",
            f"link set {spec.host_link} up"]
    cmds += [f"route add {n.pod_cidr} via {n.ip} dev {spec.host_link}" for n in spec.node_plans()]
    # ClusterIPs from the host as from a client on a node: into the control plane, whose kube-proxy
    # DNATs (and masquerades: the host is not in the cluster CIDR). See hostnet for containment.
    cmds.append(f"route add {spec.service_cidr} via {spec.node_plans()[0].ip} dev {spec.host_link}")
    return cmds


# --- building (needs root) ----------------------------------------------------------------------
def build(spec: LabSpec) -> None:
    """Create the lab's node network and nodes. The caller sweeps the lab if this raises."""
    ns.require_tools()
    if spec.cni in ("bridge", "flannel"):
        ensure_br_netfilter()
    nodes = spec.node_plans()
    for netns in [spec.net_netns] + [n.netns for n in nodes]:
        ns.run(["ip", "netns", "add", netns])
    ns.ip_batch(net_commands(spec), spec.net_netns)
    link_cmds = [c for n in nodes for c in node_link_commands(spec, n)]
    if spec.host_routes:
        ns.ip_batch(host_commands(spec)[:1])     # the veth pair first, then its bridge port
        link_cmds += ["link set host master kind up"]
    ns.ip_batch(link_cmds, spec.net_netns)
    for node in nodes:
        ns.ip_batch(node_commands(spec, node), node.netns)
        if spec.cni == "flannel":
            fdb = flannel_fdb_commands([o for o in nodes if o.name != node.name])
            if fdb:
                ns.run(["bridge", "-n", node.netns, "-batch", "-"], input="\n".join(fdb) + "\n")
        ns.set_sysctl(node.netns, "net.ipv4.ip_forward", "1")
        if spec.cni in ("bridge", "flannel"):
            ns.set_sysctl(node.netns, BRIDGE_NF_SYSCTL, "1")
        rules = node_iptables_rules(spec, node)
        if rules:
            ns.run(["iptables-restore", "--noflush", "-w"], node.netns, input=rules)
        write_node_files(spec, node)
    if spec.cni == "calico":             # calico-node's BIRD in every node, once all nodes exist
        for node in nodes:
            agent = CalicoNode(spec, node)
            agent.claim_first_block()
            agent.start_bird()
    if spec.host_routes:
        ns.ip_batch(host_commands(spec)[1:])


def write_node_files(spec: LabSpec, node: NodePlan) -> None:
    """The files a kind node would carry: its CNI config (and flannel's subnet.env)."""
    base = node_dir(spec.name, node.name)
    conf_dir = base / "etc" / "cni" / "net.d"
    conf_dir.mkdir(parents=True, exist_ok=True)
    conflist = node_conflist(spec, node, ipam_dir(spec, node))
    (conf_dir / conflist_filename(spec)).write_text(json.dumps(conflist, indent=2) + "\n")
    if spec.cni == "flannel":
        subnet_env_file(spec, node).parent.mkdir(parents=True, exist_ok=True)
        subnet_env_file(spec, node).write_text(flannel_subnet_env(spec, node))


def subnet_env_file(spec: LabSpec, node: NodePlan) -> Path:
    """flanneld's ``/run/flannel/subnet.env`` of a node."""
    return node_dir(spec.name, node.name) / "run" / "flannel" / "subnet.env"


def cni_runner(spec: LabSpec, node: NodePlan) -> CniRunner:
    """The node's libcni: its conflist, its namespace, its flannel subnet.env and IPAM state."""
    return CniRunner(load_conflist(spec, node), node.netns,
                     subnet_env=str(subnet_env_file(spec, node)), ipam_dir=ipam_dir(spec, node),
                     calico=CalicoNode(spec, node) if spec.cni == "calico" else None)


def ipam_dir(spec: LabSpec, node: NodePlan) -> str:
    """host-local's state for a node (kindnet keeps it in /run/cni-ipam-state on a kind node)."""
    return str(node_dir(spec.name, node.name) / "run" / "cni-ipam-state")


def load_conflist(spec: LabSpec, node: NodePlan) -> dict:
    path = node_dir(spec.name, node.name) / "etc" / "cni" / "net.d" / conflist_filename(spec)
    return json.loads(path.read_text())


def host_reaches(spec: LabSpec, ip: str) -> bool:
    """Whether this machine routes to ``ip`` through the lab (host routes on and inside a lab network)."""
    if not spec.host_routes:
        return False
    addr = ipaddress.ip_address(ip)
    return any(addr in ipaddress.ip_network(c) for c in (spec.node_cidr, spec.pod_cidr, spec.service_cidr))


def lab_exists(spec: LabSpec) -> bool:
    present = set(ns.list_netns())
    return spec.net_netns in present and all(n.netns in present for n in spec.node_plans())


def ensure_lab_dir(spec: LabSpec) -> Path:
    d = lab_dir(spec.name)
    d.mkdir(parents=True, exist_ok=True, mode=0o755)
    return d
