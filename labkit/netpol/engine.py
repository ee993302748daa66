"""The NetworkPolicy engine: who may open a connection to whom, for one port and protocol.

Design: everything is a set of pod indexes stored as a Python ``int`` bitmask (bit *i* = the
*i*-th pod in ``Engine.pods``). Port-independent work happens once, in ``__init__``: the pods
each policy selects and the peers each rule admits (namespaces resolved, ipBlocks matched).
A query then only adds which destinations each rule's ``ports`` cover (named ports resolve per
destination pod) and ORs masks row by row:

* ingress row of source *s* = destinations not isolated for ingress, plus, for every ingress
  rule whose peers include *s*, the pods its policy selects where its ports match;
* egress row of *s* = everything if *s* is not isolated for egress, else the union over the
  egress rules of policies selecting *s* of (peers where the ports match);
* combined = ingress AND egress (replies are implied: the lab's enforcer is stateful).

No per-cell rule walk: 1,000 pods x 200 policies take milliseconds (see ``bench/``). The per-cell
walk exists too, in ``explain.py``, written independently; the tests check both agree.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import BadInput
from .model import EGRESS, INGRESS, PROTOCOLS, Namespace, NetworkPolicy, Peer, Pod, Port
from .parse import parse_policy
from .selector import LabelIndex, bits

if TYPE_CHECKING:
    from .explain import Explanation
    from .matrix import Reachability


class _CompiledPolicy:
    __slots__ = ("policy", "selected", "ingress_peers", "egress_peers")

    def __init__(self, policy: NetworkPolicy, selected: int, ingress: list[int], egress: list[int]) -> None:
        self.policy = policy
        self.selected = selected
        self.ingress_peers = ingress
        self.egress_peers = egress


class Engine:
    """Namespaces, pods and policies compiled for fast reachability queries.

    ``ipblock_matches_pods``: whether ``ipBlock`` peers match pod IPs (True, as the upstream e2e
    tests expect; False reproduces Cilium and netpol-analyzer, which only match external IPs).
    ``allow_self``: whether a pod may always reach itself over its own IP (True: "a pod cannot
    block access to itself"; upstream e2e ignores these pairs). False evaluates self pairs like
    any other pair, as ``sample-cases.yaml`` lists them.
    """

    def __init__(
        self,
        namespaces: Iterable[Namespace] = (),
        pods: Iterable[Pod] = (),
        policies: Iterable[NetworkPolicy | Mapping[str, Any]] = (),
        *,
        ipblock_matches_pods: bool = True,
        allow_self: bool = True,
    ) -> None:
        self.ipblock_matches_pods = ipblock_matches_pods
        self.allow_self = allow_self
        self.pods: tuple[Pod, ...] = tuple(sorted(pods, key=lambda p: (p.namespace, p.name)))
        self.index: dict[str, int] = {}
        for i, pod in enumerate(self.pods):
            if pod.key in self.index:
                raise BadInput("netpol.error.duplicate_pod", pod=pod.key)
            self.index[pod.key] = i
        self.policies: tuple[NetworkPolicy, ...] = tuple(
            p if isinstance(p, NetworkPolicy) else parse_policy(p) for p in policies
        )
        self.namespaces = _complete_namespaces(namespaces, self.pods, self.policies)
        self.all = (1 << len(self.pods)) - 1
        self._pod_labels = LabelIndex([p.labels for p in self.pods])
        ns_names = sorted(self.namespaces)
        self._ns_labels = LabelIndex([self.namespaces[n].labels for n in ns_names])
        self._pods_in_ns = {n: 0 for n in ns_names}
        for i, pod in enumerate(self.pods):
            self._pods_in_ns[pod.namespace] |= 1 << i
        self._ns_pod_masks = [self._pods_in_ns[n] for n in ns_names]
        self._ips = [_ip_int(p.ip) for p in self.pods]
        self._compiled = [self._compile(p) for p in self.policies]
        self._cache: dict[tuple[int, str], Reachability] = {}

    # -- compilation (port-independent) -------------------------------------------------------
    def _compile(self, policy: NetworkPolicy) -> _CompiledPolicy:
        selected = self._pod_labels.select(policy.pod_selector) & self._pods_in_ns.get(policy.namespace, 0)
        return _CompiledPolicy(
            policy,
            selected,
            [self._peers_mask(r.peers, policy.namespace) for r in policy.ingress],
            [self._peers_mask(r.peers, policy.namespace) for r in policy.egress],
        )

    def _peers_mask(self, peers: Sequence[Peer], namespace: str) -> int:
        if not peers:  # no from/to: every source/destination
            return self.all
        mask = 0
        for peer in peers:
            mask |= self.peer_mask(peer, namespace)
        return mask

    def peer_mask(self, peer: Peer, namespace: str) -> int:
        """The pods one peer of a policy in ``namespace`` admits."""
        if peer.ip_block is not None:
            return self._ip_block_mask(peer) if self.ipblock_matches_pods else 0
        if peer.namespace_selector is not None:
            pods = 0
            for ns in bits(self._ns_labels.select(peer.namespace_selector)):
                pods |= self._ns_pod_masks[ns]
        else:  # podSelector alone: the policy's own namespace
            pods = self._pods_in_ns.get(namespace, 0)
        if peer.pod_selector is not None:
            pods &= self._pod_labels.select(peer.pod_selector)
        return pods

    def _ip_block_mask(self, peer: Peer) -> int:
        block = peer.ip_block
        assert block is not None  # the caller checked
        net = ipaddress.ip_network(block.cidr, strict=False)
        excepts = [ipaddress.ip_network(e, strict=False) for e in block.excepts]
        ranges = [(e.version, *_range(e)) for e in excepts]
        lo, hi = _range(net)
        mask = 0
        for i, ip in enumerate(self._ips):
            if ip is None or ip[0] != net.version or not lo <= ip[1] <= hi:
                continue
            if any(v == ip[0] and elo <= ip[1] <= ehi for v, elo, ehi in ranges):
                continue
            mask |= 1 << i
        return mask

    # -- queries ------------------------------------------------------------------------------
    def pod(self, key: str) -> Pod:
        """The pod named ``namespace/name`` (BadInput naming the known pods otherwise)."""
        i = self.index.get(key)
        if i is None:
            known = ", ".join(p.key for p in self.pods[:20]) + (", ..." if len(self.pods) > 20 else "")
            raise BadInput("netpol.error.unknown_pod", pod=key, known=known or "-")
        return self.pods[i]

    def reachability(self, port: int, protocol: str = "TCP") -> Reachability:
        """Ingress, egress and combined matrices for traffic to ``port``/``protocol``."""
        from .matrix import Matrix, Reachability

        port, protocol = check_port(port, protocol)
        cached = self._cache.get((port, protocol))
        if cached is not None:
            return cached
        ports = self._port_masks(port, protocol)
        ingress, egress = self._ingress_rows(ports), self._egress_rows(ports)
        if self.allow_self:
            for i in range(len(self.pods)):
                ingress[i] |= 1 << i
                egress[i] |= 1 << i
        combined = [a & b for a, b in zip(ingress, egress)]
        keys = tuple(p.key for p in self.pods)
        result = Reachability(
            port, protocol, Matrix(keys, ingress), Matrix(keys, egress), Matrix(keys, combined), engine=self
        )
        self._cache[(port, protocol)] = result
        return result

    def explain(self, src: str, dst: str, port: int, protocol: str = "TCP") -> Explanation:
        """Why ``src`` may or may not connect to ``dst`` (see ``explain.explain_cell``)."""
        from .explain import explain_cell

        port, protocol = check_port(port, protocol)
        return explain_cell(self, self.pod(src), self.pod(dst), port, protocol)

    def _port_masks(self, port: int, protocol: str) -> _PortMasks:
        named: dict[str, int] = {}
        for i, pod in enumerate(self.pods):
            seen = set()
            for cp in pod.ports:  # the first port of a name wins, as Pod.resolve_port
                if cp.name and cp.protocol == protocol and cp.name not in seen:
                    seen.add(cp.name)
                    if cp.port == port:
                        named[cp.name] = named.get(cp.name, 0) | (1 << i)
        return _PortMasks(self.all, port, protocol, named)

    def _ingress_rows(self, ports: _PortMasks) -> list[int]:
        isolated = 0
        grants: dict[int, int] = {}  # peers mask -> destinations it may reach
        for cp in self._compiled:
            if not cp.policy.affects(INGRESS):
                continue
            isolated |= cp.selected
            for rule, peers in zip(cp.policy.ingress, cp.ingress_peers):
                dests = cp.selected & ports.mask(rule.ports)
                if dests and peers:
                    grants[peers] = grants.get(peers, 0) | dests
        rows = [self.all & ~isolated] * len(self.pods)
        for peers, dests in grants.items():
            for s in bits(peers):
                rows[s] |= dests
        return rows

    def _egress_rows(self, ports: _PortMasks) -> list[int]:
        rows = [self.all] * len(self.pods)
        allowed: dict[int, int] = {}  # selected sources -> destinations they may reach
        for cp in self._compiled:
            if not cp.policy.affects(EGRESS) or not cp.selected:
                continue
            reach = 0
            for rule, peers in zip(cp.policy.egress, cp.egress_peers):
                reach |= peers & ports.mask(rule.ports)
            allowed[cp.selected] = allowed.get(cp.selected, 0) | reach
        for s in bits(self._isolated(EGRESS)):
            rows[s] = 0
        for sources, reach in allowed.items():
            if reach:
                for s in bits(sources):
                    rows[s] |= reach
        return rows

    def _isolated(self, direction: str) -> int:
        mask = 0
        for cp in self._compiled:
            if cp.policy.affects(direction):
                mask |= cp.selected
        return mask

    def selected_mask(self, policy: int) -> int:
        """The pods ``self.policies[policy]`` selects (bitmask), for code that compiles rules
        elsewhere (the lab's nftables enforcer, see ``resolved.py``)."""
        return self._compiled[policy].selected

    def isolated(self, direction: str) -> list[str]:
        """Pods selected by at least one policy for ``direction`` (``"Ingress"``/``"Egress"``)."""
        return [self.pods[i].key for i in bits(self._isolated(direction))]


class _PortMasks:
    """For one query: the destinations each rule's ``ports`` list covers (cached per list)."""

    def __init__(self, all_: int, port: int, protocol: str, named: dict[str, int]) -> None:
        self.all, self.port, self.protocol, self.named = all_, port, protocol, named
        self._cache: dict[tuple[Port, ...], int] = {}

    def mask(self, ports: tuple[Port, ...]) -> int:
        if not ports:
            return self.all
        cached = self._cache.get(ports)
        if cached is not None:
            return cached
        mask = 0
        for p in ports:
            if p.protocol != self.protocol:
                continue
            if p.port is None:
                mask = self.all
            elif isinstance(p.port, str):
                mask |= self.named.get(p.port, 0)
            elif p.port == self.port or (p.end_port is not None and p.port <= self.port <= p.end_port):
                mask = self.all
            if mask == self.all:
                break
        self._cache[ports] = mask
        return mask


def check_port(port: Any, protocol: Any) -> tuple[int, str]:
    """Validate a query's port and protocol (BadInput otherwise); protocol is upper-cased."""
    proto = str(protocol).upper()
    if proto not in PROTOCOLS:
        raise BadInput("netpol.error.bad_protocol", protocol=protocol)
    try:
        number = int(port)
    except (TypeError, ValueError):
        raise BadInput("netpol.error.bad_port", port=port) from None
    if isinstance(port, bool) or not 1 <= number <= 65535:
        raise BadInput("netpol.error.bad_port", port=port)
    return number, proto


def _complete_namespaces(
    declared: Iterable[Namespace], pods: Sequence[Pod], policies: Sequence[NetworkPolicy]
) -> dict[str, Namespace]:
    """Declared namespaces plus those only referenced (by a pod or a policy), labelled as the
    API server labels every namespace (``kubernetes.io/metadata.name``)."""
    out = {ns.name: ns for ns in declared}
    for name in [p.namespace for p in pods] + [p.namespace for p in policies]:
        if name not in out:
            out[name] = Namespace(name)
    return out


def _ip_int(ip: str | None) -> tuple[int, int] | None:
    if not ip:
        return None
    addr = ipaddress.ip_address(ip)
    return addr.version, int(addr)


def _range(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address)
