"""Read ``iptables-save`` output (or kube-proxy's own restore input) back into a service map.

The real tool prints rules differently from what kube-proxy wrote (NOTES.md §2.7): options are
re-ordered (``-s``/``-d``/``-p`` first), addresses gain ``/32``, comments are always quoted,
probabilities have 11 decimals, ``--or-mark`` becomes ``--set-xmark``. So rules are read as
option sets, never compared as strings. The parser takes text and does not care where it came
from (a recorded file, ``docker exec``, a node of the embedded lab).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import BadInput
from .servicemap import Frontend, Hop, ServiceEntry, ServiceMap, resolve, split_path

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s+")
_SIDE_EFFECT_TARGETS = {"KUBE-MARK-MASQ", "KUBE-MARK-DROP", "MARK", "RETURN", "ACCEPT", "LOG"}


@dataclass
class IptRule:
    """One ``-A`` line as options: ``opts["-d"] == ("172.30.0.41/32", False)``; True = negated."""

    table: str
    chain: str
    opts: dict[str, tuple[str, bool]]
    line: int

    def get(self, name: str) -> str | None:
        value = self.opts.get(name)
        return value[0] if value else None

    def negated(self, name: str) -> bool:
        return bool(self.opts.get(name, ("", False))[1])

    @property
    def target(self) -> str | None:
        return self.get("-j") or self.get("-g")

    @property
    def comment(self) -> str | None:
        return self.get("--comment")


@dataclass
class IptablesDump:
    """Tables → chains → rules, in the order they were printed."""

    chains: dict[str, dict[str, list[IptRule]]] = field(default_factory=dict)

    def rules(self, table: str, chain: str) -> list[IptRule]:
        return self.chains.get(table, {}).get(chain, [])


def _tokens(line: str) -> list[str]:
    if '"' not in line:
        return line.split()
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(line)]


def _options(tokens: list[str]) -> dict[str, tuple[str, bool]]:
    """Options and their values; a value runs until the next option (``--tcp-flags A B`` works)."""
    opts: dict[str, tuple[str, bool]] = {}
    negate, i = False, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            negate, i = True, i + 1
            continue
        j = i + 1
        while j < len(tokens) and tokens[j] != "!" and not (tokens[j].startswith("-") and len(tokens[j]) > 1
                                                          and not tokens[j][1].isdigit()):
            j += 1
        if tok == "-m":  # keep every module, they repeat
            opts[f"-m {tokens[i + 1] if i + 1 < len(tokens) else ''}"] = ("", False)
        elif tok not in opts:
            opts[tok] = (" ".join(tokens[i + 1:j]), negate)
        negate, i = False, j
    return opts


def parse_iptables_save(text: str, source: str = "<iptables-save>") -> IptablesDump:
    """Parse ``iptables-save`` (with or without ``-c`` counters) or ``iptables-restore`` input."""
    dump = IptablesDump()
    table: str | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = _COUNTERS.sub("", raw.strip())
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            dump.chains.setdefault(table, {})
            continue
        if table is None:
            raise BadInput("kubeproxy.bad_iptables_line", source=source, line=n, reason="no *table line before it")
        if line.startswith(":"):
            dump.chains[table].setdefault(line[1:].split()[0], [])
            continue
        tokens = _tokens(line)
        if tokens[0] in ("-X", "-F", "-N", "-Z") and len(tokens) >= 2:
            if tokens[0] == "-X":
                dump.chains[table].pop(tokens[1], None)
            continue
        if tokens[0] not in ("-A", "-I") or len(tokens) < 2:
            raise BadInput("kubeproxy.bad_iptables_line", source=source, line=n, reason=line[:80])
        chain = tokens[1]
        rest = tokens[2:]
        if tokens[0] == "-I" and rest and rest[0].isdigit():
            rest = rest[1:]
        dump.chains[table].setdefault(chain, []).append(IptRule(table, chain, _options(rest), n))
    return dump


def _hop(rule: IptRule) -> Hop:
    target = rule.target
    if target == "DNAT":
        host, _, port = (rule.get("--to-destination") or "").rpartition(":")
        return Hop(dnat=(host.strip("[]"), int(port)) if port.isdigit() else None)
    if not target:
        return Hop()
    if target in _SIDE_EFFECT_TARGETS:
        return Hop(side_effect=True)
    is_fw = rule.chain.startswith("KUBE-FW-")
    conditional = any(k in rule.opts for k in ("-m recent", "-m addrtype", "-i", "-d")) or (
        "-s" in rule.opts and not (is_fw and not rule.negated("-s")))  # an allowed source range: follow it
    prob = rule.get("--probability")
    fraction = float(prob) if prob else 1.0
    return Hop(targets=((target, fraction),), conditional=conditional, terminal=prob is None)


def _graph(dump: IptablesDump) -> dict[str, list[Hop]]:
    nat = dump.chains.get("nat", {})
    return {chain: [_hop(r) for r in rules] for chain, rules in nat.items() if chain.startswith("KUBE-")}


def _addr(value: str | None) -> str | None:
    return value[:-3] if value and value.endswith("/32") else value


_FRONT_KINDS = {"cluster IP": "cluster_ip", "external IP": "external_ip", "loadbalancer IP": "load_balancer"}


class _Builder:
    def __init__(self, dump: IptablesDump) -> None:
        self.dump, self.graph = dump, _graph(dump)
        self.entries: dict[tuple[str, str], ServiceEntry] = {}

    def entry(self, spn: str, proto: str) -> ServiceEntry:
        key = (spn, proto)
        if key not in self.entries:
            self.entries[key] = ServiceEntry(service=spn, protocol=proto)
        return self.entries[key]

    def frontend(self, rule: IptRule, dispatch: str, spn: str, kind: str, ip: str | None, port: int) -> None:
        entry = self.entry(spn, rule.get("-p") or "tcp")
        chains, endpoints = split_path([dispatch], resolve(self.graph, rule.target or ""))
        fe = Frontend(kind, ip, port, chains if endpoints else [dispatch, rule.target or ""], endpoints)
        entry.frontends.append(fe)
        if kind == "cluster_ip":
            entry.cluster_ip, entry.port, entry.chains, entry.endpoints = ip, port, fe.chains, endpoints
        elif kind == "node_port":
            entry.node_port = port

    def services(self) -> None:
        for rule in self.dump.rules("nat", "KUBE-SERVICES"):
            spn, _, what = (rule.comment or "").partition(" ")
            kind = _FRONT_KINDS.get(what)
            port = rule.get("--dport")
            if kind and port and port.isdigit():
                self.frontend(rule, "KUBE-SERVICES", spn, kind, _addr(rule.get("-d")), int(port))
        for rule in self.dump.rules("nat", "KUBE-NODEPORTS"):
            port = rule.get("--dport")
            if rule.comment and port and port.isdigit() and not rule.get("-d"):  # skip the 127.0.0.0/8 twin
                self.frontend(rule, "KUBE-NODEPORTS", rule.comment, "node_port", None, int(port))

    def rejected(self) -> None:
        """Services without endpoints live only in the filter table (REJECT or DROP)."""
        for chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"):
            for rule in self.dump.rules("filter", chain):
                spn, _, what = (rule.comment or "").partition(" ")
                port = rule.get("--dport")
                if not what.startswith("has no") or not (port and port.isdigit()):
                    continue
                entry = self.entry(spn, rule.get("-p") or "tcp")
                if chain == "KUBE-SERVICES" and entry.cluster_ip is None:
                    entry.cluster_ip, entry.port, entry.chains = _addr(rule.get("-d")), int(port), ["KUBE-SERVICES"]
                    entry.frontends.append(Frontend("cluster_ip", entry.cluster_ip, int(port), ["KUBE-SERVICES"]))
                elif chain == "KUBE-EXTERNAL-SERVICES" and "-m addrtype" in rule.opts and entry.node_port is None:
                    entry.node_port = int(port)


def iptables_service_map(dump: IptablesDump) -> ServiceMap:
    """The services, their endpoints and shares, from parsed iptables tables."""
    builder = _Builder(dump)
    builder.services()
    builder.rejected()
    entries = sorted(builder.entries.values(), key=lambda e: (e.service, e.protocol))
    return ServiceMap("iptables", entries)


def has_kube_proxy_rules(dump: IptablesDump) -> bool:
    return "KUBE-SERVICES" in dump.chains.get("nat", {}) or "KUBE-SERVICES" in dump.chains.get("filter", {})


__all__ = ["IptRule", "IptablesDump", "parse_iptables_save", "iptables_service_map"]
