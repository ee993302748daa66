"""What the kernel reported for one real connection, beside the predicted trace (pure).

:func:`from_records` turns each node's ``nft monitor`` output into :class:`ObservedPacket` s (one
per packet per node: the rules that matched, in order, with their verdicts; iptables-nft rules
shown as their ``iptables-save`` line, comment included), ordered along the path by the TTL the
packet had when it entered (each routed hop takes one). :func:`compare` checks the prediction
against it: the endpoint that answered must be a predicted candidate, the kube-proxy chains
predicted for it must be the ones the packet went through, and a packet the kernel dropped must
have been predicted denied. Anything else is a :class:`Difference`, in both languages.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .inspect import nftrace

MESSAGES = {
    "trace.cli.observe_help": {
        "en": "also send one real connection and show the rules the kernel reported (nft trace), "
              "beside the prediction (embedded lab, root)",
        "fr": "envoyer aussi une vraie connexion et montrer les règles signalées par le noyau (trace nft), "
              "à côté de la prévision (lab embarqué, root)"},
    "trace.cli.observe_needs_lab": {
        "en": "--observe sends real packets: it needs a running lab (--name), not --snapshot",
        "fr": "--observe envoie de vrais paquets : il faut un lab en marche (--name), pas --snapshot"},
    "observe.head": {
        "en": "Observed by the kernel (nft monitor trace; packets traced: {packets}, nodes: {nodes}):",
        "fr": "Observé par le noyau (nft monitor trace ; paquets tracés : {packets}, nœuds : {nodes}) :"},
    "observe.packet": {
        "en": "node {node}: packet in by {iif}, {src} → {dst} (ttl {ttl})",
        "fr": "nœud {node} : paquet entré par {iif}, {src} → {dst} (ttl {ttl})"},
    "observe.packet_out": {
        "en": "node {node}: packet sent by the node, {src} → {dst} (ttl {ttl})",
        "fr": "nœud {node} : paquet émis par le nœud, {src} → {dst} (ttl {ttl})"},
    "observe.rewritten": {
        "en": "now {src} → {dst} ({where})",
        "fr": "désormais {src} → {dst} ({where})"},
    "observe.dropped": {"en": "dropped here ({where})", "fr": "jeté ici ({where})"},
    "observe.answer": {
        "en": "answered by {pod} ({ip}:{port}), which saw the client as {client}",
        "fr": "réponse de {pod} ({ip}:{port}), qui a vu le client comme {client}"},
    "observe.no_answer": {"en": "no answer ({error})", "fr": "pas de réponse ({error})"},
    "observe.agree": {
        "en": "Observed = predicted: the packet went through {chains}.",
        "fr": "Observé = prévu : le paquet est passé par {chains}."},
    "observe.agree_direct": {
        "en": "Observed = predicted: no Service chain, no DNAT (straight to the pod).",
        "fr": "Observé = prévu : aucune chaîne de Service, pas de DNAT (directement vers le pod)."},
    "observe.draw_title": {
        "en": "{src} → {dst}: the path a real packet took (answered by {target})",
        "fr": "{src} → {dst} : le chemin d'un vrai paquet (réponse de {target})"},
    "observe.differ": {
        "en": "{count} difference(s) between prediction and observation:",
        "fr": "{count} différence(s) entre la prévision et l'observation :"},
    "observe.diff.endpoint": {
        "en": "the endpoint that answered, {target}, is not among the predicted candidates ({candidates})",
        "fr": "l'endpoint qui a répondu, {target}, ne fait pas partie des candidats prévus ({candidates})"},
    "observe.diff.missing": {
        "en": "predicted chain {chain} was not traversed",
        "fr": "la chaîne prévue {chain} n'a pas été traversée"},
    "observe.diff.unexpected": {
        "en": "chain {chain} was traversed but not predicted",
        "fr": "la chaîne {chain} a été traversée mais pas prévue"},
    "observe.diff.dropped": {
        "en": "the kernel dropped the packet in {where}, the prediction let it through",
        "fr": "le noyau a jeté le paquet dans {where}, la prévision le laissait passer"},
    "observe.diff.no_answer": {
        "en": "no endpoint answered, the prediction expected {candidates}",
        "fr": "aucun endpoint n'a répondu, la prévision attendait {candidates}"},
    "observe.diff.answered": {
        "en": "{target} answered, the prediction expected no connection",
        "fr": "{target} a répondu, la prévision n'attendait aucune connexion"},
    "observe.leftover": {
        "en": "warning: the ruleset of {nodes} differs after the trace",
        "fr": "attention : le jeu de règles de {nodes} diffère après la trace"},
}

# Chains that belong to one Service or endpoint: traversing one that was not predicted is news.
# iptables: KUBE-SVC-<hash>…; nftables: service-<HASH8>-ns/name/proto/port… (not firewall-check & co).
_SPECIFIC = re.compile(r"^(KUBE-(SVC|SEP|EXT|SVL|FW|XLB)-[A-Z0-9]+|(service|endpoint|external|firewall)-[A-Z0-9]{8}-.+)$")


def specific(chain: str) -> bool:
    return bool(_SPECIFIC.match(chain))


@dataclass(frozen=True)
class ObservedRule:
    table: str                 # "ip nat", "ip kube-proxy", "inet labkit-netpol"…
    chain: str
    text: str                  # nft's text of the rule
    verdict: str
    iptables: str | None = None  # the iptables-save line of an iptables-nft rule

    @property
    def shown(self) -> str:
        return self.iptables or self.text


@dataclass
class ObservedPacket:
    """One packet in one node: where it came in, the rules that matched, what NAT did."""

    node: str
    ttl: int
    entered: dict[str, str]
    steps: list[Any] = field(default_factory=list)   # ObservedRule, or ("rewrite"|"drop", where, fields)

    @property
    def rules(self) -> list[ObservedRule]:
        return [s for s in self.steps if isinstance(s, ObservedRule)]

    @property
    def chains(self) -> list[str]:
        out: list[str] = []
        for r in self.rules:
            for c in (r.chain, r.verdict.split(None, 1)[1] if r.verdict.startswith(("jump ", "goto ")) else None):
                if c and c not in out:
                    out.append(c)
        return out

    @property
    def dropped_in(self) -> str | None:
        return next((s[1] for s in self.steps if isinstance(s, tuple) and s[0] == "drop"), None)


@dataclass(frozen=True)
class Difference:
    key: str
    params: dict[str, Any]

    def text(self, lang: str | None = None) -> str:
        return i18n.t(f"observe.diff.{self.key}", lang, **self.params)


def _addr(fields: dict[str, str], side: str) -> str:
    ip = fields.get(f"ip {side}addr", "?")
    port = fields.get(f"tcp {side}port") or fields.get(f"udp {side}port")
    return f"{ip}:{port}" if port else ip


def packets_of(node: str, monitor: str, ruleset: str = "", iptables_save: str = "") -> list[ObservedPacket]:
    """The traced packets of one node's ``nft -a monitor`` output."""
    by_handle = nftrace.iptables_rules_by_handle(ruleset, iptables_save) if iptables_save else {}
    texts = nftrace.rule_texts(ruleset) if ruleset else {}
    out = []
    for pkt in nftrace.group_packets(nftrace.parse_monitor(monitor)):
        obs = ObservedPacket(node, pkt.ttl, pkt.first)
        last = pkt.first
        for e in pkt.events:
            if e.ours:
                continue
            where = f"{e.family} {e.table} {e.chain}"
            if e.kind == "packet":
                if (_addr(e.fields, "s"), _addr(e.fields, "d")) != (_addr(last, "s"), _addr(last, "d")):
                    obs.steps.append(("rewrite", where, e.fields))
                last = e.fields
            elif e.kind == "rule":
                text = e.text or texts.get((e.family, e.table, e.chain, e.handle or -1), "")
                ipt = by_handle.get((e.table, e.chain, e.handle)) if e.family == "ip" and e.handle else None
                obs.steps.append(ObservedRule(f"{e.family} {e.table}", e.chain, text, e.verdict, ipt))
                if e.verdict == "drop" or e.verdict.startswith("reject"):
                    obs.steps.append(("drop", where, {}))
            elif e.kind in ("policy", "verdict") and e.verdict == "drop":
                obs.steps.append(("drop", where, {}))
        out.append(obs)
    return out


