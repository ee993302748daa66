"""kube-proxy's iptables mode: the ``iptables-restore`` input one full sync writes.

This follows ``syncProxyRules()`` of pkg/proxy/iptables/proxier.go (NOTES.md §2) rule for rule,
argument for argument, so the output can be compared with upstream's own test expectations and
loaded with ``iptables-restore --noflush`` into a node's namespace. Two things differ on
purpose: services are written in a sorted order (kube-proxy uses Go's random map order), so that
the same input always gives the same bytes; and only full syncs are written (no partial sync).

The jump rules from the built-in chains are not part of the restore input: kube-proxy ensures
them one by one (``iptables -C``/``-I``); :func:`jump_rules` lists them.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import cached_property

from . import names
from .model import Categorized, Endpoint, NodeContext, ProxyInput, ServicePort, categorize_endpoints

KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"
KUBE_FIREWALL = "KUBE-FIREWALL"
NODEPORTS_LAST_RULE_COMMENT = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"'
LOCALHOST_NPS_COUNTER = "localhost_nps_accepted_pkts"
INVALID_DROPPED_COUNTER = "ct_state_invalid_dropped_pkts"


@dataclass(frozen=True)
class JumpRule:
    """A rule kube-proxy keeps at the top of a built-in chain (``EnsureRule(Prepend, ...)``)."""

    table: str
    chain: str
    target: str
    comment: str = ""
    extra: tuple[str, ...] = ()

    def args(self) -> list[str]:
        comment = ["-m", "comment", "--comment", self.comment] if self.comment else []
        return [*self.extra, *comment, "-j", self.target]

    def check_command(self) -> list[str]:
        return ["iptables", "-w", "-t", self.table, "-C", self.chain, *self.args()]

    def insert_command(self) -> list[str]:
        return ["iptables", "-w", "-t", self.table, "-I", self.chain, "1", *self.args()]


_NEW = ("-m", "conntrack", "--ctstate", "NEW")
_JUMPS = [
    ("filter", KUBE_EXTERNAL_SERVICES, "INPUT", "kubernetes externally-visible service portals", _NEW),
    ("filter", KUBE_EXTERNAL_SERVICES, "FORWARD", "kubernetes externally-visible service portals", _NEW),
    ("filter", KUBE_NODEPORTS, "INPUT", "kubernetes health check service ports", ()),
    ("filter", KUBE_SERVICES, "FORWARD", "kubernetes service portals", _NEW),
    ("filter", KUBE_SERVICES, "OUTPUT", "kubernetes service portals", _NEW),
    ("filter", KUBE_FORWARD, "FORWARD", "kubernetes forwarding rules", ()),
    ("filter", KUBE_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall", _NEW),
    ("filter", KUBE_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall", _NEW),
    ("filter", KUBE_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall", _NEW),
    ("nat", KUBE_SERVICES, "OUTPUT", "kubernetes service portals", ()),
    ("nat", KUBE_SERVICES, "PREROUTING", "kubernetes service portals", ()),
    ("nat", KUBE_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules", ()),
]


def jump_rules(ctx: NodeContext) -> list[JumpRule]:
    """The jumps from built-in chains, in the order kube-proxy ensures them.

    Each is inserted at position 1, so on the node the last one ends up on top
    (see NOTES.md §2.2 for what ``iptables-save`` then shows).
    """
    rules = [JumpRule(table, chain, target, comment, extra) for table, target, chain, comment, extra in _JUMPS]
    if ctx.localhost_node_ports:  # kubelet's KUBE-FIREWALL, IPv4 only
        rules += [JumpRule("filter", "INPUT", KUBE_FIREWALL), JumpRule("filter", "OUTPUT", KUBE_FIREWALL)]
    return rules


def probability(n: int) -> str:
    """``computeProbability``: 1/n with 10 decimals, as kube-proxy writes it."""
    return "%0.10f" % (1.0 / n)


@dataclass
class _Buffers:
    filter_chains: list[str] = field(default_factory=list)
    filter_rules: list[str] = field(default_factory=list)
    nat_chains: list[str] = field(default_factory=list)
    nat_rules: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = ["*filter", *self.filter_chains, *self.filter_rules, "COMMIT",
                 "*nat", *self.nat_chains, *self.nat_rules, "COMMIT"]
        return "\n".join(lines) + "\n"


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _line(*args: str) -> str:
    """One rule line. Every string reaching here comes from validated names (``manifests``);
    a control character would still end the line and start a rule of its own, so it is refused.
    (Searched once in the joined line: a per-character loop was half the render's CPU.)"""
    line = " ".join(a for a in args if a)
    bad = _CONTROL.search(line)
    if bad:
        arg = next(a for a in args if a and _CONTROL.search(a))
        raise ValueError(f"refusing a control character in an iptables rule: {arg!r}")
    return line


def _chain(name: str) -> str:
    return f":{name} - [0:0]"


@dataclass(frozen=True)
class _Svc:
    """One service port with the chain names and endpoint sets the sync decides on.

    Its name string and chain names are computed once, as upstream's ``newServiceInfo`` stores
    ``nameString`` and the policy/external/firewall chain names "for performance reasons", and
    ``newEndpointInfo`` each endpoint's chain name (pkg/proxy/iptables/proxier.go,
    ``servicePortInfo``, ``endpointInfo``)."""

    info: ServicePort
    eps: Categorized
    ctx: NodeContext
    large: bool

    @cached_property
    def spn(self) -> str:
        return self.info.name_string

    @cached_property
    def proto(self) -> str:
        return self.info.proto

    @cached_property
    def _hash(self) -> str:
        return names.port_proto_hash(self.spn, self.proto)

    def chain(self, kind: str) -> str:
        return f"KUBE-{kind.upper()}-{self._hash}"

    @cached_property
    def _seps(self) -> dict[Endpoint, str]:
        return {}

    def sep(self, ep: Endpoint) -> str:
        name = self._seps.get(ep)
        if name is None:
            name = self._seps[ep] = names.sep_chain(self.spn, self.proto, str(ep))
        return name

    def comment(self, text: str) -> tuple[str, ...]:
        """``appendServiceCommentLocked``: comments on SEP rules are dropped in large clusters."""
        return () if self.large else ("-m", "comment", "--comment", text)

    @property
    def has_endpoints(self) -> bool:
        return self.eps.has_any

    @property
    def has_internal(self) -> bool:
        return self.has_endpoints and not (self.info.internal_policy_local and not self.eps.local)

    @property
    def has_external(self) -> bool:
        return self.has_endpoints and not (self.info.external_policy_local and not self.eps.local)

    @property
    def internal_chain(self) -> str:
        return self.chain("svl") if self.info.internal_policy_local else self.chain("svc")

    @property
    def external_policy_chain(self) -> str:
        return self.chain("svl") if self.info.external_policy_local else self.chain("svc")

    @property
    def uses_fw(self) -> bool:
        i = self.info
        return self.has_endpoints and bool(i.load_balancer_ips) and bool(i.load_balancer_source_ranges)

    def filter_verdict(self, external: bool) -> tuple[str, str]:
        """(target, comment) of the filter rule for traffic that has no endpoint to go to."""
        if not self.has_endpoints:
            return "REJECT", f'"{self.spn} has no endpoints"'
        return "DROP", f'"{self.spn} has no local endpoints"'


def render_iptables(inp: ProxyInput, ctx: NodeContext) -> str:
    """The full ``iptables-restore`` input (filter and nat tables) of one full sync."""
    buf = _Buffers()
    _write_fixed(buf, ctx)
    large = inp.total_endpoints() > ctx.large_cluster_threshold
    for info in inp.sorted_services():
        svc = _Svc(info, categorize_endpoints(inp.endpoints_for(info), info), ctx, large)
        _write_frontends(buf, svc)
        _write_service_chains(buf, svc)
    _write_trailer(buf, ctx)
    return buf.text()


def _write_fixed(buf: _Buffers, ctx: NodeContext) -> None:
    for name in (KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL):
        buf.filter_chains.append(_chain(name))
    for name in (KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ):
        buf.nat_chains.append(_chain(name))
    mark = ctx.mark
    buf.nat_rules += [
        _line("-A", KUBE_POSTROUTING, "-m", "mark", "!", "--mark", f"{mark}/{mark}", "-j", "RETURN"),
        _line("-A", KUBE_POSTROUTING, "-j", "MARK", "--xor-mark", mark),
        _line("-A", KUBE_POSTROUTING, "-m", "comment", "--comment", '"kubernetes service traffic requiring SNAT"',
              "-j", "MASQUERADE", "--random-fully" if ctx.random_fully else ""),
        _line("-A", KUBE_MARK_MASQ, "-j", "MARK", "--or-mark", mark),
    ]
    if ctx.localhost_node_ports:
        buf.filter_chains.append(_chain(KUBE_FIREWALL))
        buf.filter_rules.append(_line(
            "-A", KUBE_FIREWALL, "-m", "comment", "--comment", '"block incoming localnet connections"',
            "-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8",
            "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP"))


def _match(svc: _Svc, dest: str | None, port: int) -> tuple[str, ...]:
    p = svc.proto
    return ("-m", p, "-p", p, *(("-d", dest) if dest else ()), "--dport", str(port))


def _write_frontends(buf: _Buffers, svc: _Svc) -> None:
    """Rules in KUBE-SERVICES / KUBE-NODEPORTS / KUBE-EXTERNAL-SERVICES / KUBE-PROXY-FIREWALL."""
    i, spn = svc.info, svc.spn
    ext_chain = svc.chain("ext")
    if svc.has_internal:
        buf.nat_rules.append(_line("-A", KUBE_SERVICES, "-m", "comment", "--comment", f'"{spn} cluster IP"',
                                   *_match(svc, i.cluster_ip, i.port), "-j", svc.internal_chain))
    else:
        target, comment = svc.filter_verdict(external=False)
        buf.filter_rules.append(_line("-A", KUBE_SERVICES, "-m", "comment", "--comment", comment,
                                      *_match(svc, i.cluster_ip, i.port), "-j", target))
    ext_target, ext_comment = svc.filter_verdict(external=True)
    for ip in i.external_ips:
        if svc.has_endpoints:
            buf.nat_rules.append(_line("-A", KUBE_SERVICES, "-m", "comment", "--comment", f'"{spn} external IP"',
                                       *_match(svc, ip, i.port), "-j", ext_chain))
        if not svc.has_external:
            buf.filter_rules.append(_line("-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", ext_comment,
                                          *_match(svc, ip, i.port), "-j", ext_target))
    lb_chain = svc.chain("fw") if svc.uses_fw else ext_chain
    for ip in i.load_balancer_ips:
        if svc.has_endpoints:
            buf.nat_rules.append(_line("-A", KUBE_SERVICES, "-m", "comment", "--comment", f'"{spn} loadbalancer IP"',
                                       *_match(svc, ip, i.port), "-j", lb_chain))
        if svc.uses_fw:
            buf.filter_rules.append(_line(
                "-A", KUBE_PROXY_FIREWALL, "-m", "comment", "--comment",
                f'"{spn} traffic not accepted by {svc.chain("fw")}"', *_match(svc, ip, i.port), "-j", "DROP"))
    if not svc.has_external:
        for ip in i.load_balancer_ips:
            buf.filter_rules.append(_line("-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", ext_comment,
                                          *_match(svc, ip, i.port), "-j", ext_target))
    _write_node_ports(buf, svc, ext_chain, ext_target, ext_comment)


def _write_node_ports(buf: _Buffers, svc: _Svc, ext_chain: str, target: str, comment: str) -> None:
    i, p, ctx = svc.info, svc.proto, svc.ctx
    if i.node_port:
        if svc.has_endpoints:
            if ctx.localhost_node_ports and ctx.nfacct:
                buf.nat_rules.append(_line(
                    "-A", KUBE_NODEPORTS, "-m", "comment", "--comment", svc.spn, *_match(svc, "127.0.0.0/8", i.node_port),
                    "-m", "nfacct", "--nfacct-name", LOCALHOST_NPS_COUNTER, "-j", ext_chain))
            buf.nat_rules.append(_line("-A", KUBE_NODEPORTS, "-m", "comment", "--comment", svc.spn,
                                       *_match(svc, None, i.node_port), "-j", ext_chain))
        if not svc.has_external:
            buf.filter_rules.append(_line(
                "-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment", comment,
                "-m", "addrtype", "--dst-type", "LOCAL", "-m", p, "-p", p, "--dport", str(i.node_port), "-j", target))
    if i.health_check_node_port:
        buf.filter_rules.append(_line(
            "-A", KUBE_NODEPORTS, "-m", "comment", "--comment", f'"{svc.spn} health check node port"',
            "-m", "tcp", "-p", "tcp", "--dport", str(i.health_check_node_port), "-j", "ACCEPT"))


def _write_service_chains(buf: _Buffers, svc: _Svc) -> None:
    """The per-service chains: masquerade rule, EXT, FW, SVC/SVL dispatch and SEP chains."""
    i, ctx = svc.info, svc.ctx
    if svc.has_internal and (ctx.masquerade_all or ctx.cluster_cidr):
        not_local = () if ctx.masquerade_all else ("!", "-s", ctx.cluster_cidr or "")
        buf.nat_rules.append(_line("-A", svc.internal_chain, "-m", "comment", "--comment", f'"{svc.spn} cluster IP"',
                                   *_match(svc, i.cluster_ip, i.port), *not_local, "-j", KUBE_MARK_MASQ))
    if svc.has_endpoints and i.externally_accessible:
        _write_ext_chain(buf, svc)
    if svc.uses_fw:
        _write_fw_chain(buf, svc)
    if svc.eps.cluster and i.uses_cluster_endpoints:
        buf.nat_chains.append(_chain(svc.chain("svc")))
        _write_dispatch(buf, svc, svc.chain("svc"), svc.eps.cluster)
    if svc.eps.local and i.uses_local_endpoints:
        buf.nat_chains.append(_chain(svc.chain("svl")))
        _write_dispatch(buf, svc, svc.chain("svl"), svc.eps.local)
    for ep in svc.eps.reachable:
        _write_sep(buf, svc, ep)


def _write_ext_chain(buf: _Buffers, svc: _Svc) -> None:
    ext, spn, ctx = svc.chain("ext"), svc.spn, svc.ctx
    buf.nat_chains.append(_chain(ext))
    if not svc.info.external_policy_local:
        buf.nat_rules.append(_line("-A", ext, "-m", "comment", "--comment",
                                   f'"masquerade traffic for {spn} external destinations"', "-j", KUBE_MARK_MASQ))
    else:
        svc_chain = svc.chain("svc")
        if ctx.cluster_cidr:
            buf.nat_rules.append(_line("-A", ext, "-m", "comment", "--comment",
                                       f'"pod traffic for {spn} external destinations"',
                                       "-s", ctx.cluster_cidr, "-j", svc_chain))
        buf.nat_rules.append(_line("-A", ext, "-m", "comment", "--comment",
                                   f'"masquerade LOCAL traffic for {spn} external destinations"',
                                   "-m", "addrtype", "--src-type", "LOCAL", "-j", KUBE_MARK_MASQ))
        buf.nat_rules.append(_line("-A", ext, "-m", "comment", "--comment",
                                   f'"route LOCAL traffic for {spn} external destinations"',
                                   "-m", "addrtype", "--src-type", "LOCAL", "-j", svc_chain))
    if svc.has_external:
        buf.nat_rules.append(_line("-A", ext, "-j", svc.external_policy_chain))


def _write_fw_chain(buf: _Buffers, svc: _Svc) -> None:
    fw, ext = svc.chain("fw"), svc.chain("ext")
    buf.nat_chains.append(_chain(fw))
    head = ("-A", fw, "-m", "comment", "--comment", f'"{svc.spn} loadbalancer IP"')
    node_ip = svc.ctx.primary_node_ip
    allow_from_node = False
    for cidr in svc.info.load_balancer_source_ranges:
        buf.nat_rules.append(_line(*head, "-s", cidr, "-j", ext))
        if node_ip and ipaddress.ip_address(node_ip) in ipaddress.ip_network(cidr):
            allow_from_node = True
    if allow_from_node:  # the VIP is local: node-to-VIP traffic loops back with the VIP as source
        for ip in svc.info.load_balancer_ips:
            buf.nat_rules.append(_line(*head, "-s", ip, "-j", ext))
    buf.nat_rules.append(_line("-A", fw, "-m", "comment", "--comment",
                               f'"other traffic to {svc.spn} will be dropped by KUBE-PROXY-FIREWALL"'))


def _write_dispatch(buf: _Buffers, svc: _Svc, chain: str, endpoints: list[Endpoint]) -> None:
    """``writeServiceToEndpointRules``: affinity checks, then the probability cascade."""
    if svc.info.affinity:
        for ep in endpoints:
            buf.nat_rules.append(_line("-A", chain, *svc.comment(f'"{svc.spn} -> {ep}"'),
                                       "-m", "recent", "--name", svc.sep(ep), "--rcheck",
                                       "--seconds", str(svc.info.session_affinity_timeout), "--reap",
                                       "-j", svc.sep(ep)))
    n = len(endpoints)
    for idx, ep in enumerate(endpoints):
        stat = ("-m", "statistic", "--mode", "random", "--probability", probability(n - idx)) if idx < n - 1 else ()
        buf.nat_rules.append(_line("-A", chain, *svc.comment(f'"{svc.spn} -> {ep}"'), *stat, "-j", svc.sep(ep)))


def _write_sep(buf: _Buffers, svc: _Svc, ep: Endpoint) -> None:
    sep, p = svc.sep(ep), svc.proto
    buf.nat_chains.append(_chain(sep))
    head = ("-A", sep, *svc.comment(svc.spn))
    buf.nat_rules.append(_line(*head, "-s", ep.ip, "-j", KUBE_MARK_MASQ))
    recent = ("-m", "recent", "--name", sep, "--set") if svc.info.affinity else ()
    buf.nat_rules.append(_line(*head, *recent, "-m", p, "-p", p, "-j", "DNAT", "--to-destination", str(ep)))


def _write_trailer(buf: _Buffers, ctx: NodeContext) -> None:
    not_localhost = () if ctx.localhost_node_ports else ("!", "-d", "127.0.0.0/8")
    buf.nat_rules.append(_line("-A", KUBE_SERVICES, "-m", "comment", "--comment", NODEPORTS_LAST_RULE_COMMENT,
                               "-m", "addrtype", "--dst-type", "LOCAL", *not_localhost, "-j", KUBE_NODEPORTS))
    if not ctx.conntrack_tcp_be_liberal:
        counter = ("-m", "nfacct", "--nfacct-name", INVALID_DROPPED_COUNTER) if ctx.nfacct else ()
        buf.filter_rules.append(_line("-A", KUBE_FORWARD, "-m", "conntrack", "--ctstate", "INVALID",
                                      *counter, "-j", "DROP"))
    mark = ctx.mark
    buf.filter_rules += [
        _line("-A", KUBE_FORWARD, "-m", "comment", "--comment", '"kubernetes forwarding rules"',
              "-m", "mark", "--mark", f"{mark}/{mark}", "-j", "ACCEPT"),
        _line("-A", KUBE_FORWARD, "-m", "comment", "--comment", '"kubernetes forwarding conntrack rule"',
              "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"),
    ]
