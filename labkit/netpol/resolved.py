"""Policies with their selectors resolved to pods: what a data plane needs to enforce them.

The engine answers "may *s* reach *d* on this port?"; an enforcer needs the port-independent
picture instead: for each policy the pods it selects, and for each rule the pods its selector
peers admit, its ipBlocks (kept as CIDRs: they also cover addresses outside the cluster) and
its ports (named ports stay names: they resolve on each destination pod). Selection reuses the
engine's compiled bitmasks, so the enforcer and the matrix can never disagree on who is selected.
"""
from __future__ import annotations

from dataclasses import dataclass

from .engine import Engine
from .model import EGRESS, INGRESS, IPBlock, NetworkPolicy, Pod, Port, Rule
from .selector import bits


@dataclass(frozen=True)
class ResolvedRule:
    """One ingress/egress rule: ``all_peers`` (no from/to) or the pods and ipBlocks it admits."""

    direction: str
    index: int
    all_peers: bool
    pods: tuple[Pod, ...]
    ip_blocks: tuple[IPBlock, ...]
    ports: tuple[Port, ...]


@dataclass(frozen=True)
class ResolvedPolicy:
    """A policy, the pods it selects and its rules (``directions`` it isolates for)."""

    policy: NetworkPolicy
    selected: tuple[Pod, ...]
    directions: tuple[str, ...]
    ingress: tuple[ResolvedRule, ...]
    egress: tuple[ResolvedRule, ...]

    def rules(self, direction: str) -> tuple[ResolvedRule, ...]:
        return self.ingress if direction == INGRESS else self.egress


def resolve(engine: Engine) -> list[ResolvedPolicy]:
    """Every policy of ``engine`` resolved against its pods and namespaces."""
    out = []
    for i, policy in enumerate(engine.policies):
        selected = tuple(engine.pods[j] for j in bits(engine.selected_mask(i)))
        out.append(ResolvedPolicy(
            policy, selected, tuple(d for d in (INGRESS, EGRESS) if policy.affects(d)),
            tuple(_rule(engine, policy, INGRESS, k, r) for k, r in enumerate(policy.ingress)),
            tuple(_rule(engine, policy, EGRESS, k, r) for k, r in enumerate(policy.egress))))
    return out


def _rule(engine: Engine, policy: NetworkPolicy, direction: str, index: int, rule: Rule) -> ResolvedRule:
    mask = 0
    blocks = []
    for peer in rule.peers:
        if peer.ip_block is not None:
            blocks.append(peer.ip_block)
        else:
            mask |= engine.peer_mask(peer, policy.namespace)
    return ResolvedRule(direction, index, not rule.peers, tuple(engine.pods[j] for j in bits(mask)),
                        tuple(blocks), rule.ports)
