"""How the ``iptables-restore`` input of :func:`~.iptables.render_iptables` gets into a node.

Upstream's iptables proxier (kubernetes/kubernetes pkg/proxy/iptables/proxier.go,
``syncProxyRules``; KEP-3453 "Minimizing iptables-restore input size") always writes the filter
table and the nat table's top-level chains (``KUBE-SERVICES``, ``KUBE-NODEPORTS``,
``KUBE-POSTROUTING``, ``KUBE-MARK-MASQ``) whole, but a partial sync leaves out the
``KUBE-SVC/SVL/EXT/FW/SEP`` chains of services whose Service and EndpointSlices did not change,
and deletes stale ones (declared, which flushes them, then ``-X``). :func:`iptables_update`
computes the input by comparing the rules last applied with the new ones, and departs from
upstream in one place: a top-level chain whose rules did not change is left out too (upstream
writes it whole on every sync). With 10,000 services, rewriting ``KUBE-SERVICES`` (one rule per
service port) made ``iptables-restore`` flush and re-add 10,000 rules for a one-service change
(2.4-3.9 s measured); left out, the change costs the changed chains only. The kernel ends up
with the same rules either way (tests replay both).

The first load (:func:`iptables_initial_batches`) is split: ``iptables-nft-restore --noflush``
(1.8.9) spends time quadratic in the number of chains it creates and fills in one input, so the
service chains are declared and filled in batches, and the top-level chains that jump to them
are written last.

What a one-service change costs at 10,000 services (``bench/kube_proxy_floor.py``, 2-core VM, with
kube-proxy's jumps from ``PREROUTING``/``OUTPUT``): ``iptables-nft-restore`` 96-100 ms (20 ms at
1,000; an empty ``*nat COMMIT`` 4 ms). iptables-nft rules are nf_tables rules, so the kernel walks
the whole ``nat`` table from its base chains on each commit that adds a jump, as in nftables mode
(46-49 ms of kernel CPU there at this size). Measured (``--perf``): the one-service change costs
~0.07 s of CPU, 99% of it in the kernel and 91% in ``nft_table_validate`` (iptables-nft reads only
the chains it writes, ~0 user CPU): the nat table's rules are many more nf_tables expressions
(xt matches, one rule per service in ``KUBE-SERVICES``), walked from ``PREROUTING`` and ``OUTPUT``.
That walk is the floor of the change; with this kernel it stays above 50 ms at 10,000 services. The legacy backend (``iptables-legacy-restore``) reads the whole table as one
blob and replaces it: 490 ms for the same change, 210 ms for an empty commit, although its full
load is faster (1.4 s against 8.9 s).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

SERVICE_CHAIN = re.compile(r"^KUBE-(?:SVC|SVL|EXT|FW|SEP)-[A-Z0-9]+$")
RULES_PER_BATCH = 20000


@dataclass
class RestoreTable:
    name: str
    chains: list[str] = field(default_factory=list)  # in declaration order
    rules: dict[str, list[str]] = field(default_factory=dict)  # chain -> "-A chain ..." lines


def is_service_chain(name: str) -> bool:
    return bool(SERVICE_CHAIN.match(name))


@lru_cache(maxsize=8)  # a sync parses the rules the previous sync parsed as new: read them once
def parse_restore(text: str) -> list[RestoreTable]:
    """Tables of an ``iptables-restore`` input as :func:`render_iptables` writes it (do not modify)."""
    tables: list[RestoreTable] = []
    for block in ("\n" + text).split("\n*")[1:]:  # one block per "*table" line
        lines = block.split("\n")
        current = RestoreTable(lines[0])
        tables.append(current)
        rules = current.rules
        for line in lines[1:]:
            if line.startswith("-A "):  # most lines: "-A CHAIN ..."
                end = line.find(" ", 3)
                chain = line[3:end] if end > 0 else line[3:]
                got = rules.get(chain)
                if got is None:
                    got = rules[chain] = []
                got.append(line)
            elif line.startswith(":"):
                chain = line[1:].split(" ", 1)[0]
                current.chains.append(chain)
                rules.setdefault(chain, [])
    return tables


def _declare(chain: str) -> str:
    return f":{chain} - [0:0]"


def _table_text(name: str, lines: list[str]) -> str:
    return "\n".join([f"*{name}", *lines, "COMMIT"]) + "\n"


_JUMP = re.compile(r" -[jg] (KUBE-\S+)")


@lru_cache(maxsize=4)  # nodes whose rules are the same text (no Local policy) share one cut
def iptables_initial_batches(text: str, rules_per_batch: int = RULES_PER_BATCH) -> tuple[str, ...]:
    """``iptables-restore --noflush`` inputs that load ``text`` (a full sync) in order.

    The top-level chains are declared (empty) first, so that service chains can jump to
    ``KUBE-MARK-MASQ``; each batch then declares and fills its own service chains, cut only where
    no rule jumps to a chain of a later batch; the top-level chains are filled last. A batch
    never appends to a chain it did not declare: iptables-nft 1.8.9 looks such chains up in a
    list of every chain of the table, rule after rule.
    """
    tables = parse_restore(text)
    batches = [_table_text(t.name, [_declare(c) for c in t.chains if not is_service_chain(c)]) for t in tables]
    for t in tables:
        chains: list[str] = []
        declared: set[str] = set()  # ``chains`` as a set: a list lookup per jump made this quadratic
        rules: list[str] = []
        wanted: set[str] = set()  # service chains jumped to from this batch, not declared yet
        for c in (c for c in t.chains if is_service_chain(c)):
            chains.append(c)
            declared.add(c)
            wanted.discard(c)
            rules += t.rules[c]
            wanted |= {m for r in t.rules[c] for m in _JUMP.findall(r) if m not in declared and is_service_chain(m)}
            if len(rules) >= rules_per_batch and not wanted:
                batches.append(_table_text(t.name, [_declare(x) for x in chains] + rules))
                chains, rules = [], []
                declared = set()
        if chains:
            batches.append(_table_text(t.name, [_declare(x) for x in chains] + rules))
    last = []
    for t in tables:
        fixed = [c for c in t.chains if not is_service_chain(c)]
        last.append(_table_text(t.name, [_declare(c) for c in fixed] + [r for c in fixed for r in t.rules[c]]))
    batches.append("".join(last))
    return tuple(batches)


@dataclass
class IptablesUpdate:
    restore: str
    chains_written: int = 0
    stale_chains: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.restore


def iptables_update(old: str, new: str, existing: set[str] | None = None,
                    full_fixed: bool = False) -> IptablesUpdate:
    """The partial-sync input that turns the rules of ``old`` into ``new``.

    ``existing`` (service chains the node holds, from ``iptables-save``) adds stale chains
    ``old`` does not know about. Nothing to write (empty ``restore``) when nothing changed.
    ``full_fixed`` writes every top-level chain whole, as upstream does.
    """
    if old == new and not existing:
        return IptablesUpdate("")
    before = {t.name: t for t in parse_restore(old)}
    out: list[str] = []
    written = 0
    stale_all: list[str] = []
    for t in parse_restore(new):
        prev = before.get(t.name, RestoreTable(t.name))
        known = set(prev.chains) | (existing or set() if t.name == "nat" else set())
        stale = sorted(c for c in known - t.rules.keys() if is_service_chain(c))
        # compare first, classify only what differs: 10,000 services are 60,000 chains
        differ = [c for c in t.chains if prev.rules.get(c) != t.rules[c]]
        fixed = [c for c in (t.chains if full_fixed else differ) if not is_service_chain(c)]
        changed = [c for c in differ if is_service_chain(c)]
        if not (fixed or changed or stale):
            continue  # this table did not change: not even its COMMIT
        lines = [_declare(c) for c in fixed + changed + stale]
        lines += [r for c in fixed + changed for r in t.rules[c]]
        lines += [f"-X {c}" for c in stale]
        out.append(_table_text(t.name, lines))
        written += len(changed)
        stale_all += stale
    if not written and not stale_all and old == new:
        return IptablesUpdate("")
    return IptablesUpdate("".join(out), written, stale_all)
