"""What a snapshot says about the pod network, read once and shared by the diagrams and the trace.

The wiring is *deduced from the interfaces and routes found on the nodes*, not from the
snapshot's ``cni`` field: a pod's ``eth0`` names its host-side veth by ifindex (``peer_index``);
a veth is a port of a bridge (``cni0``) or stands alone (ptp, kindnet); a route to another
node's pod CIDR goes *via* that node's IP (routed), or *onlink* over a VXLAN device (flannel's
``flannel.1``, whose remote VTEP is the other node's ``flannel.1`` local address). So the same
code draws kindnet, bridge, flannel, and what a kind node of another CNI shows.

Replicas are grouped by owner (``ownerReferences``, else the ``app``/``run`` label) so that a
diagram of 100 pods stays readable: a group larger than ``max_pods`` becomes one "blue ×40" box.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .inspect.iproute import Interface, Route, route_for
from .snapshot import ClusterSnapshot, NodeNetwork

OWNER_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "run")
DEFAULT_MAX_PODS = 4


@dataclass(frozen=True)
class PodInfo:
    """One pod as the pictures need it: where it runs, its address, its two veth ends."""

    key: str
    namespace: str
    name: str
    ip: str | None
    node: str | None
    owner: str
    labels: dict = field(default_factory=dict, compare=False, hash=False)
    host_if: str | None = None     # the host end of its veth (``veth6c73ede9``)
    pod_if: str | None = "eth0"


@dataclass(frozen=True)
class PodGroup:
    """Pods drawn as one box: a single pod, or the collapsed replicas of one owner on one node."""

    id: str
    namespace: str
    owner: str
    node: str | None
    pods: tuple[PodInfo, ...]

    @property
    def collapsed(self) -> bool:
        return len(self.pods) > 1

    @property
    def ip_range(self) -> str:
        ips = sorted((p.ip for p in self.pods if p.ip), key=ipaddress.ip_address)
        if not ips:
            return "-"
        return ips[0] if len(ips) == 1 else f"{ips[0]} – {ips[-1]}"


@dataclass(frozen=True)
class Link:
    """A route from one node to another node's pod CIDR, as the kernel of ``src`` holds it."""

    src: str
    dst: str
    route: Route
    kind: str                   # "routed" (via the node IP), "vxlan" (onlink over a VXLAN device), "other"
    vtep: str | None = None     # remote VTEP (underlay IP) for "vxlan"

    @property
    def label(self) -> str:
        """``10.244.2.0/24 via 172.18.0.4`` (``... dev flannel.1 onlink`` for a tunnel)."""
        r = self.route
        text = f"{r.dst} via {r.gateway}" if r.gateway else f"{r.dst} dev {r.dev}"
        if self.kind == "vxlan":
            text += f" dev {r.dev} onlink" if r.gateway else " onlink"
        return text


def pod_ip(pod: dict) -> str | None:
    status = pod.get("status") or {}
    return status.get("podIP") or None


def owner_of(pod: dict) -> str:
    """The name replicas share: the controller owner, else a well-known label, else the pod's name."""
    meta = pod.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller", True) and ref.get("name"):
            name = str(ref["name"])
            if ref.get("kind") == "ReplicaSet" and "-" in name:
                name = name.rsplit("-", 1)[0]  # the Deployment's name, without the pod-template hash
            return name
    labels = meta.get("labels") or {}
    for label in OWNER_LABELS:
        if labels.get(label):
            return str(labels[label])
    return str(meta.get("name"))


def interface(node: NodeNetwork, name: str | None) -> Interface | None:
    return next((i for i in node.interfaces if i.name == name), None) if name else None


def host_interface(snapshot: ClusterSnapshot, pod: dict) -> Interface | None:
    """The host end of the pod's veth: by ifindex when the pod's own view was read, else by route."""
    meta = pod["metadata"]
    key = f"{meta.get('namespace', 'default')}/{meta['name']}"
    node_name = (pod.get("spec") or {}).get("nodeName")
    try:
        node = snapshot.node(node_name) if node_name else None
    except KeyError:
        node = None
    if node is None:
        return None
    own = snapshot.pod_networks.get(key)
    eth0 = next((i for i in own.interfaces if i.name == "eth0"), None) if own else None
    if eth0 is not None and eth0.peer_index is not None:
        found = next((i for i in node.interfaces if i.index == eth0.peer_index and i.kind == "veth"), None)
        if found is not None:
            return found
    ip = pod_ip(pod)
    if ip:  # ptp: a host route per pod names the veth
        for r in node.routes:
            if r.dst == ip and r.dev and r.dev.startswith(("veth", "cali", "lxc")):
                return interface(node, r.dev)
    return None


def pods(snapshot: ClusterSnapshot) -> list[PodInfo]:
    """Every pod of the snapshot, sorted by namespace and name."""
    out = []
    for p in snapshot.pods:
        meta = p["metadata"]
        ns = meta.get("namespace", "default")
        host = host_interface(snapshot, p)
        out.append(PodInfo(key=f"{ns}/{meta['name']}", namespace=ns, name=meta["name"], ip=pod_ip(p),
                           node=(p.get("spec") or {}).get("nodeName"), owner=owner_of(p),
                           labels=dict(meta.get("labels") or {}), host_if=host.name if host else None))
    return sorted(out, key=lambda p: (p.namespace, p.name))


