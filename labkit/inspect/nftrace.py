"""nftables tracing: the script that turns it on for one flow, and what ``nft monitor`` reports.

The kernel traces a packet once a rule sets ``meta nftrace set 1`` on it; ``nft monitor`` then
prints one line per chain the packet enters (``packet: iif "veth…" ip saddr …``), per rule that
matched (``rule … (verdict jump KUBE-SVC-…)``) and per base-chain policy. iptables-nft rules
(kube-proxy's iptables mode writes them) appear there as ``ip nat KUBE-SERVICES rule …``, in nft
syntax and without their ``--comment``; :func:`iptables_rules_by_handle` gives them back their
``iptables-save`` line (position in the chain = position in ``nft -a list``), comment included.

Which packets: the flow is marked by its sender with a DSCP value (``nc -T``), which survives
DNAT, masquerade (source port rewritten by ``--random-fully``) and VXLAN decapsulation, so one
match works in every node; only the first packet (TCP SYN, or the UDP datagram) is traced, the one
kube-proxy's NAT rules decide for. A network namespace only traces its own packets (the kernel
clears the trace flag when a packet changes namespace), so the table goes into every node.

Pure: no command runs here (the caller feeds text from ``nft`` and ``iptables-save``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

TABLE_PREFIX = "labkit-trace-"
PRIORITY = -350                   # before raw (-300) and conntrack (-200): the first look at a packet
IPTABLES_TABLES = ("raw", "mangle", "nat", "filter")

_LINE = re.compile(r"^trace id (?P<id>[0-9a-f]+) (?P<family>\w+) (?P<table>\S+) (?P<chain>\S+) (?P<rest>.*)$")
_VERDICT = re.compile(r"^(?P<text>.*?)\s*\(verdict (?P<verdict>[^)]*)\)\s*$")
_HANDLE = re.compile(r"^(?P<text>.*?)\s*# handle (?P<handle>\d+)\s*$")
_FIELDS = re.compile(r'(iif|oif|ip saddr|ip daddr|ip ttl|ip protocol|ip dscp|tcp sport|tcp dport|udp sport|'
                     r'udp dport|tcp flags ==|meta mark|ct state)\s+("[^"]*"|\S+)')


# -- turning it on and off ------------------------------------------------------------------------
def table_name(trace_id: str) -> str:
    return f"{TABLE_PREFIX}{trace_id}"


def enable_script(trace_id: str, dscp: int, protocol: str = "tcp") -> str:
    """``nft -f`` input: a table of our own whose chains mark the flow's first packet for tracing.

    ``prerouting`` sees packets from pods and from other nodes, ``output`` those a node sends."""
    proto = protocol.lower()
    first = "tcp flags & (syn | ack) == syn" if proto == "tcp" else ""
    match = f"ip dscp {dscp} meta l4proto {proto} {first}".strip()
    name = table_name(trace_id)
    lines = [f"table inet {name} {{"]
    for chain, hook in (("pre", "prerouting"), ("out", "output")):
        lines += [f"  chain {chain} {{", f"    type filter hook {hook} priority {PRIORITY}; policy accept;",
                  f'    {match} meta nftrace set 1 comment "labkit trace {trace_id}"', "  }"]
    return "\n".join(lines + ["}", ""])


def disable_script(trace_id: str) -> str:
    return f"delete table inet {table_name(trace_id)}\n"


def leftover_tables(ruleset_text: str) -> list[str]:
    """Names of trace tables in ``nft list tables`` / ``nft list ruleset`` output (a crashed trace)."""
    return sorted(set(re.findall(rf"^table inet ({re.escape(TABLE_PREFIX)}[\w-]+)", ruleset_text, re.M)))


# -- what nft monitor prints -------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceEvent:
    """One line of ``nft monitor trace`` output."""

    id: str
    family: str
    table: str
    chain: str
    kind: str                  # "packet", "rule", "policy" or "verdict"
    text: str = ""             # the rule as nft prints it (without handle), or the packet's fields
    handle: int | None = None
    verdict: str = ""          # "jump KUBE-SVC-…", "accept", "continue", "drop", "return"…
    fields: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def where(self) -> str:
        return f"{self.family} {self.table} {self.chain}"

    @property
    def ours(self) -> bool:
        return self.table.startswith(TABLE_PREFIX)


def parse_line(line: str) -> TraceEvent | None:
    m = _LINE.match(line.strip())
    if not m:
        return None
    base: dict[str, Any] = dict(id=m["id"], family=m["family"], table=m["table"], chain=m["chain"])
    rest = m["rest"]
    if rest.startswith("packet:"):
        text = rest[len("packet:"):].strip()
        return TraceEvent(kind="packet", text=text, fields=packet_fields(text), **base)
    if rest.startswith("policy "):
        return TraceEvent(kind="policy", verdict=rest.split(None, 1)[1].strip(), **base)
    if rest.startswith("verdict "):
        return TraceEvent(kind="verdict", verdict=rest.split(None, 1)[1].strip(), **base)
    if rest.startswith(("rule", "unknown rule")):
        body = rest.split("rule", 1)[1]
        v = _VERDICT.match(body)
        text, verdict = (v["text"], v["verdict"].strip()) if v else (body, "")
        handle = None
        h = _HANDLE.match(text)
        if h:
            text, handle = h["text"], int(h["handle"])
        elif rest.startswith("unknown rule"):
            hm = re.search(r"handle (\d+)", text)
            text, handle = "", int(hm.group(1)) if hm else None
        return TraceEvent(kind="rule", text=" ".join(text.split()), handle=handle, verdict=verdict, **base)
    return None


def packet_fields(text: str) -> dict[str, str]:
    """``{"iif": "veth1", "ip saddr": "10.244.1.2", "tcp dport": "80", …}`` from a ``packet:`` line."""
    return {k: v.strip('"') for k, v in _FIELDS.findall(text)}


def parse_monitor(text: str) -> list[TraceEvent]:
    """Every trace event of ``nft monitor [trace]`` output, in order (other lines are skipped)."""
    return [e for e in map(parse_line, text.splitlines()) if e is not None]


@dataclass
class PacketTrace:
    """The events of one packet in one network namespace (one trace id), in order."""

    id: str
    events: list[TraceEvent]

    @property
    def first(self) -> dict[str, str]:
        """The packet as it entered the namespace (fields of the first ``packet:`` line)."""
        return next((e.fields for e in self.events if e.kind == "packet"), {})

    @property
    def rules(self) -> list[TraceEvent]:
        return [e for e in self.events if e.kind == "rule" and not e.ours]

    @property
    def chains(self) -> list[str]:
        """Chains in which a rule matched, in order, without repeats (our own table left out)."""
        out: list[str] = []
        for e in self.events:
            if e.kind == "rule" and not e.ours and e.chain not in out:
                out.append(e.chain)
            if e.kind == "rule" and e.verdict.startswith(("jump ", "goto ")):
                target = e.verdict.split(None, 1)[1]
                if target not in out and not e.ours:
                    out.append(target)
        return out

    @property
    def dropped(self) -> bool:
        return any(e.verdict == "drop" or e.verdict.startswith("reject") for e in self.events
                   if e.kind in ("rule", "policy", "verdict"))

    @property
    def ttl(self) -> int:
        try:
            return int(self.first.get("ip ttl", "0"))
        except ValueError:
            return 0


def group_packets(events: list[TraceEvent]) -> list[PacketTrace]:
    """Events grouped by trace id, in order of first appearance."""
    groups: dict[str, list[TraceEvent]] = {}
    for e in events:
        groups.setdefault(e.id, []).append(e)
    return [PacketTrace(i, evs) for i, evs in groups.items()]


# -- giving iptables-nft rules their iptables-save line back -------------------------------------
def _chain_lines(list_text: str) -> Iterator[tuple[tuple[str, str, str], str | None]]:
    """``((family, table, chain), line)`` through ``nft -a list ruleset``: ``line`` is None where
    the chain opens, then each stripped line inside it (rules, but also its ``type`` line, sets...)."""
    family: str | None = None
    table: str | None = None
    chain: str | None = None
    for raw in list_text.splitlines():
        line = raw.strip()
        t = re.match(r"^table (\w+) (\S+) \{", line)
        if t:
            family, table, chain = t.group(1), t.group(2), None
            continue
        c = re.match(r"^chain (\S+) \{", line)
        if c:
            chain = c.group(1)
            if family and table:
                yield (family, table, chain), None
            continue
        if family and table and chain:
            yield (family, table, chain), line


def nft_handles(list_text: str) -> dict[tuple[str, str, str], list[int]]:
    """``{(family, table, chain): [rule handles in order]}`` from ``nft -a list ruleset``."""
    out: dict[tuple[str, str, str], list[int]] = {}
    for key, line in _chain_lines(list_text):
        if line is None:
            out.setdefault(key, [])
            continue
        h = re.search(r"# handle (\d+)$", line)
        if h and not line.startswith(("type ", "chain ", "table ", "set ", "map ")) \
                and not line.endswith("{ # handle " + h.group(1)):
            out[key].append(int(h.group(1)))
    return out


def iptables_rules(save_text: str) -> dict[tuple[str, str], list[str]]:
    """``{(table, chain): ["-A chain …", …]}`` from ``iptables-save``."""
    out: dict[tuple[str, str], list[str]] = {}
    table = None
    for line in save_text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("-A ") and table:
            chain = line.split()[1]
            out.setdefault((table, chain), []).append(line.strip())
    return out


def iptables_rules_by_handle(list_text: str, save_text: str) -> dict[tuple[str, str, int], str]:
    """``{(table, chain, handle): "-A …"}`` for iptables-nft's tables (``ip nat``, ``ip filter``…).

    A chain whose rule count differs between the two listings (changed in between) is left out."""
    handles = nft_handles(list_text)
    out = {}
    for (table, chain), lines in iptables_rules(save_text).items():
        hs = handles.get(("ip", table, chain))
        if hs is not None and len(hs) == len(lines):
            out.update({(table, chain, h): line for h, line in zip(hs, lines)})
    return out


def rule_texts(list_text: str) -> dict[tuple[str, str, str, int], str]:
    """``{(family, table, chain, handle): rule text}`` from ``nft -a list ruleset`` (for "unknown rule"
    events: rules added after the monitor started)."""
    out: dict[tuple[str, str, str, int], str] = {}
    for (family, table, chain), line in _chain_lines(list_text):
        if line is None or line.startswith(("type ", "set ", "map ")):
            continue
        h = _HANDLE.match(line)
        if h:
            out[(family, table, chain, int(h["handle"]))] = " ".join(h["text"].split())
    return out
