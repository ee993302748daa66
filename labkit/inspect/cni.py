"""Which CNI wired this node, and how: recognition from what a node's tools print (pure).

Input: a node's interfaces and routes (``ip -j -d addr``, ``ip -j route``), the text of
``iptables-save``, ``nft -j list ruleset`` and ``ipvsadm -Ln`` when they could be read. Output: a
:class:`Recognition` that names the CNI (kindnet, bridge, flannel, calico, cilium, kube-router,
weave), its mode (vxlan, host-gw, ipip, bgp...), the pod-network topology the diagrams draw (which
device carries cross-node traffic, overlay or routed, where the pods' gateway is) and the owners of
the rules found (kube-proxy, kubelet, cali-*, CILIUM_*, KUBE-ROUTER-*, WEAVE-*, IPVS...).

The clues are the projects' own names (reference/cni-wiring.md, table A.8): host-side veth prefixes
(``veth``/``cali``/``lxc``/``vethwepl``), devices (``cni0``, ``flannel.1``, ``tunl0``,
``vxlan.calico``, ``cilium_host``, ``kube-bridge``, ``weave``), route shapes (ptp ``/32 scope host``,
``onlink`` over a tunnel, ``proto bird``, blackholed blocks) and chain prefixes. Each conclusion
keeps its ``evidence`` (in the tools' own words, so it needs no translation) for the learner.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import i18n
from .iproute import Interface, Route

if TYPE_CHECKING:
    from .servicemap import ServiceMap

CALICO_GATEWAY = "169.254.1.1"

# (owner, chain-name prefixes or exact names); the first match wins, so specific before generic.
_CHAIN_OWNERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kube-router", ("KUBE-ROUTER-", "KUBE-POD-FW-", "KUBE-NWPLCY-", "KUBE-SRC-", "KUBE-DST-")),
    ("kubelet", ("KUBE-KUBELET-CANARY",)),
    ("kube-proxy", ("KUBE-",)),
    ("calico", ("cali-",)),
    ("cilium", ("CILIUM_", "OLD_CILIUM_")),
    ("weave", ("WEAVE",)),
    ("flannel", ("FLANNEL-",)),
    ("kindnet", ("KIND-MASQ-AGENT",)),
    ("cni-portmap", ("CNI-HOSTPORT-", "CNI-DN-")),
    ("cni-ipmasq", ("CNI-",)),
)
_BUILTIN = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}
# nftables tables named after their owner (their chains have generic names like ``postrouting``):
# kindnetd >= kind v0.27 enforces policies in ``inet kindnet-network-policies``
# (kind images/kindnetd/cmd/kindnetd/main.go), kube-network-policies in its own table.
_TABLE_OWNERS = {"kube-proxy": "kube-proxy", "kindnet-network-policies": "kindnet",
                 "kube-network-policies": "kube-network-policies"}


# --- rule owners ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleOwner:
    """Who wrote a group of rules: ``kube-proxy`` owns ``KUBE-SVC-...`` in iptables, and so on."""

    owner: str
    backend: str                      # "iptables", "nftables" or "ipvs"
    chains: tuple[str, ...]           # chain (or nft table/chain, or IPVS service) names, sorted

    @property
    def count(self) -> int:
        return len(self.chains)


def chain_owner(chain: str) -> str | None:
    """The component that names its chains like ``chain`` (None for builtins and unknowns)."""
    if chain in _BUILTIN:
        return None
    for owner, prefixes in _CHAIN_OWNERS:
        if any(chain.startswith(p) for p in prefixes):
            return owner
    return None


def iptables_chains(text: str) -> list[tuple[str, str]]:
    """(table, chain) declared or appended to in ``iptables-save`` text."""
    found: dict[tuple[str, str], None] = {}
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":"):
            found[(table, line[1:].split()[0])] = None
        elif line.startswith(("-A ", "-I ")):
            found[(table, line.split()[1])] = None
    return list(found)


def nft_chains(text: str) -> list[tuple[str, str]]:
    """(``family table``, chain) from ``nft -j list ruleset`` (iptables-nft's tables included)."""
    try:
        items = json.loads(text).get("nftables", []) if text.strip() else []
    except (ValueError, AttributeError):
        return []
    out = []
    for item in items:
        chain = item.get("chain") if isinstance(item, dict) else None
        if chain:
            out.append((f"{chain.get('family')} {chain.get('table')}", chain.get("name", "")))
    return out


def rule_owners(iptables: str | None = None, nft: str | None = None, ipvs: list[IpvsService] | None = None,
                interfaces: Iterable[Interface] = ()) -> list[RuleOwner]:
    """Group the chains (and IPVS services) of a node by the component that owns them."""
    groups: dict[tuple[str, str], set[str]] = {}
    for _, chain in iptables_chains(iptables or ""):
        owner = chain_owner(chain)
        if owner:
            groups.setdefault((owner, "iptables"), set()).add(chain)
    for table, chain in nft_chains(nft or ""):
        name = table.split()[-1]
        owner = _TABLE_OWNERS.get(name) or chain_owner(chain)
        if owner and not (name in ("filter", "nat", "raw", "mangle") and iptables):  # iptables-nft: seen already
            groups.setdefault((owner, "nftables"), set()).add(f"{table} {chain}")
    if ipvs:
        names = {i.name for i in interfaces}
        owner = "kube-router" if "kube-dummy-if" in names else "kube-proxy"
        groups[(owner, "ipvs")] = {f"{s.protocol} {s.address}:{s.port}" for s in ipvs}
    return [RuleOwner(o, b, tuple(sorted(c))) for (o, b), c in sorted(groups.items())]


# --- ipvsadm -Ln ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IpvsService:
    protocol: str                                  # TCP, UDP, SCTP
    address: str
    port: int
    scheduler: str
    destinations: tuple[tuple[str, int, int], ...] = ()   # (ip, port, weight)


_VIRTUAL = re.compile(r"^(TCP|UDP|SCTP)\s+(\S+):(\d+)\s+(\S+)")
_REAL = re.compile(r"^\s+->\s+(\S+):(\d+)\s+(\S+)\s+(\d+)")


def parse_ipvsadm(text: str) -> list[IpvsService]:
    """``ipvsadm -Ln`` (numeric) into virtual services and their real servers."""
    services: list[list[Any]] = []
    current: list[Any] | None = None
    for line in text.splitlines():
        m = _VIRTUAL.match(line)
        if m:
            current = [m.group(1), m.group(2).strip("[]"), int(m.group(3)), m.group(4), []]
            services.append(current)
            continue
        r = _REAL.match(line)
        if r and current is not None and r.group(1) != "RemoteAddress":
            current[4].append((r.group(1).strip("[]"), int(r.group(2)), int(r.group(4))))
    return [IpvsService(p, a, port, s, tuple(d)) for p, a, port, s, d in services]


def ipvs_service_map(services: list[IpvsService], objects: Iterable[dict[str, Any]] = ()) -> ServiceMap:
    """A kube-proxy-style :class:`ServiceMap` (mode ``ipvs``) from IPVS virtual services.

    IPVS knows addresses, not names: Service objects (when given) name each virtual service
    ``namespace/name:port`` as the iptables and nftables maps do. Shares follow the weights (the
    ``rr`` scheduler gives each real server the same share of new connections).
    """
    from .servicemap import EndpointEntry, Frontend, ServiceEntry, ServiceMap

    names: dict[tuple[str, str, int], str] = {}
    for svc in objects:
        meta, spec = svc.get("metadata", {}), svc.get("spec", {})
        for port in spec.get("ports", []):
            label = f"{meta.get('namespace', 'default')}/{meta.get('name')}" + (
                f":{port['name']}" if port.get("name") else "")
            for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
                names[(port.get("protocol", "TCP"), ip, int(port["port"]))] = label
    entries = []
    for s in services:
        total = sum(w for _, _, w in s.destinations) or 1
        eps = [EndpointEntry(ip, port, w / total, []) for ip, port, w in s.destinations]
        chain = f"IPVS {s.protocol} {s.address}:{s.port} {s.scheduler}"
        entries.append(ServiceEntry(names.get((s.protocol, s.address, s.port), f"{s.address}:{s.port}"),
                                    s.protocol.lower(), s.address, s.port, None, [chain], eps,
                                    [Frontend("cluster_ip", s.address, s.port, [chain], list(eps))]))
    return ServiceMap("ipvs", sorted(entries, key=lambda e: (e.service, e.protocol)))


# --- recognition ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recognition:
    """A node's pod network as the diagrams need it (see the module docstring)."""

    cni: str | None                  # kindnet, bridge, flannel, calico, cilium, kube-router, weave
    mode: str | None = None          # ptp, routed, vxlan, host-gw, ipip, bgp, geneve, native, fastdp, sleeve
    overlay: bool = False
    encapsulation: str | None = None     # vxlan, ipip, geneve (None when routed)
    cross_node_device: str | None = None  # flannel.1, tunl0, vxlan.calico, cilium_vxlan, eth0...
    tunnel: dict[str, Any] | None = None            # vxlan id/port of the tunnel device
    pod_gateway: str | None = None        # 10.244.1.1, 169.254.1.1...
    gateway_kind: str | None = None       # ptp, bridge, proxy-arp, router
    gateway_device: str | None = None     # veth*, cni0, cali*, cilium_host, weave
    pod_veth_prefix: str | None = None
    service_proxy: str | None = None      # iptables, nftables, ipvs, kube-router-ipvs, cilium-ebpf
    owners: tuple[RuleOwner, ...] = ()
    evidence: tuple[str, ...] = field(default=())

    @property
    def proxy_mode(self) -> str | None:
        """The snapshot's ``proxy_mode``: iptables, nftables, ipvs or ebpf."""
        return {"kube-router-ipvs": "ipvs", "cilium-ebpf": "ebpf"}.get(self.service_proxy or "", self.service_proxy)

    def owner(self, name: str) -> list[RuleOwner]:
        return [o for o in self.owners if o.owner == name]

    def describe(self, lang: str | None = None) -> str:
        """One line for a diagram caption or a notebook, in the learner's language."""
        if self.cni is None:
            return i18n.t("cni.unknown", lang)
        if self.overlay:
            transport = i18n.t("cni.transport.overlay", lang, encap=self.encapsulation or "?",
                               device=self.cross_node_device or "?")
        else:
            transport = i18n.t("cni.transport.routed", lang, device=self.cross_node_device or "?")
        gateway = i18n.t(f"cni.gateway.{self.gateway_kind or 'unknown'}", lang, ip=self.pod_gateway or "?",
                         device=self.gateway_device or "?")
        mode = f", {self.mode}" if self.mode else ""
        return i18n.t("cni.summary", lang, cni=self.cni, mode=mode, transport=transport, gateway=gateway)

    def to_json(self) -> dict[str, Any]:
        return {"cni": self.cni, "mode": self.mode, "overlay": self.overlay, "encapsulation": self.encapsulation,
                "cross_node_device": self.cross_node_device, "tunnel": self.tunnel,
                "pod_gateway": self.pod_gateway, "gateway_kind": self.gateway_kind,
                "gateway_device": self.gateway_device, "pod_veth_prefix": self.pod_veth_prefix,
                "service_proxy": self.service_proxy, "proxy_mode": self.proxy_mode,
                "owners": [{"owner": o.owner, "backend": o.backend, "count": o.count} for o in self.owners],
                "evidence": list(self.evidence)}


@dataclass
class _Node:
    """What one recognition pass looks at, indexed once."""

    interfaces: list[Interface]
    routes: list[Route]
    owners: list[RuleOwner]
    internal_ip: str | None
    pod_cidr: str | None
    nft_kube_proxy: bool
    ipvs: list[IpvsService]

    def __post_init__(self) -> None:
        self.by_name = {i.name: i for i in self.interfaces}
        self.owner_names = {o.owner for o in self.owners}

    def veths(self, prefix: str) -> list[Interface]:
        return [i for i in self.interfaces if i.kind == "veth" and i.name.startswith(prefix)]

    def routes_via(self, dev: str) -> list[Route]:
        return [r for r in self.routes if r.dev == dev and r.table == "main" and r.dst != "default"
                and "/" in r.dst and r.type == "unicast" and not r.dst.endswith("/32")
                and r.scope != "link" and r.protocol != "kernel"]

    def uplink(self) -> str:
        for i in self.interfaces:
            if self.internal_ip and any(a.ip == self.internal_ip for a in i.addresses):
                return i.name
        default = next((r for r in self.routes if r.dst == "default" and r.dev), None)
        return default.dev if default is not None and default.dev else "eth0"

    def ipv4(self, name: str) -> str | None:
        i = self.by_name.get(name)
        addrs = i.ipv4() if i else []
        return addrs[0].ip if addrs else None


def recognize(interfaces: list[Interface], routes: list[Route], iptables: str | None = None,
              nft: str | None = None, ipvsadm: str | None = None, internal_ip: str | None = None,
              pod_cidr: str | None = None) -> Recognition:
    """Recognise the CNI of one node from its parsed interfaces and routes and its rule dumps."""
    ipvs = parse_ipvsadm(ipvsadm) if ipvsadm else []
    owners = rule_owners(iptables, nft, ipvs, interfaces)
    node = _Node(interfaces, routes, owners, internal_ip, pod_cidr,
                 any(t.split()[-1] == "kube-proxy" for t, _ in nft_chains(nft or "")), ipvs)
    for detect in (_cilium, _weave, _calico, _kube_router, _flannel, _kindnet, _bridge):
        found = detect(node)
        if found is not None:
            return _finish(found, node)
    return _finish(Recognition(cni=None), node)


def _finish(rec: Recognition, node: _Node) -> Recognition:
    from dataclasses import replace

    evidence = list(rec.evidence) + [i18n.t("cni.ev.owner", backend=o.backend, owner=o.owner,
                                            chains=", ".join(o.chains[:3]) + (" ..." if o.count > 3 else ""))
                                     for o in node.owners]
    return replace(rec, service_proxy=_service_proxy(node, rec.cni), owners=tuple(node.owners),
                   evidence=tuple(evidence))


def _service_proxy(node: _Node, cni: str | None) -> str | None:
    kp = {o.backend for o in node.owners if o.owner == "kube-proxy"}
    chains = {c for o in node.owners if o.owner == "kube-proxy" and o.backend == "iptables" for c in o.chains}
    if node.nft_kube_proxy:
        return "nftables"
    if node.ipvs and "kube-dummy-if" in node.by_name:
        return "kube-router-ipvs"
    if node.ipvs or "kube-ipvs0" in node.by_name:
        return "ipvs"
    if any(c.startswith("KUBE-SVC-") for c in chains) or ("iptables" in kp and "KUBE-SERVICES" in chains):
        return "iptables"
    if cni == "cilium":
        return "cilium-ebpf"
    return None


def _tunnel_info(i: Interface | None) -> dict[str, Any] | None:
    return {"id": i.vxlan.get("id"), "port": i.vxlan.get("port")} if i is not None and i.vxlan else None


def _cilium(node: _Node) -> Recognition | None:
    if "cilium_host" not in node.by_name and "cilium" not in node.owner_names:
        return None
    for dev, encap in (("cilium_vxlan", "vxlan"), ("cilium_geneve", "geneve")):
        if dev in node.by_name:
            return Recognition("cilium", encap, True, encap, dev, _tunnel_info(node.by_name[dev]),
                               node.ipv4("cilium_host"), "router", "cilium_host", "lxc",
                               evidence=(i18n.t("cni.ev.cilium_pair"), f"{dev} ({encap})"))
    return Recognition("cilium", "native", False, None, node.uplink(), None, node.ipv4("cilium_host"),
                       "router", "cilium_host", "lxc", evidence=(i18n.t("cni.ev.cilium_pair"),))


def _weave(node: _Node) -> Recognition | None:
    if "weave" not in node.by_name and "weave" not in node.owner_names:
        return None
    fastdp = "datapath" in node.by_name
    device = next((n for n in node.by_name if n.startswith("vxlan-")), "vethwe-pcap") if fastdp else "vethwe-pcap"
    return Recognition("weave", "fastdp" if fastdp else "sleeve", True, "vxlan" if fastdp else "udp", device,
                       {"port": 6784} if fastdp else {"port": 6783}, node.ipv4("weave"), "bridge", "weave",
                       "vethwepl", evidence=(i18n.t("cni.ev.bridge", name="weave"),)
                       + (("openvswitch datapath",) if fastdp else ()))


def _calico(node: _Node) -> Recognition | None:
    cali = node.veths("cali")
    if not cali and "calico" not in node.owner_names and "vxlan.calico" not in node.by_name:
        return None
    evidence = [i18n.t("cni.ev.cali_veths", count=len(cali))] if cali else []
    holes = [r.dst for r in node.routes if r.type == "blackhole"]
    evidence += [i18n.t("cni.ev.blackhole", dst=d) for d in holes]
    if node.routes_via("vxlan.calico"):
        mode, dev, encap = "vxlan", "vxlan.calico", "vxlan"
    elif node.routes_via("tunl0"):
        mode, dev, encap = "ipip", "tunl0", "ipip"
    else:
        mode, dev, encap = "bgp", node.uplink(), None
    via = node.routes_via(dev)
    if via:
        evidence.append(f"{via[0].describe()}" + (f" proto {via[0].protocol}" if via[0].protocol else ""))
    return Recognition("calico", mode, encap is not None, encap, dev, _tunnel_info(node.by_name.get(dev)),
                       CALICO_GATEWAY, "proxy-arp", "cali*", "cali", evidence=tuple(evidence))


def _kube_router(node: _Node) -> Recognition | None:
    if "kube-bridge" not in node.by_name and "kube-router" not in node.owner_names \
            and "kube-dummy-if" not in node.by_name:
        return None
    tunnels = [n for n in node.by_name if (n.startswith("tun-") or n == "kube-tunnel-if") and node.routes_via(n)]
    evidence = [i18n.t("cni.ev.bridge", name="kube-bridge")] if "kube-bridge" in node.by_name else []
    if tunnels:
        return Recognition("kube-router", "ipip", True, "ipip", tunnels[0], None, node.ipv4("kube-bridge"),
                           "bridge", "kube-bridge", "veth",
                           evidence=tuple(evidence + [i18n.t("cni.ev.ipip", dev=tunnels[0])]))
    return Recognition("kube-router", "bgp", False, None, node.uplink(), None, node.ipv4("kube-bridge"), "bridge",
                       "kube-bridge", "veth", evidence=tuple(evidence + [i18n.t("cni.ev.bgp_routes")]))


def _bridge_of_pods(node: _Node) -> Interface | None:
    masters = Counter(i.master for i in node.interfaces if i.kind == "veth" and i.master)
    for name, _ in masters.most_common():
        if node.by_name.get(name) is not None and node.by_name[name].kind == "bridge":
            return node.by_name[name]
    return node.by_name.get("cni0")


def _flannel(node: _Node) -> Recognition | None:
    devices = [n for n in node.by_name if n.startswith("flannel")]
    if not devices and "flannel" not in node.owner_names:
        return None
    bridge = _bridge_of_pods(node)
    gw = bridge.ipv4()[0].ip if bridge is not None and bridge.ipv4() else None
    bname = bridge.name if bridge is not None else "cni0"
    vx = next((node.by_name[n] for n in devices if node.by_name[n].kind == "vxlan"), None)
    if vx is not None:
        return Recognition("flannel", "vxlan", True, "vxlan", vx.name, _tunnel_info(vx), gw, "bridge", bname, "veth",
                           evidence=(f"{vx.name} (vxlan id {(vx.vxlan or {}).get('id')}, port "
                                     f"{(vx.vxlan or {}).get('port')})", i18n.t("cni.ev.bridge", name=bname)))
    wg = next((n for n in devices if n.startswith("flannel-wg")), None)
    if wg:
        return Recognition("flannel", "wireguard", True, "wireguard", wg, None, gw, "bridge", bname, "veth",
                           evidence=(f"{wg} (wireguard)",))
    return Recognition("flannel", "host-gw", False, None, node.uplink(), None, gw, "bridge", bname, "veth",
                       evidence=(i18n.t("cni.ev.bridge", name=bname), i18n.t("cni.ev.flannel_chains")))


def _kindnet(node: _Node) -> Recognition | None:
    """ptp: every host veth carries the node's gateway as /32, and each pod has a ``scope host`` route."""
    ptp = [i for i in node.veths("veth") if not i.master and any(a.prefixlen == 32 for a in i.ipv4())]
    host_routes = [r for r in node.routes if r.scope == "host" and r.dev and r.dev.startswith("veth")]
    if not (ptp and host_routes) and "kindnet" not in node.owner_names:
        return None
    gateways = Counter(a.ip for i in ptp for a in i.ipv4() if a.prefixlen == 32)
    gw = gateways.most_common(1)[0][0] if gateways else None
    evidence = [i18n.t("cni.ev.ptp_veths", count=len(ptp), gateway=gw)] if ptp else []
    evidence += [i18n.t("cni.ev.host_routes", count=len(host_routes))] if host_routes else []
    return Recognition("kindnet", "ptp", False, None, node.uplink(), None, gw, "ptp", "veth*", "veth",
                       evidence=tuple(evidence))


def _bridge(node: _Node) -> Recognition | None:
    bridge = _bridge_of_pods(node)
    if bridge is None:
        return None
    gw = bridge.ipv4()[0].ip if bridge.ipv4() else None
    return Recognition("bridge", "routed", False, None, node.uplink(), None, gw, "bridge", bridge.name, "veth",
                       evidence=(i18n.t("cni.ev.bridge_veths", name=bridge.name), i18n.t("cni.ev.via_nodes")))


def recognize_cluster(nodes: list[Recognition]) -> Recognition:
    """The cluster's CNI: what most nodes say (a node still starting may show nothing yet)."""
    known = [r for r in nodes if r.cni]
    if not known:
        return nodes[0] if nodes else Recognition(cni=None)
    votes = Counter((r.cni, r.mode) for r in known)
    (cni, mode), _ = votes.most_common(1)[0]
    return next(r for r in known if (r.cni, r.mode) == (cni, mode))


MESSAGES = {
    # what the recognition saw (device and chain names stay as the tools print them)
    "cni.ev.cilium_pair": {"en": "cilium_host/cilium_net veth pair", "fr": "paire de veths cilium_host/cilium_net"},
    "cni.ev.bridge": {"en": "bridge {name}", "fr": "pont {name}"},
    "cni.ev.owner": {"en": "{backend} {owner}: {chains}", "fr": "{backend} {owner} : {chains}"},
    "cni.ev.cali_veths": {"en": "{count} cali* veths (MAC ee:ee:ee:ee:ee:ee)",
                          "fr": "{count} veths cali* (MAC ee:ee:ee:ee:ee:ee)"},
    "cni.ev.blackhole": {"en": "blackhole {dst} (own IPAM block)", "fr": "blackhole {dst} (bloc IPAM du nœud)"},
    "cni.ev.ipip": {"en": "IPIP tunnel {dev}", "fr": "tunnel IPIP {dev}"},
    "cni.ev.bgp_routes": {"en": "routes to other pod CIDRs learned by BGP",
                          "fr": "routes vers les CIDR de pods des autres nœuds apprises par BGP"},
    "cni.ev.flannel_chains": {"en": "FLANNEL-* chains, routes via node IPs",
                              "fr": "chaînes FLANNEL-*, routes via les IP des nœuds"},
    "cni.ev.ptp_veths": {"en": "{count} veths carry {gateway}/32 (ptp)", "fr": "{count} veths portent {gateway}/32 (ptp)"},
    "cni.ev.host_routes": {"en": "{count} routes '<pod IP> dev veth* scope host'",
                           "fr": "{count} routes '<IP du pod> dev veth* scope host'"},
    "cni.ev.bridge_veths": {"en": "bridge {name} with the pods' veths", "fr": "pont {name} avec les veths des pods"},
    "cni.ev.via_nodes": {"en": "routes via node IPs", "fr": "routes via les IP des nœuds"},
    "cni.unknown": {"en": "CNI not recognised (no known device, route or chain)",
                    "fr": "CNI non reconnu (aucune interface, route ou chaîne connue)"},
    "cni.summary": {"en": "{cni}{mode}: {transport}; {gateway}", "fr": "{cni}{mode} : {transport} ; {gateway}"},
    "cni.transport.overlay": {
        "en": "cross-node traffic is encapsulated ({encap}) by {device}",
        "fr": "le trafic entre nœuds est encapsulé ({encap}) par {device}"},
    "cni.transport.routed": {
        "en": "cross-node traffic is routed, without encapsulation, out of {device}",
        "fr": "le trafic entre nœuds est routé, sans encapsulation, par {device}"},
    "cni.gateway.ptp": {
        "en": "the pods' gateway {ip} sits on every host-side veth (/32, ptp)",
        "fr": "la passerelle des pods, {ip}, est posée sur chaque veth côté nœud (/32, ptp)"},
    "cni.gateway.bridge": {
        "en": "the pods' gateway {ip} is the bridge {device}",
        "fr": "la passerelle des pods, {ip}, est le pont {device}"},
    "cni.gateway.proxy-arp": {
        "en": "the pods' gateway {ip} belongs to nobody: the node answers its ARP on the {device} veths (proxy ARP)",
        "fr": "la passerelle des pods, {ip}, n'appartient à personne : le nœud répond à l'ARP sur les veths "
              "{device} (proxy ARP)"},
    "cni.gateway.router": {
        "en": "the pods' gateway {ip} is {device}; eBPF programs forward the packets",
        "fr": "la passerelle des pods, {ip}, est {device} ; des programmes eBPF acheminent les paquets"},
    "cni.gateway.unknown": {"en": "the pods' gateway was not found", "fr": "passerelle des pods introuvable"},
}