def group_pods(infos: list[PodInfo], max_pods: int = DEFAULT_MAX_PODS, by_node: bool = True) -> list[PodGroup]:
    """Group replicas (same namespace, owner and, when ``by_node``, node); keep groups of up to
    ``max_pods`` pods as single pods."""
    buckets: dict[tuple, list[PodInfo]] = {}
    for p in infos:
        buckets.setdefault((p.namespace, p.owner, p.node if by_node else None), []).append(p)
    groups = []
    for (ns, owner, node), members in buckets.items():
        if len(members) > max_pods:
            gid = f"g/{ns}/{owner}" + (f"@{node}" if by_node and node else "")
            groups.append(PodGroup(gid, ns, owner, node if by_node else None, tuple(members)))
        else:
            groups.extend(PodGroup(f"p/{m.key}", ns, owner, m.node, (m,)) for m in members)
    return sorted(groups, key=lambda g: (g.namespace, g.pods[0].name))


def group_index(groups: list[PodGroup]) -> dict[str, PodGroup]:
    """Pod key -> the group drawn for it."""
    return {p.key: g for g in groups for p in g.pods}


def uplink(node: NodeNetwork) -> Interface | None:
    """The device that holds the node IP (``eth0``): the node network side of the node."""
    for i in node.interfaces:
        if node.internal_ip and any(a.ip == node.internal_ip for a in i.addresses):
            return i
    return interface(node, "eth0")


def bridges(node: NodeNetwork) -> list[Interface]:
    """Bridges that pods' veths are ports of (``cni0``, ``kube-bridge``...)."""
    masters = {i.master for i in node.interfaces if i.kind == "veth" and i.master}
    return [i for i in node.interfaces if i.kind == "bridge" and i.name in masters]


def tunnels(node: NodeNetwork) -> list[Interface]:
    return [i for i in node.interfaces if i.kind in ("vxlan", "geneve", "ipip", "wireguard")]


def owns(node: NodeNetwork, ip: str) -> bool:
    """Whether ``ip`` falls in the node's pod CIDR."""
    if not node.pod_cidr:
        return False
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(node.pod_cidr, strict=False)
    except ValueError:
        return False


def node_for_ip(snapshot: ClusterSnapshot, ip: str) -> NodeNetwork | None:
    """The node whose pod CIDR holds ``ip``, or whose own address it is."""
    for n in snapshot.nodes:
        if n.internal_ip == ip or any(a.ip == ip for i in n.interfaces for a in i.addresses if i.kind != "veth"):
            return n
    return next((n for n in snapshot.nodes if owns(n, ip)), None)


def _within(net: ipaddress.IPv4Network | ipaddress.IPv6Network, cidr: str) -> bool:
    """``net`` lies inside ``cidr`` (as ``subnet_of``, for the matching address family)."""
    other = ipaddress.ip_network(cidr, strict=False)
    if isinstance(net, ipaddress.IPv4Network) and isinstance(other, ipaddress.IPv4Network):
        return net.subnet_of(other)
    if isinstance(net, ipaddress.IPv6Network) and isinstance(other, ipaddress.IPv6Network):
        return net.subnet_of(other)
    raise TypeError(f"{net} and {other} are not of the same version")


def classify(snapshot: ClusterSnapshot, node: NodeNetwork, route: Route) -> Link | None:
    """The link a route makes towards another node's pods, or None if it is not one."""
    if route.table != "main" or route.type != "unicast" or route.dst == "default" or "/" not in route.dst:
        return None
    try:
        net = ipaddress.ip_network(route.dst, strict=False)
    except ValueError:
        return None
    target = next((n for n in snapshot.nodes if n.name != node.name and n.pod_cidr
                   and _within(net, n.pod_cidr)), None)
    if target is None:
        return None
    dev = interface(node, route.dev)
    if dev is not None and dev.kind in ("vxlan", "geneve"):
        remote = next((i for i in tunnels(target) if i.kind == dev.kind), None)
        vtep = (remote.vxlan or {}).get("local") if remote is not None and remote.vxlan else target.internal_ip
        return Link(node.name, target.name, route, "vxlan", vtep)
    if route.gateway and route.gateway == target.internal_ip:
        return Link(node.name, target.name, route, "routed")
    return Link(node.name, target.name, route, "other")


def links(snapshot: ClusterSnapshot) -> list[Link]:
    """Every node-to-node route towards pod CIDRs, in node then route order."""
    out = []
    for n in snapshot.nodes:
        for r in n.routes:
            link = classify(snapshot, n, r)
            if link is not None:
                out.append(link)
    return out


def lookup(node: NodeNetwork, ip: str) -> Route | None:
    """The route ``node`` picks for ``ip`` (longest prefix in the main table)."""
    return route_for(node.routes, ip)