@dataclass
class Observation:
    """The kernel's account of one connection, across the nodes it crossed."""

    source: str
    destination: str
    protocol: str
    packets: list[ObservedPacket]
    answer: dict[str, Any] | None = None
    error: str = ""
    leftover_nodes: list[str] = field(default_factory=list)

    @property
    def chains(self) -> list[str]:
        out: list[str] = []
        for p in self.packets:
            out += [c for c in p.chains if c not in out]
        return out

    @property
    def endpoint(self) -> str | None:
        if not self.answer:
            return None
        return f"{self.answer.get('pod_ip')}:{self.answer.get('port')}"

    def lines(self, lang: str | None = None) -> list[str]:
        nodes = {p.node for p in self.packets}
        out = [i18n.t("observe.head", lang, packets=len(self.packets), nodes=len(nodes))]
        for p in self.packets:
            key = "observe.packet" if p.entered.get("iif") else "observe.packet_out"
            out.append("  " + i18n.t(key, lang, node=p.node, iif=p.entered.get("iif", "-"),
                                     src=_addr(p.entered, "s"), dst=_addr(p.entered, "d"), ttl=p.ttl))
            for s in p.steps:
                if isinstance(s, ObservedRule):
                    out.append(f"      {s.table} {s.chain}: {s.shown}  [{s.verdict}]")
                elif s[0] == "rewrite":
                    out.append("      → " + i18n.t("observe.rewritten", lang, src=_addr(s[2], "s"),
                                                    dst=_addr(s[2], "d"), where=s[1]))
                else:
                    out.append("      ✗ " + i18n.t("observe.dropped", lang, where=s[1]))
        if self.answer:
            a = self.answer
            out.append("  " + i18n.t("observe.answer", lang, pod=f"{a.get('namespace')}/{a.get('pod')}",
                                     ip=a.get("pod_ip"), port=a.get("port"),
                                     client=f"{a.get('client_ip')}:{a.get('client_port')}"))
        else:
            out.append("  " + i18n.t("observe.no_answer", lang, error=self.error or "-"))
        if self.leftover_nodes:
            out.append("  " + i18n.t("observe.leftover", lang, nodes=", ".join(self.leftover_nodes)))
        return out

    def to_html(self, lang: str | None = None) -> str:
        """The kernel's report as a table: one band per packet and node, one row per rule that matched
        (a Service's or endpoint's chain in green, NAT rewrites in yellow, a drop in red)."""
        esc = html.escape
        lines = self.lines(lang)
        rows = []
        for p in self.packets:
            key = "observe.packet" if p.entered.get("iif") else "observe.packet_out"
            head = i18n.t(key, lang, node=p.node, iif=p.entered.get("iif", "-"), src=_addr(p.entered, "s"),
                          dst=_addr(p.entered, "d"), ttl=p.ttl)
            rows.append(f"<tr><td colspan='3' style='font-weight:bold;padding-top:4px'>{esc(head)}</td></tr>")
            for st in p.steps:
                if isinstance(st, ObservedRule):
                    bg = "#ddf2e1" if specific(st.chain) else "#fff"
                    rows.append(f"<tr style='background:{bg}'><td style='white-space:nowrap'>{esc(st.table)} "
                                f"<b>{esc(st.chain)}</b></td><td style='font-family:monospace;font-size:85%'>"
                                f"{esc(st.shown)}</td><td style='white-space:nowrap'>{esc(st.verdict)}</td></tr>")
                else:
                    text = (i18n.t("observe.rewritten", lang, src=_addr(st[2], "s"), dst=_addr(st[2], "d"), where=st[1])
                            if st[0] == "rewrite" else i18n.t("observe.dropped", lang, where=st[1]))
                    bg = "#fff3cd" if st[0] == "rewrite" else "#f5c2c2"
                    rows.append(f"<tr style='background:{bg}'><td colspan='3'>→ {esc(text)}</td></tr>")
        tail = "".join(f"<div>{esc(line.strip())}</div>" for line in lines[-1 - bool(self.leftover_nodes):])
        return (f"<div><b>{esc(lines[0])}</b><table style='border-collapse:collapse'>{''.join(rows)}</table>"
                f"{tail}</div>")

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "chains": self.chains, "clean": not self.leftover_nodes,
                "packets": [{"node": p.node, "ttl": p.ttl, "entered": p.entered,
                             "rules": [{"table": r.table, "chain": r.chain, "rule": r.shown, "verdict": r.verdict}
                                       for r in p.rules], "dropped_in": p.dropped_in} for p in self.packets]}


