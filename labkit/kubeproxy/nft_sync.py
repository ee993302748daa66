"""How an :class:`~.nftables.NftRuleset` gets into a node's kernel: a first load, then partial syncs.

Upstream's nftables proxier (kubernetes/kubernetes pkg/proxy/nftables/proxier.go,
``syncProxyRules``) writes a full transaction only when it must (``needFullSync``); afterwards a
sync rewrites only the chains of services whose Service or EndpointSlices changed
(``skipServiceUpdate``), adds or deletes only the map elements that differ (``nftElementStorage``:
``ensureElem`` deletes and re-adds an element whose value changed, ``cleanupLeftoverKeys`` deletes
the rest), flushes stale service chains at once and deletes them a second later (``staleChains``:
with kernels before 6.2 a chain a map element pointed at is not free at once), and deletes stale
affinity sets at once. :func:`nft_update` computes the same transaction by comparing the ruleset
last applied with the new one, which needs no change tracking and gives the same result.

The first load (:func:`nft_initial_batches`) is split in several ``nft -f`` transactions. With
upstream's ``numgen ... vmap { ... }`` rule every service chain holds an anonymous map, and the
kernel (nf_tables_api.c) names each new one by scanning every set of the table
(``nf_tables_set_alloc_name``) and walks the transaction for each one it binds
(``__nft_set_trans_bind``): O(N²). The lab's renderer writes a ``numgen`` cascade instead (no
map, see ``nftables._Service.write_dispatch``) and the load is linear; the batches remain, so
that a ruleset written with ``endpoint_vmap`` still loads in bounded transactions. Order keeps
every intermediate state harmless: the table with its fixed chains and empty maps first, then
all service chains (empty), their rules in batches, and the map elements that make them
reachable last.

What a sync costs at 10,000 services, whatever it writes (``bench/kube_proxy_floor.py``, 2-core
VM, kernel 6.18, kernel CPU of the commit; x 3.8 at 30,000). A partial sync: nft 1.0.6 dumps every
chain of the ruleset into its cache before it evaluates an ``add rule`` or ``add element`` (30,000
chains, ~80 ms), which the lab skips by sending partial syncs as netlink messages
(:mod:`.nft_netlink`); then the kernel validates the whole table on each commit that adds a rule
holding an expression with a ``validate`` operation (immediate verdicts, ``dnat``, ``masquerade``,
lookups) or a verdict-map element with a jump or goto (nf_tables_api.c, ``nf_tables_newrule`` and
``nft_add_set_elem`` set the table's ``validate_state`` to NEED; ``nf_tables_commit`` then runs
``nft_table_validate``): from every base chain through every verdict-map element and jump, each
chain once per hook (6.18 stable, "avoid chain re-validation if possible"), so the two nat hooks
(``prerouting`` and ``output``, both jumping to ``services``) each walk all 30,000 chains. 46-49 ms
of kernel CPU (perf: 95% of such a commit in ``nft_table_validate``, 70% in
``nft_chain_validate`` itself), 176-186 ms at 30,000, against 0.1-0.2 ms for an element-only
commit. A one-service change must add a ``goto``/``jump``/``dnat`` rule, so this is its floor;
the lab's change costs the floor + ~1-2 ms (``bench/kube_proxy_floor.py --lab``: 49.8 ms min,
57.0 ms median, 1.2 ms of it user CPU, with the partial sync computed by :mod:`.nft_incremental`). Validating only the chains a batch touches was proposed
upstream (netfilter-devel, May 2025, "add infrastructure for chain validation on updates") and is
not in 6.18. Upstream pays the same (knftables runs the same ``nft``).

A full load: the kernel's own part, sent as netlink after the fixed part, is 0.79 s of CPU at
10,000 services (rules 0.55 s for 70,000, chains 0.11 s, elements and the one validation 0.10 s;
one transaction or three makes no difference: the table is validated once per commit). ``nft -f``
adds ~1.2 s of its own CPU (parsing, evaluation, building the messages), whatever the text's form
(no comments, block syntax, without the prologue: within noise, ``--forms``). The lab's Python
encoder needs 1.6 s of CPU for the same 100,000 messages, so the full sync stays with ``nft -f``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .nftables import FAMILY, TABLE, NftChain, NftRuleset, NftSet

PREFIX = f"{FAMILY} {TABLE}"
RULES_PER_BATCH = 4000  # rules of service chains per first-load transaction


def is_service_chain(name: str) -> bool:
    """``isServiceChainName``: per-service and per-endpoint chains all have a ``/`` in their name."""
    return "/" in name


def element_key(element: str) -> str:
    """The key of a set or map element, as the kernel matches it on delete (no comment, no verdict)."""
    key = element.rpartition(" : ")[0] if " : " in element else element
    head, sep, _ = key.partition(' comment "')
    return head.strip() if sep else key.strip()


def _rule_line(chain: str, rule: str, comment: str | None) -> str:
    suffix = f' comment "{comment}"' if comment else ""
    return f"add rule {PREFIX} {chain} {rule}{suffix}"


def _set_line(s: NftSet) -> str:
    return f"add {'map' if s.is_map else 'set'} {PREFIX} {s.name}{s.spec()}"


def _chain_line(c: NftChain) -> str:
    return f"add chain {PREFIX} {c.name}{c.spec()}"


def _elements_line(verb: str, name: str, elements: list[str]) -> str:
    return f"{verb} element {PREFIX} {name} {{ {', '.join(elements)} }}"


def nft_initial_batches(rs: NftRuleset, rules_per_batch: int | None = None) -> list[str]:
    """``nft -f`` transactions that replace the table with ``rs``, to run in order.

    One transaction unless the service chains hold anonymous maps (upstream's ``vmap { ... }``):
    every extra ``nft`` run dumps all the chains into its cache again (10,000 services: 2.6 s in
    one transaction, 5.7 s in 20)."""
    fixed = [c for c in rs.chains.values() if not is_service_chain(c.name)]
    service = [c for c in rs.chains.values() if is_service_chain(c.name)]
    head = [f"add table {PREFIX}", f"delete table {PREFIX}", f'add table {PREFIX} {{ comment "{rs.comment}" ; }}']
    head += [_set_line(s) for s in rs.sets.values()]
    head += [_chain_line(c) for c in fixed]
    head += [_rule_line(c.name, r, cm) for c in fixed for r, cm in c.rules]
    head += [_chain_line(c) for c in service]
    elements = [_elements_line("add", s.name, s.elements) for s in rs.sets.values() if s.elements]
    if rules_per_batch is None:
        anonymous = any("vmap {" in r for c in service for r, _ in c.rules)
        if not anonymous:
            rules = [_rule_line(c.name, r, cm) for c in service for r, cm in c.rules]
            return ["\n".join(head + rules + elements) + "\n"]
        rules_per_batch = RULES_PER_BATCH
    batches = [head]
    current: list[str] = []
    for c in service:
        current += [_rule_line(c.name, r, cm) for r, cm in c.rules]
        if len(current) >= rules_per_batch:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    if elements:
        batches.append(elements)
    return ["\n".join(b) + "\n" for b in batches]


ELEMENTS_PER_MESSAGE = 500  # a netlink attribute holds at most 64 KiB: 10,000 elements are split


def nft_service_part(rs: NftRuleset) -> tuple[str, str]:
    """The first load in two parts: the fixed part (table, sets, fixed chains and their rules,
    written by ``nft -f``) and everything per service (chains, rules, map elements) as commands
    :mod:`.nft_netlink` encodes, elements in messages of :data:`ELEMENTS_PER_MESSAGE`.

    Used by ``bench/kube_proxy_floor.py`` to time the kernel's part of a full load alone."""
    fixed = [c for c in rs.chains.values() if not is_service_chain(c.name)]
    service = [c for c in rs.chains.values() if is_service_chain(c.name)]
    head = [f"add table {PREFIX}", f"delete table {PREFIX}", f'add table {PREFIX} {{ comment "{rs.comment}" ; }}']
    head += [_set_line(s) for s in rs.sets.values()]
    head += [_chain_line(c) for c in fixed]
    head += [_rule_line(c.name, r, cm) for c in fixed for r, cm in c.rules]
    rest = [_chain_line(c) for c in service]
    rest += [_rule_line(c.name, r, cm) for c in service for r, cm in c.rules]
    for s in rs.sets.values():
        rest += [_elements_line("add", s.name, s.elements[i:i + ELEMENTS_PER_MESSAGE])
                 for i in range(0, len(s.elements), ELEMENTS_PER_MESSAGE)]
    return "\n".join(head) + "\n", "\n".join(rest) + "\n"


@dataclass
class NftUpdate:
    """One partial sync: the transaction, and the service chains it flushed (to delete later)."""

    transaction: str
    stale_chains: list[str] = field(default_factory=list)
    chains_written: int = 0
    elements_changed: int = 0

    @property
    def empty(self) -> bool:
        return not self.transaction


def _elements(s: NftSet | None) -> dict[str, str]:
    return {element_key(e): e for e in s.elements} if s else {}


def needs_full_sync(old: NftRuleset | None, new: NftRuleset) -> bool:
    """A partial sync cannot change a set's type or a base chain's hook: rebuild the table then."""
    if old is None:
        return True
    for name, s in new.sets.items():
        o = old.sets.get(name)
        if o is not None and o is not s and o.spec() != s.spec():
            return True
    old_chains = old.chains
    for name, c in new.chains.items():  # 30,000 chains at 10,000 services: compare fields, not text
        oc = old_chains.get(name)
        if oc is not None and oc is not c and (oc.hook != c.hook or oc.comment != c.comment):
            return True
    return False


def nft_update(old: NftRuleset, new: NftRuleset) -> NftUpdate:
    """The partial-sync transaction that turns the table holding ``old`` into ``new``."""
    lines: list[str] = []
    added_sets = [s for name, s in new.sets.items() if name not in old.sets]
    lines += [_set_line(s) for s in added_sets]
    old_chains = old.chains
    changed = [c for name, c in new.chains.items()  # the renderer's cache keeps unchanged chains' objects
               if (oc := old_chains.get(name)) is not c and (oc is None or oc.rules != c.rules)]
    for c in changed:  # ensureChain: add, and flush what it held
        lines.append(_chain_line(c))
        if c.name in old.chains:
            lines.append(f"flush chain {PREFIX} {c.name}")
    for c in changed:
        lines += [_rule_line(c.name, r, cm) for r, cm in c.rules]
    elements_changed = 0
    for name, s in new.sets.items():
        o = old.sets.get(name)
        if o is not None and (o.elements is s.elements or o.elements == s.elements):
            continue  # the common case, checked at C speed before keying 10,000s of elements
        before, after = _elements(o), _elements(s)
        gone = [k for k in before if k not in after or before[k] != after[k]]
        come = [e for k, e in after.items() if before.get(k) != e]
        if gone:
            lines.append(_elements_line("delete", name, gone))
        if come:
            lines.append(_elements_line("add", name, come))
        elements_changed += len(gone) + len(come)
    stale = sorted(name for name in old_chains.keys() - new.chains.keys() if is_service_chain(name))
    lines += [f"flush chain {PREFIX} {name}" for name in stale]
    lines += [f"delete set {PREFIX} {name}" for name in old.sets
              if name not in new.sets and name.startswith("affinity-")]
    text = "\n".join(lines) + "\n" if lines else ""
    return NftUpdate(text, stale, len(changed), elements_changed)


def nft_delete_chains(chains: list[str]) -> str:
    """The follow-up transaction deleting stale (already flushed, unreferenced) service chains."""
    return "".join(f"delete chain {PREFIX} {name}\n" for name in chains)
