"""kube-proxy's nftables mode: the ``table ip kube-proxy`` one full sync leaves behind.

Follows ``syncProxyRules()``/``setupNFTables()`` of pkg/proxy/nftables/proxier.go (NOTES.md §3):
a few fixed chains, verdict maps looked up once per packet (``service-ips``,
``service-nodeports``, ...), and per service port a ``service-``/``local-``/``external-``/
``firewall-`` chain plus one ``endpoint-`` chain per endpoint, load-balanced with
``numgen random mod N vmap`` upstream, with a ``numgen`` cascade in the lab (see
:meth:`_Service.write_dispatch` for why).

The ruleset is first built as data (:class:`NftRuleset`), then written in two forms:
:meth:`NftRuleset.dump` (one ``add`` command per object, as upstream's test fake dumps it, to
compare with the upstream expectation) and :meth:`NftRuleset.transaction` (delete and recreate
the table in one ``nft -f`` transaction, objects before the rules and elements that use them,
for a live node).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from . import names
from .model import Categorized, Endpoint, NodeContext, ProxyInput, ServicePort, categorize_endpoints

TABLE = "kube-proxy"
FAMILY = "ip"
MARK_MASQ = "mark-for-masquerade"
REJECT_CHAIN = "reject-chain"
CLUSTER_IPS = "cluster-ips"
NODEPORT_IPS = "nodeport-ips"
SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NO_ENDPOINT_SERVICES = "no-endpoint-services"
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"
FIREWALL_IPS = "firewall-ips"
_ADDR_PROTO_PORT = "ipv4_addr . inet_proto . inet_service : verdict"
_PROTO_PORT = "inet_proto . inet_service : verdict"


def quoted(text: str) -> str:
    """An nft string literal. nft has no escape inside quotes, and ``;`` outside them starts a
    new command: a name with a quote could add a rule, so it is refused (names are validated
    before they get here, see ``manifests``)."""
    if any(c in '"\\' or ord(c) < 0x20 for c in text):
        raise ValueError(f"refusing an nft comment with a quote or control character: {text!r}")
    return f'"{text}"'


@dataclass
class NftChain:
    name: str
    hook: tuple[str, str, int] | None = None  # (type, hook, priority)
    comment: str | None = None
    rules: list[tuple[str, str | None]] = field(default_factory=list)  # (rule, comment)

    def spec(self) -> str:
        parts = []
        if self.hook:
            kind, hook, priority = self.hook
            parts.append(f"type {kind} hook {hook} priority {priority:d} ;")
        if self.comment:
            parts.append(f'comment {quoted(self.comment)} ;')
        return " { " + " ".join(parts) + " }" if parts else ""


@dataclass
class NftSet:
    name: str
    type: str
    is_map: bool = False
    comment: str | None = None
    flags: tuple[str, ...] = ()
    timeout: int | None = None
    elements: list[str] = field(default_factory=list)

    def spec(self) -> str:
        parts = [f"type {self.type} ;"]
        if self.flags:
            parts.append(f"flags {','.join(self.flags)} ;")
        if self.timeout is not None:
            parts.append(f"timeout {self.timeout}s ;")
        if self.comment:
            parts.append(f'comment {quoted(self.comment)} ;')
        return " { " + " ".join(parts) + " }"


@dataclass
class NftRuleset:
    """The content of ``table ip kube-proxy`` as data: chains, sets and maps with their elements."""

    chains: dict[str, NftChain] = field(default_factory=dict)
    sets: dict[str, NftSet] = field(default_factory=dict)
    comment: str = "rules for kube-proxy"

    def chain(self, name: str, hook: tuple[str, str, int] | None = None, comment: str | None = None) -> NftChain:
        if name not in self.chains:
            self.chains[name] = NftChain(name, hook, comment)
        return self.chains[name]

    def add_rule(self, chain: str, rule: str, comment: str | None = None) -> None:
        self.chain(chain).rules.append((rule, comment))

    def add_set(self, name: str, type_: str, **kw: object) -> NftSet:
        if name not in self.sets:
            self.sets[name] = NftSet(name, type_, **kw)  # type: ignore[arg-type]
        return self.sets[name]

    def add_element(self, name: str, element: str) -> None:
        self.sets[name].elements.append(element)

    # -- writing -----------------------------------------------------------------------------
    def _prefix(self, what: str) -> str:
        return f"add {what} {FAMILY} {TABLE}"

    def _definitions(self) -> list[str]:
        lines = [f'add table {FAMILY} {TABLE} {{ comment {quoted(self.comment)} ; }}']
        for s in self.sets.values():
            lines.append(f"{self._prefix('map' if s.is_map else 'set')} {s.name}{s.spec()}")
        for c in self.chains.values():
            lines.append(f"{self._prefix('chain')} {c.name}{c.spec()}")
        return lines

    def _contents(self) -> list[str]:
        lines = []
        for c in self.chains.values():
            for rule, comment in c.rules:
                suffix = f' comment {quoted(comment)}' if comment else ""
                lines.append(f"{self._prefix('rule')} {c.name} {rule}{suffix}")
        for s in self.sets.values():
            lines += [f"{self._prefix('element')} {s.name} {{ {e} }}" for e in s.elements]
        return lines

    def dump(self) -> str:
        """One ``add`` line per object (knftables ``Fake.Dump()`` style): compare with upstream."""
        return "\n".join(self._definitions() + self._contents()) + "\n"

    def transaction(self) -> str:
        """An ``nft -f`` transaction that deletes the table (if any) and recreates it whole."""
        head = [f"add table {FAMILY} {TABLE}", f"delete table {FAMILY} {TABLE}"]
        lines = head + self._definitions() + self._contents()
        for line in lines:      # one command per line: a control character would start another
            if any(ord(c) < 0x20 and c != "\t" for c in line):
                raise ValueError(f"refusing a control character in an nft command: {line!r}")
        return "\n".join(lines) + "\n"


def render_nftables(inp: ProxyInput, ctx: NodeContext) -> NftRuleset:
    """The ``ip kube-proxy`` table of one full sync, as data (see :class:`NftRuleset`)."""
    rs = NftRuleset()
    _setup(rs, ctx)
    for info in inp.sorted_services():
        eps = categorize_endpoints(inp.endpoints_for(info), info)
        _Service(rs, info, eps, ctx).write()
    return rs


_BASE_CHAINS = [
    ("filter-prerouting-pre-dnat", ("filter", "prerouting", -110)),
    ("filter-output-pre-dnat", ("filter", "output", -110)),
    ("filter-forward", ("filter", "forward", 0)),
    ("filter-input", ("filter", "input", 0)),
    ("filter-output", ("filter", "output", 0)),
    ("nat-output", ("nat", "output", -100)),
    ("nat-postrouting", ("nat", "postrouting", 100)),
    ("nat-prerouting", ("nat", "prerouting", -100)),
]
_JUMPS = [
    ("filter-input", "ct state new jump nodeport-endpoints-check"),
    ("filter-input", "ct state new jump service-endpoints-check"),
    ("filter-forward", "ct state new jump service-endpoints-check"),
    ("filter-output", "ct state new jump service-endpoints-check"),
    ("filter-prerouting-pre-dnat", "ct state new jump firewall-check"),
    ("filter-output-pre-dnat", "ct state new jump firewall-check"),
    ("nat-output", "jump services"),
    ("nat-prerouting", "jump services"),
    ("nat-postrouting", "jump masquerading"),
    ("filter-forward", "ct state new jump cluster-ips-check"),
    ("filter-output", "ct state new jump cluster-ips-check"),
]


def _setup(rs: NftRuleset, ctx: NodeContext) -> None:
    """``setupNFTables``: the fixed sets, maps, chains and rules every sync starts from."""
    rs.add_set(CLUSTER_IPS, "ipv4_addr", comment="Active ClusterIPs")
    if ctx.node_ips:
        rs.add_set(NODEPORT_IPS, "ipv4_addr", comment="IPs that accept NodePort traffic")
    rs.add_set(FIREWALL_IPS, _ADDR_PROTO_PORT, is_map=True,
               comment="destinations that are subject to LoadBalancerSourceRanges")
    rs.add_set(NO_ENDPOINT_NODEPORTS, _PROTO_PORT, is_map=True,
               comment="vmap to drop or reject packets to service nodeports with no endpoints")
    rs.add_set(NO_ENDPOINT_SERVICES, _ADDR_PROTO_PORT, is_map=True,
               comment="vmap to drop or reject packets to services with no endpoints")
    rs.add_set(SERVICE_IPS, _ADDR_PROTO_PORT, is_map=True, comment="ClusterIP, ExternalIP and LoadBalancer IP traffic")
    rs.add_set(SERVICE_NODEPORTS, _PROTO_PORT, is_map=True, comment="NodePort traffic")
    for name, hook in _BASE_CHAINS:
        rs.chain(name, hook)
    for name in ("cluster-ips-check", "firewall-check", MARK_MASQ, "masquerading", "nodeport-endpoints-check",
                 "services", "service-endpoints-check"):
        rs.chain(name)
    rs.chain(REJECT_CHAIN, comment="helper for @no-endpoint-services / @no-endpoint-nodeports")
    for chain, rule in _JUMPS:
        rs.add_rule(chain, rule)
    mark = ctx.mark
    rs.add_rule(MARK_MASQ, f"mark set mark or {mark}")
    rs.add_rule("masquerading", f"mark and {mark} == 0 return")
    rs.add_rule("masquerading", f"mark set mark xor {mark}")
    rs.add_rule("masquerading", "masquerade fully-random")
    rs.add_rule("cluster-ips-check", "ip daddr @cluster-ips reject", "Reject traffic to invalid ports of ClusterIPs")
    if ctx.service_cidrs:
        cidrs = ", ".join(ctx.service_cidrs)
        rs.add_rule("cluster-ips-check", f"ip daddr {{ {cidrs} }} drop", "Drop traffic to unallocated ClusterIPs")
    rs.add_rule(REJECT_CHAIN, "reject")
    rs.add_rule("firewall-check", "ip daddr . meta l4proto . th dport vmap @firewall-ips")
    rs.add_rule("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services")
    rs.add_rule("services", "ip daddr . meta l4proto . th dport vmap @service-ips")
    if ctx.node_ips:
        rs.add_rule("nodeport-endpoints-check", "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports")
        rs.add_rule("services", "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports")
        for ip in ctx.node_ips:
            rs.add_element(NODEPORT_IPS, ip)
    else:  # --nodeport-addresses matches everything: any local address except localhost
        rs.add_rule("nodeport-endpoints-check", "ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports")
        rs.add_rule("services", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports")


class _Service:
    """Writes one service port: map elements always, chains only when it has endpoints."""

    def __init__(self, rs: NftRuleset, info: ServicePort, eps: Categorized, ctx: NodeContext) -> None:
        self.rs, self.info, self.eps, self.ctx = rs, info, eps, ctx
        base = names.nft_service_base(info.namespace, info.name, info.proto, info.port_name)
        self.cluster_chain, self.local_chain = f"service-{base}", f"local-{base}"
        self.external_chain, self.firewall_chain = f"external-{base}", f"firewall-{base}"
        has = eps.has_any
        self.has_internal = has and not (info.internal_policy_local and not eps.local)
        self.has_external = has and not (info.external_policy_local and not eps.local)
        self.internal_chain = self.local_chain if info.internal_policy_local else self.cluster_chain
        self.external_policy_chain = self.local_chain if info.external_policy_local else self.cluster_chain
        self.uses_fw = bool(info.load_balancer_source_ranges and info.load_balancer_ips)
        self.no_ep_verdict = f"goto {REJECT_CHAIN}" if not has else "drop"

    def endpoint_base(self, ep: Endpoint) -> str:
        i = self.info
        return names.nft_endpoint_base(i.namespace, i.name, i.proto, i.port_name, ep.ip, ep.port)

    def key(self, ip: str, port: int) -> str:
        return f"{ip} . {self.info.proto} . {port}"

    def no_endpoint(self, map_name: str, key: str) -> None:
        self.rs.add_element(map_name, f'{key} comment {quoted(self.info.name_string)} : {self.no_ep_verdict}')

    def write(self) -> None:
        self.write_elements()
        if self.eps.has_any:
            self.write_chains()

    def write_elements(self) -> None:
        i, rs, has = self.info, self.rs, self.eps.has_any
        rs.add_element(CLUSTER_IPS, i.cluster_ip)
        if self.has_internal:
            rs.add_element(SERVICE_IPS, f"{self.key(i.cluster_ip, i.port)} : goto {self.internal_chain}")
        else:
            self.no_endpoint(NO_ENDPOINT_SERVICES, self.key(i.cluster_ip, i.port))
        for ip in i.external_ips:
            if has:
                rs.add_element(SERVICE_IPS, f"{self.key(ip, i.port)} : goto {self.external_chain}")
            if not self.has_external:
                self.no_endpoint(NO_ENDPOINT_SERVICES, self.key(ip, i.port))
        for ip in i.load_balancer_ips:
            if has:
                rs.add_element(SERVICE_IPS, f"{self.key(ip, i.port)} : goto {self.external_chain}")
            if self.uses_fw:
                rs.add_element(FIREWALL_IPS, f"{self.key(ip, i.port)} : goto {self.firewall_chain}")
            if not self.has_external:
                self.no_endpoint(NO_ENDPOINT_SERVICES, self.key(ip, i.port))
        if i.node_port:
            key = f"{i.proto} . {i.node_port}"
            if has:
                rs.add_element(SERVICE_NODEPORTS, f"{key} : goto {self.external_chain}")
            if not self.has_external:
                self.no_endpoint(NO_ENDPOINT_NODEPORTS, key)

    def write_chains(self) -> None:
        i, eps = self.info, self.eps
        if self.uses_fw:
            self.write_firewall()
        if self.has_internal:
            if self.ctx.masquerade_all:
                self.rs.add_rule(self.internal_chain, f"ip daddr {i.cluster_ip} jump {MARK_MASQ}")
            elif self.ctx.cluster_cidr:
                self.rs.add_rule(self.internal_chain,
                                 f"ip daddr {i.cluster_ip} ip saddr != {self.ctx.cluster_cidr} jump {MARK_MASQ}")
        if i.externally_accessible:
            self.write_external()
        if eps.cluster and i.uses_cluster_endpoints:
            self.write_dispatch(self.cluster_chain, eps.cluster)
        if eps.local and i.uses_local_endpoints:
            self.write_dispatch(self.local_chain, eps.local)
        for ep in eps.reachable:
            self.write_endpoint(ep)

    def write_external(self) -> None:
        rs, chain = self.rs, self.external_chain
        rs.chain(chain)
        if not self.info.external_policy_local:
            rs.add_rule(chain, f"jump {MARK_MASQ}")
        else:
            if self.ctx.cluster_cidr:
                rs.add_rule(chain, f"ip saddr {self.ctx.cluster_cidr} goto {self.cluster_chain}", "short-circuit pod traffic")
            rs.add_rule(chain, f"fib saddr type local jump {MARK_MASQ}", "masquerade local traffic")
            rs.add_rule(chain, f"fib saddr type local goto {self.cluster_chain}", "short-circuit local traffic")
        if self.has_external:
            rs.add_rule(chain, f"goto {self.external_policy_chain}")

    def write_firewall(self) -> None:
        sources = list(self.info.load_balancer_source_ranges)
        node_ip = self.ctx.primary_node_ip
        if node_ip and any(ipaddress.ip_address(node_ip) in ipaddress.ip_network(c) for c in sources):
            sources += list(self.info.load_balancer_ips)
        self.rs.chain(self.firewall_chain)
        self.rs.add_rule(self.firewall_chain, f"ip saddr != {{ {' , '.join(sources)} }} drop")

    def write_dispatch(self, chain: str, endpoints: list[Endpoint]) -> None:
        """Affinity lookups first, then the pick of an endpoint: each gets 1/N of new connections.

        Upstream writes one ``numgen random mod N vmap { 0 : goto endpoint-…, … }`` rule
        (``writeServiceToEndpointRules`` in pkg/proxy/nftables/proxier.go). Its ``{ … }`` is an
        anonymous map, one per service chain, and the kernel names each new anonymous map
        ``__map%d`` by scanning every set of the table (nf_tables_api.c,
        ``nf_tables_set_alloc_name``): loading 10,000 services costs 50 million scans (107 s
        for one ``nft -f`` transaction, 14 s in batches; 2.6 s without the maps, bench/
        kube_proxy_load.py), and nft 1.0.6 lists all those maps into
        its cache before each later transaction. The lab departs here (``ctx.endpoint_vmap``
        False, the default): the same draw as a cascade, as iptables mode does with
        ``--probability``: endpoint i of N is taken with probability 1/(N-i) by
        ``numgen random mod N-i 0 goto endpoint-…``, the last by a plain ``goto``. Chains, names,
        maps and the per-packet lookup into ``service-ips`` are upstream's; only the first packet
        of a connection walks the (short) cascade. ``ctx.endpoint_vmap`` writes upstream's rule.
        """
        self.rs.chain(chain)
        if self.info.affinity:
            for ep in endpoints:
                base = self.endpoint_base(ep)
                self.rs.add_rule(chain, f"ip saddr @affinity-{base} goto endpoint-{base}")
        targets = [f"endpoint-{self.endpoint_base(ep)}" for ep in endpoints]
        if self.ctx.endpoint_vmap:
            slots = " , ".join(f"{n} : goto {t}" for n, t in enumerate(targets))
            self.rs.add_rule(chain, f"numgen random mod {len(targets)} vmap {{ {slots} }}")
            return
        for i, target in enumerate(targets[:-1]):
            self.rs.add_rule(chain, f"numgen random mod {len(targets) - i} 0 goto {target}")
        self.rs.add_rule(chain, f"goto {targets[-1]}")

    def write_endpoint(self, ep: Endpoint) -> None:
        base = self.endpoint_base(ep)
        chain = f"endpoint-{base}"
        self.rs.chain(chain)
        if self.info.affinity:
            self.rs.add_set(f"affinity-{base}", "ipv4_addr", flags=("dynamic", "timeout"),
                            timeout=self.info.session_affinity_timeout)
        self.rs.add_rule(chain, f"ip saddr {ep.ip} jump {MARK_MASQ}")
        if self.info.affinity:
            self.rs.add_rule(chain, f"update @affinity-{base} {{ ip saddr }}")
        self.rs.add_rule(chain, f"meta l4proto {self.info.proto} dnat to {ep}")
