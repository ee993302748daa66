"""The service map: what a node's kube-proxy rules do, whatever mode wrote them.

Parsers of ``iptables-save`` and ``nft`` output reduce the rules to a small graph of
:class:`Hop` lists per chain (jump here with this probability, DNAT there), and
:func:`build_service_map` walks it from each service's entry point. The result keeps the chain
names a new connection traverses, because the diagrams show them and :func:`trace` lists them
for a packet. ``share`` is the fraction of *new* connections an endpoint receives: for iptables
the product of the ``--probability`` cascade, for nftables ``1/N`` per ``numgen`` slot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import i18n


@dataclass(slots=True)
class Hop:
    """One rule of a chain, reduced to what decides where a new connection goes.

    ``conditional`` rules depend on the packet (source address, local origin, an affinity
    entry) and are not taken by a plain new connection from a pod; ``side_effect`` rules jump
    to a chain that returns (the masquerade mark) and do not change the destination.
    """

    targets: tuple[tuple[str, float], ...] = ()  # (chain, fraction of what reaches this rule)
    dnat: tuple[str, int] | None = None
    conditional: bool = False
    side_effect: bool = False
    terminal: bool = False  # a goto, or the target list covers all traffic


@dataclass
class EndpointEntry:
    ip: str
    port: int
    share: float
    chains: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ip": self.ip, "port": self.port, "share": round(self.share, 6), "chains": list(self.chains)}


@dataclass
class Frontend:
    """One way into the service: its cluster IP, an external or load-balancer IP, a node port."""

    kind: str  # "cluster_ip", "external_ip", "load_balancer" or "node_port"
    ip: str | None  # None for a node port: any local address of the node
    port: int
    chains: list[str] = field(default_factory=list)
    endpoints: list[EndpointEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ip": self.ip, "port": self.port, "chains": list(self.chains)}


@dataclass
class ServiceEntry:
    service: str  # "ns/name:port" ("ns/name" for an unnamed port)
    protocol: str
    cluster_ip: str | None = None
    port: int | None = None
    node_port: int | None = None
    chains: list[str] = field(default_factory=list)  # cluster-IP path, up to where endpoints branch
    endpoints: list[EndpointEntry] = field(default_factory=list)
    frontends: list[Frontend] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service, "protocol": self.protocol, "cluster_ip": self.cluster_ip,
            "port": self.port, "node_port": self.node_port, "chains": list(self.chains),
            "endpoints": [e.to_json() for e in self.endpoints],
            "frontends": [f.to_json() for f in self.frontends],
        }


@dataclass
class ServiceMap:
    mode: str  # "iptables" or "nftables"
    services: list[ServiceEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "services": [s.to_json() for s in self.services]}

    def get(self, service: str, protocol: str = "tcp") -> ServiceEntry | None:
        return next((s for s in self.services if s.service == service and s.protocol == protocol), None)


@dataclass
class Trace:
    """Where a new connection to ``destination`` goes: the chains, then the candidate DNATs."""

    destination: str
    protocol: str
    service: str | None
    kind: str | None
    chains: list[str]
    targets: list[EndpointEntry]

    def to_json(self) -> dict[str, Any]:
        return {"destination": self.destination, "protocol": self.protocol, "service": self.service,
                "kind": self.kind, "chains": list(self.chains), "targets": [t.to_json() for t in self.targets]}


def resolve(graph: dict[str, list[Hop]], chain: str, mass: float = 1.0, depth: int = 0) -> list[EndpointEntry]:
    """The endpoints reached from ``chain`` by new connections, each with its share and chains."""
    if depth > 16 or chain not in graph:
        return []
    found: list[EndpointEntry] = []
    remaining = mass
    for hop in graph[chain]:
        if hop.dnat:
            return found + [EndpointEntry(hop.dnat[0], hop.dnat[1], remaining, [chain])]
        if hop.conditional or hop.side_effect or not hop.targets:
            continue
        taken = 0.0
        for target, fraction in hop.targets:
            share = remaining * fraction
            taken += share
            for ep in resolve(graph, target, share, depth + 1):
                found.append(EndpointEntry(ep.ip, ep.port, ep.share, [chain, *ep.chains]))
        remaining -= taken
        if hop.terminal or remaining <= 1e-12:
            break
    return found


def split_path(entry_chains: list[str], endpoints: list[EndpointEntry]) -> tuple[list[str], list[EndpointEntry]]:
    """Factor the chains all endpoints share (the service's path) out of each endpoint's chains."""
    if not endpoints:
        return entry_chains, endpoints
    common = list(endpoints[0].chains)
    for ep in endpoints[1:]:
        n = 0
        while n < min(len(common), len(ep.chains)) and common[n] == ep.chains[n]:
            n += 1
        common = common[:n]
    if common and all(len(ep.chains) == len(common) for ep in endpoints):
        common = common[:-1]  # keep at least the endpoint's own chain with the endpoint
    rest = [EndpointEntry(ep.ip, ep.port, ep.share, ep.chains[len(common):]) for ep in endpoints]
    return entry_chains + common, _merge(rest)


def _merge(endpoints: list[EndpointEntry]) -> list[EndpointEntry]:
    merged: dict[tuple[str, int], EndpointEntry] = {}
    for ep in endpoints:
        if (ep.ip, ep.port) in merged:
            merged[(ep.ip, ep.port)].share += ep.share
        else:
            merged[(ep.ip, ep.port)] = ep
    return list(merged.values())


# -- the packet-path trace --------------------------------------------------------------------
_HOOKS = {"iptables": ("PREROUTING", "OUTPUT"), "nftables": ("nat-prerouting", "nat-output")}


def trace(smap: ServiceMap, ip: str, port: int, protocol: str = "tcp", from_host: bool = False) -> Trace:
    """The chains a new connection to ``ip:port/protocol`` traverses and its candidate DNATs.

    ``from_host``: the connection starts on the node itself (the ``OUTPUT`` hook) rather than in
    a pod or outside (``PREROUTING``). An address that matches no service gives no chains and no
    targets. A node port matches whatever ``ip`` is given, as ``--dst-type LOCAL`` does.
    """
    protocol = protocol.lower()
    hooks = _HOOKS.get(smap.mode)      # ipvs, ebpf (the socket LB): their path names its own hook
    hook = [hooks[1 if from_host else 0]] if hooks else []
    candidates = [(svc, fe) for svc in smap.services if svc.protocol == protocol for fe in svc.frontends]
    exact = [(s, f) for s, f in candidates if f.ip == ip and f.port == port]
    node_ports = [(s, f) for s, f in candidates if f.kind == "node_port" and f.port == port]
    match = (exact or node_ports)[0] if exact or node_ports else None
    if match is None:
        return Trace(f"{ip}:{port}", protocol, None, None, [], [])
    svc, fe = match
    return Trace(f"{ip}:{port}", protocol, svc.service, fe.kind, [*hook, *fe.chains],
                 [EndpointEntry(e.ip, e.port, e.share, list(e.chains)) for e in fe.endpoints])


TABLE_WIDTH = 100     # JupyterLab's output area at 1,366 px holds about 110-120 monospace characters
_CHAIN_INDENT = "    "
_CHAIN_SEP = " > "


def format_table(smap: ServiceMap, lang: str | None = None, width: int = TABLE_WIDTH) -> str:
    """A readable table of the service map, one line per endpoint, in the learner's language.

    The chains a packet walks go on their own indented line(s) under each endpoint, cut at the
    chain boundaries (never inside a name) so that no line is wider than ``width``: nftables
    mode's chain names are 60 characters long, and a path on the row ran to 250 columns, which
    JupyterLab wrapped mid-word.
    """
    *columns, chains_title = i18n.t("kubeproxy.table.header", lang).split("|")
    rows: list[tuple[list[str], list[str]]] = []
    for s in smap.services:
        head = [s.service, s.protocol, s.cluster_ip or "-", str(s.port or "-"), str(s.node_port or "-")]
        if not s.endpoints:
            rows.append((head + [i18n.t("kubeproxy.table.no_endpoints", lang), ""], list(s.chains)))
        for n, ep in enumerate(s.endpoints):
            first = head if n == 0 else [""] * len(head)
            chains = (list(s.chains) if n == 0 else ["..."]) + list(ep.chains)
            rows.append((first + [f"{ep.ip}:{ep.port}", i18n.number(ep.share, ".3f", lang)], chains))
    widths = [max(len(r[c]) for r in [columns, *(row for row, _ in rows)]) for c in range(len(columns))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    lines = [line(columns), _CHAIN_INDENT + chains_title]
    for cells, chains in rows:
        lines.append(line(cells))
        lines.extend(_wrap_chains(chains, width))
    total = sum(len(s.endpoints) for s in smap.services)
    lines.append(i18n.t("kubeproxy.table.summary", lang, mode=smap.mode, services=len(smap.services), endpoints=total))
    return "\n".join(lines) + "\n"


def _wrap_chains(chains: list[str], width: int) -> list[str]:
    """``a > b > c`` indented, cut before a `` > `` when the line would pass ``width``; the
    continuation lines start with ``> `` under the first chain name."""
    out: list[str] = []
    current = ""
    for name in chains:
        if not current:
            current = _CHAIN_INDENT + (name if not out else "  > " + name)
        elif len(current) + len(_CHAIN_SEP) + len(name) <= width:
            current += _CHAIN_SEP + name
        else:
            out.append(current)
            current = _CHAIN_INDENT + "  > " + name
    if current:
        out.append(current)
    return out
