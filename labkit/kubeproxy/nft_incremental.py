"""A partial nftables sync computed from the Services that changed, not from the whole ruleset.

Upstream's proxier knows which services changed (``serviceChanges``/``endpointsChanges``, pkg/proxy/
servicechangetracker.go, endpointschangetracker.go) and skips the others while it writes a
partial sync (pkg/proxy/nftables/proxier.go, ``skipServiceUpdate``). The lab's first version
re-rendered every service and compared the whole new ruleset with the last one
(:func:`~.nft_sync.nft_update`): at 10,000 Services ~0.25 s of Python per node and sync, five
times the kernel's own cost of the commit. :class:`NftNodeState` keeps, per Service
(``namespace/name``: the unit the API changes), the pieces its ports wrote (chains, map elements,
affinity sets, from :class:`~.render_cache.CachedRenderer`); a change of some Services compares
their old pieces with their new ones only (the same :func:`~.nft_sync.nft_update`, on the two
small rulesets those pieces make) and patches the ruleset kept for the next sync. The
transaction holds the same commands as the whole comparison would (a unit test replays both).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .nft_sync import NftUpdate, element_key, needs_full_sync, nft_update
from .nftables import NftChain, NftRuleset, NftSet

Group = tuple[str, str]  # (namespace, Service name)


@dataclass
class NftPiece:
    """What one service port writes: its chains, its elements of the fixed sets, its own sets."""

    chains: dict[str, NftChain]
    elements: list[tuple[str, list[str]]]
    sets: dict[str, NftSet]


def _empty_like(sets: dict[str, NftSet]) -> NftRuleset:
    return NftRuleset(sets={n: NftSet(s.name, s.type, s.is_map, s.comment, s.flags, s.timeout)
                            for n, s in sets.items()})


def merged(pieces: Iterable[NftPiece], fixed_sets: dict[str, NftSet]) -> NftRuleset:
    """The pieces as one ruleset (only their chains, elements and sets; the fixed sets empty)."""
    rs = _empty_like(fixed_sets)
    for p in pieces:
        rs.chains.update(p.chains)
        for name, elements in p.elements:
            rs.sets[name].elements.extend(elements)
        rs.sets.update(p.sets)
    return rs


class NftNodeState:
    """The ruleset a node holds, and which Service wrote which part of it."""

    def __init__(self, ruleset: NftRuleset, groups: dict[Group, list[NftPiece]], fixed: frozenset[str]) -> None:
        self.ruleset = ruleset
        self.groups = groups
        self.fixed = fixed  # names of the sets every sync writes (``setupNFTables``)
        # how many pieces hold each element key of each fixed set: an element two Services write
        # (the same external IP and port) stays while one of them still writes it
        self._keys: dict[str, dict[str, int]] = {}
        for pieces in groups.values():
            self._count(pieces, 1)

    def _count(self, pieces: Iterable[NftPiece], step: int) -> None:
        for p in pieces:
            for name, elements in p.elements:
                keys = self._keys.setdefault(name, {})
                for e in elements:
                    k = element_key(e)
                    keys[k] = keys.get(k, 0) + step

    def update(self, changes: dict[Group, list[NftPiece]]) -> NftUpdate | None:
        """The partial sync that gives each changed Service its new pieces (``[]``: deleted), and
        the ruleset patched to match; ``None`` if only a full sync can do it (a set's type changed)."""
        fixed_sets = {n: s for n, s in self.ruleset.sets.items() if n in self.fixed}
        old_pieces = [p for g in changes for p in self.groups.get(g, [])]
        new_pieces = [p for pieces in changes.values() for p in pieces]
        old, new = merged(old_pieces, fixed_sets), merged(new_pieces, fixed_sets)
        if needs_full_sync(old, new):
            return None
        for name, s in new.sets.items():  # an affinity set another Service holds with another type
            held = self.ruleset.sets.get(name)
            if name not in self.fixed and name not in old.sets and held is not None and held.spec() != s.spec():
                return None
        self._count(old_pieces, -1)
        self._count(new_pieces, 1)
        for name in self.fixed:  # an element key still written by another Service is kept
            o, n = old.sets.get(name), new.sets.get(name)
            if o is None or n is None or not o.elements:
                continue
            keys, new_keys = self._keys.get(name, {}), {element_key(e) for e in n.elements}
            kept = [e for e in o.elements if element_key(e) not in new_keys and keys.get(element_key(e), 0) > 0]
            if kept:
                self._count(new_pieces, -1)
                self._count(old_pieces, 1)
                return None  # rare (two Services share a key): compare the whole rulesets instead
        upd = nft_update(old, new)
        self._patch(old, new)
        for g, pieces in changes.items():
            if pieces:
                self.groups[g] = pieces
            else:
                self.groups.pop(g, None)
        return upd

    def _patch(self, old: NftRuleset, new: NftRuleset) -> None:
        rs = self.ruleset
        for name in old.chains:
            rs.chains.pop(name, None)
        rs.chains.update(new.chains)
        for name in self.fixed:
            o, n = old.sets[name].elements, new.sets[name].elements
            if o == n:
                continue
            target = rs.sets[name].elements
            for e in o:
                target.remove(e)
            target.extend(n)
        for name in old.sets.keys() - new.sets.keys():
            rs.sets.pop(name, None)
        for name, s in new.sets.items():
            if name not in self.fixed:
                rs.sets[name] = s
