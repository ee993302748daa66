"""Why one connection is allowed or denied: the per-cell walk, in words a learner can follow.

For a source, a destination, a port and a protocol it says which policies isolate the source
for egress and the destination for ingress, which rule (``<ns>/<policy> spec.ingress[i]``)
lets the connection through, or that none does, plus the rules that would have matched but for
the port ("near misses", the usual named-port and protocol mistakes).

This walk reads the policies directly (selector by selector, port by port) and shares no code
with the bitmask engine beyond the model's own ``matches`` helpers: the tests compare the two on
random clusters, so each checks the other.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import i18n
from .model import EGRESS, INGRESS, Namespace, NetworkPolicy, Peer, Pod, Rule

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True)
class RuleRef:
    """A rule of a policy, named as in the API: ``x/allow-a spec.ingress[0]``."""

    policy: str
    path: str

    def __str__(self) -> str:
        return f"{self.policy} {self.path}"


@dataclass(frozen=True)
class DirectionVerdict:
    """One side of the connection: the source's egress or the destination's ingress."""

    direction: str
    pod: str
    isolated_by: tuple[str, ...]
    allowed_by: tuple[RuleRef, ...]
    port_misses: tuple[RuleRef, ...] = ()

    @property
    def isolated(self) -> bool:
        return bool(self.isolated_by)

    @property
    def allowed(self) -> bool:
        return not self.isolated_by or bool(self.allowed_by)

    def render(self, lang: str | None = None) -> list[str]:
        d = self.direction
        section = i18n.t(f"netpol.explain.section.{d}", lang, pod=self.pod)
        sep = ", "
        if not self.isolated:
            lines = [i18n.t("netpol.explain.not_isolated", lang, section=section, pod=self.pod,
                            direction=i18n.t(f"netpol.explain.for.{d}", lang))]
        elif self.allowed_by:
            lines = [i18n.t("netpol.explain.isolated_allowed", lang, section=section,
                            policies=sep.join(self.isolated_by), rules=sep.join(map(str, self.allowed_by)))]
        else:
            lines = [i18n.t("netpol.explain.isolated_denied", lang, section=section,
                            policies=sep.join(self.isolated_by))]
        for ref in self.port_misses:
            lines.append("    " + i18n.t("netpol.explain.port_miss", lang, rule=str(ref)))
        return lines


@dataclass(frozen=True)
class Explanation:
    """The verdict for one cell and the reasons for it, renderable in English or French."""

    src: str
    dst: str
    port: int
    protocol: str
    egress: DirectionVerdict
    ingress: DirectionVerdict
    self_pair: bool = False
    self_allowed: bool = False
    ipblock_matches_pods: bool = True

    @property
    def allowed(self) -> bool:
        return self.self_allowed or (self.egress.allowed and self.ingress.allowed)

    def render(self, lang: str | None = None) -> str:
        verdict = i18n.t("netpol.verdict.allowed" if self.allowed else "netpol.verdict.denied", lang)
        lines = [i18n.t("netpol.explain.head", lang, src=self.src, dst=self.dst, protocol=self.protocol,
                        port=self.port, verdict=verdict)]
        if self.self_allowed:
            lines.append("  " + i18n.t("netpol.explain.self_allowed", lang))
        elif self.self_pair:
            lines.append("  " + i18n.t("netpol.explain.self_evaluated", lang))
        for side in (self.egress, self.ingress):
            lines.extend("  " + line for line in side.render(lang))
        if not self.ipblock_matches_pods:
            lines.append("  " + i18n.t("netpol.explain.ipblock_off", lang))
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.render())}</pre>"


def explain_cell(engine: Engine, src: Pod, dst: Pod, port: int, protocol: str) -> Explanation:
    """Walk every policy for one (source, destination, port, protocol)."""
    namespaces = engine.namespaces
    walk = _Walk(namespaces, engine.ipblock_matches_pods, port, protocol)
    egress = walk.side(engine.policies, EGRESS, subject=src, peer=dst, dst=dst)
    ingress = walk.side(engine.policies, INGRESS, subject=dst, peer=src, dst=dst)
    self_pair = src.key == dst.key
    return Explanation(src.key, dst.key, port, protocol, egress, ingress, self_pair,
                       self_pair and engine.allow_self, engine.ipblock_matches_pods)


class _Walk:
    def __init__(self, namespaces: Mapping[str, Namespace], ipblock_matches_pods: bool, port: int,
                 protocol: str) -> None:
        self.namespaces = namespaces
        self.ipblock_matches_pods = ipblock_matches_pods
        self.port, self.protocol = port, protocol

    def side(self, policies: tuple[NetworkPolicy, ...], direction: str, subject: Pod, peer: Pod,
             dst: Pod) -> DirectionVerdict:
        """``subject`` is the pod the policies must select; ``peer`` the other end of the rule."""
        isolated_by, allowed_by, misses = [], [], []
        field = "ingress" if direction == INGRESS else "egress"
        for policy in policies:
            if not self.selects(policy, subject) or not policy.affects(direction):
                continue
            isolated_by.append(policy.key)
            for i, rule in enumerate(policy.rules(direction)):
                ref = RuleRef(policy.key, f"spec.{field}[{i}]")
                if not self.admits(rule, policy.namespace, peer):
                    continue
                if self.ports_match(rule, dst):
                    allowed_by.append(ref)
                else:
                    misses.append(ref)
        return DirectionVerdict(direction, subject.key, tuple(isolated_by), tuple(allowed_by), tuple(misses))

    @staticmethod
    def selects(policy: NetworkPolicy, pod: Pod) -> bool:
        return pod.namespace == policy.namespace and policy.pod_selector.matches(pod.labels)

    def admits(self, rule: Rule, policy_ns: str, pod: Pod) -> bool:
        return not rule.peers or any(self.peer_matches(p, policy_ns, pod) for p in rule.peers)

    def peer_matches(self, peer: Peer, policy_ns: str, pod: Pod) -> bool:
        if peer.ip_block is not None:
            return self.ipblock_matches_pods and peer.ip_block.contains(pod.ip)
        if peer.namespace_selector is not None:
            ns = self.namespaces.get(pod.namespace) or Namespace(pod.namespace)
            if not peer.namespace_selector.matches(ns.labels):
                return False
        elif pod.namespace != policy_ns:
            return False
        return peer.pod_selector is None or peer.pod_selector.matches(pod.labels)

    def ports_match(self, rule: Rule, dst: Pod) -> bool:
        return not rule.ports or any(p.matches(dst, self.port, self.protocol) for p in rule.ports)
