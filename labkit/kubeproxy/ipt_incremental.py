"""A partial iptables sync computed from the Services that changed (the iptables twin of
:mod:`.nft_incremental`).

Each service port's lines are kept in two parts: its *frontends* (rules in the top-level chains
``KUBE-SERVICES``, ``KUBE-NODEPORTS``, ``KUBE-EXTERNAL-SERVICES``, ``KUBE-PROXY-FIREWALL``) and its
own chains (``KUBE-SVC/SVL/EXT/FW/SEP``). When the changed Services' frontends are unchanged (an
endpoint came or went: the common change), the partial sync is their changed chains and the
``-X`` of the chains they no longer write, which is what :func:`~.iptables_sync.iptables_update`
gives for the same change; otherwise (a Service added or deleted, a frontend changed, the cluster
crossed ``large_cluster_threshold``) the caller compares whole texts as before, from
:meth:`IptNodeState.text`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .iptables_sync import IptablesUpdate

Group = tuple[str, str]  # (namespace, Service name)


@dataclass(frozen=True)
class IptPiece:
    """What one service port writes, in the order :func:`~.iptables.render_iptables` writes it."""

    order: tuple[str, str]  # its place among the service ports (``ProxyInput.sorted_services``)
    frontends: tuple[tuple[str, ...], tuple[str, ...]]  # filter rules, nat rules in top-level chains
    chains: tuple[str, ...]  # nat chain declarations (":KUBE-SVC-... - [0:0]")
    rules: tuple[str, ...]  # nat rules of those chains


def _chain_rules(pieces: Iterable[IptPiece]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in pieces:
        for decl in p.chains:
            out.setdefault(decl[1:].split(" ", 1)[0], [])
        for line in p.rules:
            end = line.find(" ", 3)
            out.setdefault(line[3:end], []).append(line)
    return out


class IptNodeState:
    """The rules a node holds, by Service; ``head``/``tail``: the fixed lines around the services'."""

    def __init__(self, groups: dict[Group, list[IptPiece]], head: tuple[list[str], ...],
                 tail: tuple[list[str], ...], large: bool, threshold: int, endpoints: dict[Group, int]) -> None:
        self.groups, self.head, self.tail = groups, head, tail
        self.large, self.threshold = large, threshold
        self.endpoints = endpoints  # each Service's endpoints (``ProxyInput.total_endpoints`` by Service)

    def update(self, changes: dict[Group, tuple[list[IptPiece], int]]) -> IptablesUpdate | None:
        """The partial sync giving each changed Service its new pieces and endpoint count;
        ``None``: compare whole texts."""
        old = [p for g in changes for p in self.groups.get(g, [])]
        new = [p for pieces, _ in changes.values() for p in pieces]
        total = sum(self.endpoints.values()) - sum(self.endpoints.get(g, 0) for g in changes) \
            + sum(n for _, n in changes.values())
        if (total > self.threshold) != self.large:
            return None  # every Service's rules change form (comments): a whole comparison
        if sorted((p.order, p.frontends) for p in old) != sorted((p.order, p.frontends) for p in new):
            return None
        before, after = _chain_rules(old), _chain_rules(new)
        changed = [c for c, rules in after.items() if before.get(c) != rules]
        stale = sorted(c for c in before if c not in after)
        for g, (pieces, n) in changes.items():
            self.groups[g] = pieces
            self.endpoints[g] = n
            if not pieces:
                del self.groups[g]
            if not n:
                del self.endpoints[g]
        if not changed and not stale:
            return IptablesUpdate("")
        lines = [f":{c} - [0:0]" for c in changed + stale]
        lines += [r for c in changed for r in after[c]]
        lines += [f"-X {c}" for c in stale]
        return IptablesUpdate("\n".join(["*nat", *lines, "COMMIT"]) + "\n", len(changed), stale)

    def text(self) -> str:
        """The whole ``iptables-restore`` input, as :func:`~.iptables.render_iptables` writes it."""
        pieces = sorted((p for ps in self.groups.values() for p in ps), key=lambda p: p.order)
        filter_chains, filter_rules, nat_chains, nat_rules = (list(x) for x in self.head)
        for p in pieces:
            filter_rules += p.frontends[0]
            nat_chains += p.chains
            nat_rules += p.frontends[1]
            nat_rules += p.rules
        filter_chains += self.tail[0]
        filter_rules += self.tail[1]
        nat_chains += self.tail[2]
        nat_rules += self.tail[3]
        lines = ["*filter", *filter_chains, *filter_rules, "COMMIT", "*nat", *nat_chains, *nat_rules, "COMMIT"]
        return "\n".join(lines) + "\n"