def from_records(source: str, destination: str, protocol: str, records: Iterable[Any],
                 answer: dict[str, Any] | None, error: str = "") -> Observation:
    """An :class:`Observation` from ``labkit.kernel_trace.NodeRecord`` s (any object with ``node``,
    ``monitor``, ``ruleset``, ``iptables_save``, ``clean``)."""
    records = list(records)
    order = {r.node: i for i, r in enumerate(records)}
    packets = [p for r in records for p in packets_of(r.node, r.monitor, r.ruleset, r.iptables_save)]
    packets.sort(key=lambda p: (-p.ttl, order[p.node]))
    return Observation(source, destination, protocol.upper(), packets, answer, error,
                       [r.node for r in records if not r.clean])


# -- prediction against observation -----------------------------------------------------------------
def predicted_chains(trace: Any, candidate: int) -> list[str]:
    shared = [c for h in trace.hops if h.candidate is None for c in h.chains]
    return shared + [c for c in trace.candidates[candidate].chains if c not in shared]


def compare(trace: Any, obs: Observation) -> list[Difference]:
    """Where a predicted ``labkit.trace.Trace`` and the kernel's observation part ways."""
    diffs: list[Difference] = []
    targets = [c.target for c in trace.candidates]
    predicted = [c for h in trace.hops if h.candidate is None for c in h.chains]
    allowed_somewhere = any(c.allowed is not False for c in trace.candidates)
    if obs.endpoint is None:
        if allowed_somewhere:
            diffs.append(Difference("no_answer", {"candidates": ", ".join(targets) or "-"}))
            dropped = next((p.dropped_in for p in obs.packets if p.dropped_in), None)
            if dropped:
                diffs.append(Difference("dropped", {"where": dropped}))
    elif obs.endpoint not in targets:
        diffs.append(Difference("endpoint", {"target": obs.endpoint, "candidates": ", ".join(targets) or "-"}))
    else:
        n = targets.index(obs.endpoint)
        predicted = predicted_chains(trace, n)
        if trace.candidates[n].allowed is False:
            diffs.append(Difference("answered", {"target": obs.endpoint}))
    seen = obs.chains
    diffs += [Difference("missing", {"chain": c}) for c in predicted if c not in seen]
    known = set(predicted) if obs.endpoint in targets else set(trace.chains)
    diffs += [Difference("unexpected", {"chain": c}) for c in seen if specific(c) and c not in known]
    return diffs


