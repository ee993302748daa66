"""The rules of a sync, rendered again only for the services that changed.

:func:`~.nftables.render_nftables` and :func:`~.iptables.render_iptables` write every service on
every sync, as upstream's ``syncProxyRules`` loops over every service too; in Go that is cheap, in
Python 10,000 services take a second per node. A :class:`CachedRenderer` keeps what each service
wrote (its chains and map elements, or its lines of the restore input) under the service's own
input (the ``ServicePort``, its endpoints, the node context): an unchanged service is copied, not
written again. The output is the same bytes as the plain renderers (tests compare them).

Nodes share what they can: a service port whose rules do not depend on the node (no
``Local`` traffic policy, which needs the node's own endpoints; no load balancer source ranges,
which may admit the node's address) writes the same rules on every node, so a sync renders it
once and hands the same piece to every node's renderer (``shared``, one dict per sync). Upstream
runs one kube-proxy per node and has nothing to share; the lab runs them all in one process.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from .ipt_incremental import IptNodeState, IptPiece
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

Shared = dict[tuple[Any, ...], Any]  # what one sync rendered for any node, by node-free key


def node_free(info: ServicePort) -> bool:
    """Whether a service port writes the same rules on every node: its endpoints' locality, the
    node's name and addresses are read only for ``Local`` traffic policies and for load balancer
    source ranges (the node's own address may be in them)."""
    return not info.uses_local_endpoints and not (info.load_balancer_source_ranges and info.load_balancer_ips)


@lru_cache(maxsize=64)
def _without_node(ctx: NodeContext) -> NodeContext:
    return replace(ctx, node_name="", node_ips=())


def _shared_key(info: ServicePort, endpoints: list[Endpoint], ctx: NodeContext, *extra: Any) -> tuple[Any, ...]:
    """What the rules of a :func:`node_free` service port depend on: not its endpoints' node."""
    eps = tuple((ep.ip, ep.port, ep.ready, ep.serving, ep.terminating) for ep in endpoints)
    return (info, eps, _without_node(ctx), *extra)


@dataclass
class CachedRenderer:
    """Renders one node's rules; call :meth:`nftables` or :meth:`iptables` on every sync."""

    nft: dict[tuple[Any, ...], NftPiece] = field(default_factory=dict)
    ipt: dict[tuple[Any, ...], IptPiece] = field(default_factory=dict)
    ipt_state: IptNodeState | None = None  # the last :meth:`iptables` call, by Service
    # the last :meth:`nftables` call: each Service's pieces, and the names of the fixed sets
    nft_groups: dict[Group, list[NftPiece]] = field(default_factory=dict)
    nft_fixed: frozenset[str] = frozenset()

    def nft_piece(self, info: ServicePort, endpoints: list[Endpoint], ctx: NodeContext,
                  fixed: dict[str, NftSet], shared: Shared | None = None) -> NftPiece:
        """What one service port writes (kept: the same input gives the same objects back;
        ``shared``: taken from, or left for, the other nodes of the same sync)."""
        key = (info, tuple(endpoints), ctx)
        piece = self.nft.get(key)
        if piece is not None:
            return piece
        skey = _shared_key(info, endpoints, ctx, "nft", tuple(fixed)) if shared is not None and node_free(info) else None
        piece = shared.get(skey) if shared is not None and skey is not None else None
        if piece is None:
            scratch = NftRuleset(sets={n: NftSet(s.name, s.type, s.is_map, s.comment, s.flags, s.timeout)
                                       for n, s in fixed.items()})
            _Service(scratch, info, categorize_endpoints(endpoints, info), ctx).write()
            piece = NftPiece(scratch.chains,
                             [(n, s.elements) for n, s in scratch.sets.items() if n in fixed and s.elements],
                             {n: s for n, s in scratch.sets.items() if n not in fixed})
            if shared is not None and skey is not None:
                shared[skey] = piece
        self.nft[key] = piece
        return piece

    def nftables(self, inp: ProxyInput, ctx: NodeContext, shared: Shared | None = None) -> NftRuleset:
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
                piece = self.nft_piece(info, endpoints, ctx, fixed, shared)
            self.nft[key] = piece
            groups.setdefault((info.namespace, info.name), []).append(piece)
            rs.chains.update(piece.chains)
            for name, elements in piece.elements:
                rs.sets[name].elements.extend(elements)
            rs.sets.update(piece.sets)
        self.nft_groups = groups
        return rs

    def ipt_piece(self, info: ServicePort, endpoints: list[Endpoint], ctx: NodeContext, large: bool,
                  shared: Shared | None = None) -> IptPiece:
        """What one service port writes in iptables mode (kept: the same input, the same piece;
        ``shared``: as in :meth:`nft_piece`)."""
        key = (info, tuple(endpoints), ctx, large)
        piece = self.ipt.get(key)
        if piece is not None:
            return piece
        skey = _shared_key(info, endpoints, ctx, "ipt", large) if shared is not None and node_free(info) else None
        piece = shared.get(skey) if shared is not None and skey is not None else None
        if piece is None:
            front, own = _Buffers(), _Buffers()
            svc = _Svc(info, categorize_endpoints(endpoints, info), ctx, large)
            _write_frontends(front, svc)
            _write_service_chains(own, svc)
            piece = IptPiece((info.name_string, info.proto), (tuple(front.filter_rules), tuple(front.nat_rules)),
                             tuple(own.nat_chains), tuple(own.nat_rules))
            if shared is not None and skey is not None:
                shared[skey] = piece
        self.ipt[key] = piece
        return piece

    def iptables(self, inp: ProxyInput, ctx: NodeContext, shared: Shared | None = None) -> str:
        large = inp.total_endpoints() > ctx.large_cluster_threshold
        previous, self.ipt = self.ipt, {}
        groups: dict[Group, list[IptPiece]] = {}
        for info in inp.sorted_services():
            endpoints = inp.endpoints_for(info)
            key = (info, tuple(endpoints), ctx, large)
            piece = previous.get(key) or self.ipt_piece(info, endpoints, ctx, large, shared)
            self.ipt[key] = piece
            groups.setdefault((info.namespace, info.name), []).append(piece)
        head, tail = _Buffers(), _Buffers()
        _write_fixed(head, ctx)
        _write_trailer(tail, ctx)
        counts: dict[Group, int] = {}
        for port, eps in inp.endpoints.items():
            counts[(port[0], port[1])] = counts.get((port[0], port[1]), 0) + len(eps)
        self.ipt_state = IptNodeState(groups, _lists(head), _lists(tail), large, ctx.large_cluster_threshold, counts)
        return self.ipt_state.text()


def _lists(buf: _Buffers) -> tuple[list[str], ...]:
    return (buf.filter_chains, buf.filter_rules, buf.nat_chains, buf.nat_rules)
