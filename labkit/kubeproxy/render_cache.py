"""The rules of a sync, rendered again only for the services that changed.

:func:`~.nftables.render_nftables` and :func:`~.iptables.render_iptables` write every service on
every sync, as upstream's ``syncProxyRules`` loops over every service too; in Go that is cheap, in
Python 10,000 services take a second per node. A :class:`CachedRenderer` keeps what each service
wrote (its chains and map elements, or its lines of the restore input) under the service's own
input (the ``ServicePort``, its endpoints, the node context): an unchanged service is copied, not
written again. The output is the same bytes as the plain renderers (tests compare them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .iptables import (
    _Buffers,
    _Svc,
    _write_fixed,
    _write_frontends,
    _write_service_chains,
    _write_trailer,
)
from .model import Endpoint, NodeContext, ProxyInput, ServicePort, categorize_endpoints
from .nft_incremental import Group, NftPiece
from .nftables import NftRuleset, NftSet, _Service, _setup


@dataclass
class CachedRenderer:
    """Renders one node's rules; call :meth:`nftables` or :meth:`iptables` on every sync."""

    nft: dict[tuple[Any, ...], NftPiece] = field(default_factory=dict)
    ipt: dict[tuple[Any, ...], tuple[list[str], ...]] = field(default_factory=dict)
    # the last :meth:`nftables` call: each Service's pieces, and the names of the fixed sets
    nft_groups: dict[Group, list[NftPiece]] = field(default_factory=dict)
    nft_fixed: frozenset[str] = frozenset()

    def nft_piece(self, info: ServicePort, endpoints: list[Endpoint], ctx: NodeContext,
                  fixed: dict[str, NftSet]) -> NftPiece:
        """What one service port writes (kept: the same input gives the same objects back)."""
        key = (info, tuple(endpoints), ctx)
        piece = self.nft.get(key)
        if piece is None:
            scratch = NftRuleset(sets={n: NftSet(s.name, s.type, s.is_map, s.comment, s.flags, s.timeout)
                                       for n, s in fixed.items()})
            _Service(scratch, info, categorize_endpoints(endpoints, info), ctx).write()
            piece = NftPiece(scratch.chains,
                             [(n, s.elements) for n, s in scratch.sets.items() if n in fixed and s.elements],
                             {n: s for n, s in scratch.sets.items() if n not in fixed})
            self.nft[key] = piece
        return piece

    def nftables(self, inp: ProxyInput, ctx: NodeContext) -> NftRuleset:
        rs = NftRuleset()
        _setup(rs, ctx)
        fixed = dict(rs.sets)
        self.nft_fixed = frozenset(fixed)
        previous, self.nft = self.nft, {}
        groups: dict[Group, list[NftPiece]] = {}
        for info in inp.sorted_services():
            endpoints = inp.endpoints_for(info)
            key = (info, tuple(endpoints), ctx)
            piece = previous.get(key)
            if piece is None:
                piece = self.nft_piece(info, endpoints, ctx, fixed)
            self.nft[key] = piece
            groups.setdefault((info.namespace, info.name), []).append(piece)
            rs.chains.update(piece.chains)
            for name, elements in piece.elements:
                rs.sets[name].elements.extend(elements)
            rs.sets.update(piece.sets)
        self.nft_groups = groups
        return rs

    def iptables(self, inp: ProxyInput, ctx: NodeContext) -> str:
        buf = _Buffers()
        _write_fixed(buf, ctx)
        large = inp.total_endpoints() > ctx.large_cluster_threshold
        used: dict[tuple[Any, ...], tuple[list[str], ...]] = {}
        for info in inp.sorted_services():
            endpoints = inp.endpoints_for(info)
            key = (info, tuple(endpoints), ctx, large)
            piece = self.ipt.get(key)
            if piece is None:
                scratch = _Buffers()
                svc = _Svc(info, categorize_endpoints(endpoints, info), ctx, large)
                _write_frontends(scratch, svc)
                _write_service_chains(scratch, svc)
                piece = (scratch.filter_chains, scratch.filter_rules, scratch.nat_chains, scratch.nat_rules)
            used[key] = piece
            buf.filter_chains += piece[0]
            buf.filter_rules += piece[1]
            buf.nat_chains += piece[2]
            buf.nat_rules += piece[3]
        self.ipt = used
        _write_trailer(buf, ctx)
        return buf.text()