@dataclass
class ObservedTrace:
    """A predicted trace and what the kernel reported for one real connection, side by side."""

    predicted: Any                # labkit.trace.Trace
    observed: Observation

    @property
    def differences(self) -> list[Difference]:
        return compare(self.predicted, self.observed)

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self, lang: str | None = None) -> list[str]:
        diffs = self.differences
        if not diffs:
            chains = " → ".join(c for c in self.observed.chains if specific(c))
            return [i18n.t("observe.agree", lang, chains=chains) if chains else i18n.t("observe.agree_direct", lang)]
        return [i18n.t("observe.differ", lang, count=len(diffs))] + ["  ≠ " + d.text(lang) for d in diffs]

    def to_text(self, lang: str | None = None) -> str:
        return (str(self.predicted.to_text(lang)) + "\n" + "\n".join(self.observed.lines(lang)) + "\n"
                + "\n".join(self.summary(lang)) + "\n")

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = "#ddf2e1" if self.ok else "#fbe0e0"
        summary = "".join(f"<div>{esc(s)}</div>" for s in self.summary())
        return (f"<div>{self.predicted._repr_html_()}</div><div style='margin-top:6px'>{self.observed.to_html()}</div>"
                f"<div style='background:{colour};padding:4px;margin-top:4px'>{summary}</div>")

    def draw(self, lang: str | None = None) -> Any:
        """The pod-network diagram with the path the real packet took: the shared hops and those of
        the endpoint that answered (the whole prediction when no candidate answered)."""
        from .diagrams import pods as pod_diagram
        from .trace import draw_trace, path_highlight

        targets = [c.target for c in self.predicted.candidates]
        if self.observed.endpoint not in targets:
            return draw_trace(self.predicted, lang)
        hl = path_highlight(self.predicted, self.observed.endpoint)
        a = self.observed.answer or {}
        who = f"{a.get('namespace')}/{a.get('pod')}" if a.get("pod") else self.observed.endpoint
        title = i18n.t("observe.draw_title", lang, src=self.predicted.source, dst=self.predicted.destination,
                       target=who)
        return pod_diagram.pod_network(self.predicted.snapshot, lang, highlight=hl, title=title)

    def to_dict(self) -> dict[str, Any]:
        return {"observed": self.observed.to_dict(), "ok": self.ok,
                "differences": [{"key": d.key, **d.params, "text": d.text()} for d in self.differences]}
