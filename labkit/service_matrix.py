"""The Service reachability matrix, predicted (pure): who reaches which Service, by which door, and why.

Rows are sources (every pod, every node, the host); columns are ``(Service, port, door)`` where the
door is the ClusterIP or the NodePort of one node. Each cell follows kube-proxy's semantics, read
in ``pkg/proxy/iptables/proxier.go`` (``syncProxyRules``) and ``pkg/proxy/topology.go``
(``CategorizeEndpoints``):

* endpoints come from the EndpointSlices of the Service (ready endpoints of the slice port whose
  name is the Service port's name);
* the node that does the DNAT is the source's own node for a ClusterIP (the host's traffic enters
  the lab through the first node), and the dialled node for a NodePort;
* ``internalTrafficPolicy: Local`` keeps ClusterIP traffic on the DNAT node's endpoints;
  ``externalTrafficPolicy: Local`` does the same for *external* NodePort traffic only: traffic from
  a pod (``-s <cluster CIDR>``) or from the node itself (``--src-type LOCAL``) is short-circuited to
  the cluster-wide endpoints ("pod traffic for … external destinations");
* no endpoint at all: kube-proxy rejects; no endpoint left by a Local policy: dropped;
* masquerade (``KUBE-MARK-MASQ``): ClusterIP traffic from outside the cluster CIDR, hairpin traffic
  (a pod reaching itself), NodePort traffic under ``externalTrafficPolicy: Cluster``; a masqueraded
  packet reaches a remote endpoint from the DNAT node's IP;
* NetworkPolicies are enforced as the lab does (``labkit.embedded.policy``): in the ``forward`` hook
  of the node, after DNAT and before masquerade; egress on the source pod's node (towards the
  endpoint if that node did the DNAT, towards the dialled node's IP otherwise), ingress on the
  endpoint's node; a node's own connections to its pods are not filtered; a source that is not a
  pod reaches an ingress-isolated pod only through an ``ipBlock`` (not evaluated here: denied);
* ``sessionAffinity: ClientIP`` sends every connection of a source to one endpoint: a cell whose
  endpoints disagree then gives the same answer every time, for an endpoint chosen at random.
"""
from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import i18n

MESSAGES = {
    "svcmatrix.reason.no_endpoints": {
        "en": "{service} has no ready endpoint: kube-proxy rejects the connection",
        "fr": "{service} n'a aucun endpoint prêt : kube-proxy rejette la connexion"},
    "svcmatrix.reason.itp_local_none": {
        "en": "internalTrafficPolicy Local and no endpoint on {node} (where the DNAT happens): dropped",
        "fr": "internalTrafficPolicy Local et aucun endpoint sur {node} (où a lieu le DNAT) : jeté"},
    "svcmatrix.reason.etp_local_none": {
        "en": "externalTrafficPolicy Local, external traffic, and no endpoint on {node}: dropped",
        "fr": "externalTrafficPolicy Local, trafic externe, et aucun endpoint sur {node} : jeté"},
    "svcmatrix.reason.itp_local": {
        "en": "internalTrafficPolicy Local: only the endpoints on {node}: {endpoints}",
        "fr": "internalTrafficPolicy Local : seulement les endpoints de {node} : {endpoints}"},
    "svcmatrix.reason.etp_local": {
        "en": "externalTrafficPolicy Local, external traffic: only the endpoints on {node}: {endpoints}",
        "fr": "externalTrafficPolicy Local, trafic externe : seulement les endpoints de {node} : {endpoints}"},
    "svcmatrix.reason.etp_short_circuit": {
        "en": "externalTrafficPolicy Local does not apply: traffic from a pod or from the node itself goes to "
              "every endpoint",
        "fr": "externalTrafficPolicy Local ne s'applique pas : le trafic d'un pod ou du nœud lui-même va vers "
              "tous les endpoints"},
    "svcmatrix.reason.endpoints": {
        "en": "endpoints: {endpoints}", "fr": "endpoints : {endpoints}"},
    "svcmatrix.reason.cni_masquerade": {
        "en": "the CNI masquerades {pod}'s traffic to another node: it arrives from {node}'s address",
        "fr": "le CNI masquerade le trafic de {pod} vers un autre nœud : il arrive avec l'adresse de {node}"},
    "svcmatrix.reason.hairpin": {
        "en": "hairpin: {pod} is an endpoint of the Service it calls (masqueraded, then sent back to itself)",
        "fr": "épingle (hairpin) : {pod} est un endpoint du Service qu'il appelle (masqueradé, "
              "puis renvoyé à lui-même)"},
    "svcmatrix.reason.affinity": {
        "en": "sessionAffinity ClientIP: every connection of this source goes to the same endpoint",
        "fr": "sessionAffinity ClientIP : toutes les connexions de cette source vont au même endpoint"},
    "svcmatrix.reason.ingress_denied": {
        "en": "{endpoint}: ingress denied by the policies of {pod} (source seen there: {seen})",
        "fr": "{endpoint} : entrée refusée par les politiques de {pod} (source vue là-bas : {seen})"},
    "svcmatrix.reason.egress_denied": {
        "en": "{endpoint}: egress from {pod} to {dst} denied by its policies",
        "fr": "{endpoint} : sortie de {pod} vers {dst} refusée par ses politiques"},
    "svcmatrix.reason.allowed": {
        "en": "{endpoint}: allowed", "fr": "{endpoint} : autorisé"},
    "svcmatrix.door.cluster_ip": {"en": "ClusterIP", "fr": "ClusterIP"},
    "svcmatrix.door.node_port": {"en": "NodePort@{node}", "fr": "NodePort@{node}"},
    "svcmatrix.caption": {
        "en": "Services reached from each source ('.' connects, 'X' does not, '~' some endpoints only; "
              "'!' observed differs from predicted)",
        "fr": "Services joints depuis chaque source (« . » se connecte, « X » non, « ~ » certains endpoints"
              " seulement ; « ! » l'observé diffère du prévu)"},
    "svcmatrix.columns": {"en": "columns:", "fr": "colonnes :"},
    "svcmatrix.agree": {"en": "Observed = predicted: all {cells} cells agree.",
                        "fr": "Observé = prévu : les {cells} cases concordent."},
    "svcmatrix.differ": {"en": "{count} of {cells} cells differ from the prediction:",
                         "fr": "{count} cases sur {cells} diffèrent de la prévision :"},
    "svcmatrix.difference": {"en": "{src} → {col}: observed {observed}, predicted {predicted}; {why}",
                             "fr": "{src} → {col} : observé {observed}, prévu {predicted} ; {why}"},
    "svcmatrix.state.open": {"en": "connects", "fr": "se connecte"},
    "svcmatrix.state.closed": {"en": "no connection", "fr": "pas de connexion"},
    "svcmatrix.state.partial": {"en": "some endpoints only", "fr": "certains endpoints seulement"},
    "svcmatrix.sep": {"en": "; ", "fr": " ; "},
    "svcmatrix.why": {"en": "{src} → {col}: {why}", "fr": "{src} → {col} : {why}"},
    "svcmatrix.not_open": {"en": "Why some cells do not connect:", "fr": "Pourquoi certaines cases ne se connectent pas :"},
}

MARKS = {"open": ".", "closed": "X", "partial": "~"}
# CNI daemons that masquerade a pod's traffic to a node address (labkit.embedded.dataplane: kindnetd's
# ip-masq-agent chain, flanneld --ip-masq); the plain bridge flavor has none.
CNI_MASQUERADE = ("kindnet", "flannel", "calico")   # calico: felix natOutgoing (embedded.calico)
HOST = "host"


@dataclass(frozen=True)
class Source:
    key: str            # "ns/pod", "node/<name>" or "host"
    kind: str           # "pod", "node" or "host"
    ip: str
    node: str | None    # the node a pod lives on, the node itself; None for the host


@dataclass(frozen=True)
class Column:
    service: str        # "ns/name"
    port: int           # the Service port
    port_name: str
    protocol: str
    door: str           # "cluster_ip" or "node_port"
    ip: str             # the address dialled
    dport: int          # the port dialled (the Service port, or the node port)
    node: str | None = None   # the node dialled, for a NodePort

    def label(self, lang: str | None = None) -> str:
        door = i18n.t(f"svcmatrix.door.{self.door}", lang, node=_short(self.node or ""))
        return f"{self.service}:{self.port} {door}"


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    pod: str | None
    node: str | None

    @property
    def target(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass
class Cell:
    predicted: str                                  # "open", "closed" or "partial"
    reasons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    endpoints: list[tuple[Endpoint, bool]] = field(default_factory=list)
    observed: bool | None = None

    def explain(self, lang: str | None = None) -> str:
        return i18n.t("svcmatrix.sep", lang).join(i18n.t(f"svcmatrix.reason.{k}", lang, **p) for k, p in self.reasons)

    @property
    def agrees(self) -> bool:
        if self.observed is None or self.predicted == "partial":
            return True
        return self.observed == (self.predicted == "open")


def _short(node: str) -> str:
    return node


# -- reading the API objects --------------------------------------------------------------------------
def columns(services: Iterable[dict[str, Any]], nodes: list[tuple[str, str]],
            skip_namespaces: Iterable[str] = ("kube-system",)) -> list[Column]:
    """One column per Service port and door (``nodes``: ``(name, internal IP)``)."""
    out = []
    skip = set(skip_namespaces)
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ns, name = meta.get("namespace", "default"), meta.get("name")
        ip = spec.get("clusterIP")
        if ns in skip or (ns, name) == ("default", "kubernetes") or not ip or ip == "None":
            continue
        for p in spec.get("ports") or []:
            proto = (p.get("protocol") or "TCP").upper()
            base: dict[str, Any] = dict(service=f"{ns}/{name}", port=int(p["port"]),
                                        port_name=p.get("name") or "", protocol=proto)
            out.append(Column(door="cluster_ip", ip=ip, dport=int(p["port"]), **base))
            if spec.get("type") in ("NodePort", "LoadBalancer") and p.get("nodePort"):
                out += [Column(door="node_port", ip=nip, dport=int(p["nodePort"]), node=n, **base) for n, nip in nodes]
    return out


def endpoints_of(slices: Iterable[dict[str, Any]], service: str, port_name: str, protocol: str) -> list[Endpoint]:
    """Ready endpoints of ``service`` ("ns/name") for the slice port named ``port_name``."""
    ns, name = service.split("/", 1)
    out: list[Endpoint] = []
    for sl in slices:
        meta = sl.get("metadata") or {}
        owner = (meta.get("labels") or {}).get("kubernetes.io/service-name")
        if meta.get("namespace", "default") != ns or owner != name:
            continue
        port = next((p for p in sl.get("ports") or [] if (p.get("name") or "") == port_name
                     and (p.get("protocol") or "TCP").upper() == protocol), None)
        if port is None or port.get("port") is None:
            continue
        for ep in sl.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is False:
                continue
            ref = ep.get("targetRef") or {}
            pod = f"{ref.get('namespace', ns)}/{ref['name']}" if ref.get("kind") == "Pod" and ref.get("name") else None
            for addr in ep.get("addresses") or []:
                e = Endpoint(addr, int(port["port"]), pod, ep.get("nodeName"))
                if e not in out:
                    out.append(e)
    return out


# -- one cell --------------------------------------------------------------------------------------------
@dataclass
class Policies:
    """What the cell needs from the policy engine, for one port: per-direction verdicts between pods,
    and which pods are isolated (a non-pod source or destination is then refused)."""

    ingress: Any            # (src pod, dst pod) -> bool
    egress: Any             # (src pod, dst pod) -> bool
    ingress_isolated: set[str]
    egress_isolated: set[str]


def predict_cell(src: Source, col: Column, svc: dict[str, Any], eps: list[Endpoint], node_ips: dict[str, str],
                 host_node: str, policies: Any, cni_masquerade: bool = False) -> Cell:
    """One cell (``policies``: a function ``port -> Policies``; ``cni_masquerade``: the CNI daemon
    masquerades a pod's traffic to another node's address, as kindnetd and flanneld do)."""
    spec = svc.get("spec") or {}
    cell = Cell("closed")
    if not eps:
        cell.reasons.append(("no_endpoints", {"service": col.service}))
        return cell
    dnat_node = col.node if col.door == "node_port" else (src.node or host_node)
    if src.kind == "pod" and col.door == "node_port" and dnat_node != src.node and cni_masquerade:
        cell.reasons.append(("cni_masquerade", {"pod": src.key, "node": src.node}))
        src = Source(src.key, "node", node_ips.get(src.node or "", src.ip), src.node)
    external = col.door == "node_port" and src.kind != "pod" and src.node != dnat_node
    chosen = eps
    if col.door == "cluster_ip" and spec.get("internalTrafficPolicy") == "Local":
        chosen = [e for e in eps if e.node == dnat_node]
        if not chosen:
            cell.reasons.append(("itp_local_none", {"node": dnat_node}))
            return cell
        cell.reasons.append(("itp_local", {"node": dnat_node, "endpoints": _names(chosen)}))
    elif col.door == "node_port" and spec.get("externalTrafficPolicy") == "Local":
        if external:
            chosen = [e for e in eps if e.node == dnat_node]
            if not chosen:
                cell.reasons.append(("etp_local_none", {"node": dnat_node}))
                return cell
            cell.reasons.append(("etp_local", {"node": dnat_node, "endpoints": _names(chosen)}))
        else:
            cell.reasons.append(("etp_short_circuit", {}))
    if not any(k in ("itp_local", "etp_local") for k, _ in cell.reasons):
        cell.reasons.append(("endpoints", {"endpoints": _names(chosen)}))
    if src.kind == "pod" and any(e.pod == src.key for e in chosen):
        cell.reasons.append(("hairpin", {"pod": src.key}))
    if spec.get("sessionAffinity") == "ClientIP" and len(chosen) > 1:
        cell.reasons.append(("affinity", {}))
    masq = (col.door == "cluster_ip" and src.kind != "pod") or \
        (col.door == "node_port" and spec.get("externalTrafficPolicy") != "Local")
    for ep in chosen:
        ok, why = _policy_verdict(src, col, ep, dnat_node, masq, node_ips, policies(ep.port, col.protocol))
        cell.endpoints.append((ep, ok))
        cell.reasons.append(why)
    allowed = [ok for _, ok in cell.endpoints]
    cell.predicted = "open" if all(allowed) else ("closed" if not any(allowed) else "partial")
    return cell


def _names(eps: list[Endpoint]) -> str:
    return ", ".join(f"{e.pod or e.ip} ({e.target})" for e in eps)


def _policy_verdict(src: Source, col: Column, ep: Endpoint, dnat_node: str | None, masq: bool,
                    node_ips: dict[str, str], pol: Policies) -> tuple[bool, tuple[str, dict[str, Any]]]:
    label = ep.pod or ep.target
    if src.kind == "pod" and ep.pod == src.key:
        return True, ("allowed", {"endpoint": label})          # self traffic is always allowed
    if src.kind == "pod":                                       # egress, on the source's node
        if dnat_node == src.node:
            if ep.pod and not pol.egress(src.key, ep.pod):
                return False, ("egress_denied", {"endpoint": label, "pod": src.key, "dst": ep.target})
        elif src.key in pol.egress_isolated:
            return False, ("egress_denied", {"endpoint": label, "pod": src.key, "dst": f"{col.ip}:{col.dport}"})
    if ep.pod is None:
        return True, ("allowed", {"endpoint": label})
    if src.kind == "node" and src.node == dnat_node == ep.node:
        return True, ("allowed", {"endpoint": label})           # the node's own connection: output, not forward
    seen_pod = src.kind == "pod" and (ep.node == dnat_node or not masq)
    if seen_pod:
        if not pol.ingress(src.key, ep.pod):
            return False, ("ingress_denied", {"endpoint": label, "pod": ep.pod, "seen": src.ip})
        return True, ("allowed", {"endpoint": label})
    seen = src.ip if ep.node == dnat_node or not masq \
        else (node_ips.get(dnat_node, dnat_node) if dnat_node is not None else None)
    if ep.pod in pol.ingress_isolated:
        return False, ("ingress_denied", {"endpoint": label, "pod": ep.pod, "seen": seen})
    return True, ("allowed", {"endpoint": label})


# -- the whole matrix ------------------------------------------------------------------------------------
class ServiceMatrix:
    """Predicted cells (and observed ones once probed), with rendering in both languages."""

    def __init__(self, sources: list[Source], cols: list[Column], cells: dict[tuple[str, int], Cell],
                 seconds: float = 0.0) -> None:
        self.sources, self.columns, self.cells, self.seconds = sources, cols, cells, seconds

    def cell(self, src: str, col: int | Column) -> Cell:
        index = col if isinstance(col, int) else self.columns.index(col)
        return self.cells[(src, index)]

    def find(self, service: str, door: str = "cluster_ip", node: str | None = None, port: int | None = None) -> int:
        """The index of a column (``door``: "cluster_ip" or "node_port"; ``node`` for a NodePort)."""
        for i, c in enumerate(self.columns):
            if c.service == service and c.door == door and (node is None or c.node == node or
                                                            (c.node or "").endswith("-" + node)) \
                    and (port is None or c.port == port):
                return i
        raise KeyError(f"{service} {door} {node or ''}")

    @property
    def differences(self) -> list[tuple[str, int]]:
        return [k for k, c in self.cells.items() if not c.agrees]

    @property
    def ok(self) -> bool:
        return not self.differences

    def explain(self, src: str, col: int, lang: str | None = None) -> str:
        return self.cells[(src, col)].explain(lang)

    def mark(self, cell: Cell) -> str:
        if cell.observed is None:
            return MARKS[cell.predicted]
        mark = "." if cell.observed else "X"
        return mark + ("!" if not cell.agrees else "")

    def to_text(self, lang: str | None = None) -> str:
        t = i18n.t
        width = max(len(s.key) for s in self.sources) if self.sources else 4
        lines = [t("svcmatrix.caption", lang), t("svcmatrix.columns", lang)]
        lines += [f"  {i + 1:>2}  {c.label(lang)}  ({c.ip}:{c.dport})" for i, c in enumerate(self.columns)]
        lines.append(" " * (width + 2) + " ".join(f"{i + 1:>3}" for i in range(len(self.columns))))
        for s in self.sources:
            marks = " ".join(f"{self.mark(self.cells[(s.key, i)]):>3}" for i in range(len(self.columns)))
            lines.append(f"{s.key.ljust(width)}  {marks}")
        probed = any(c.observed is not None for c in self.cells.values())
        if probed:
            diffs = self.differences
            cells = len(self.cells)
            if not diffs:
                lines.append(t("svcmatrix.agree", lang, cells=cells))
            else:
                lines.append(t("svcmatrix.differ", lang, count=len(diffs), cells=cells))
                for key, i in diffs:
                    c = self.cells[(key, i)]
                    lines.append("  " + t("svcmatrix.difference", lang, src=s, col=self.columns[i].label(lang),
                                          observed=t(f"svcmatrix.state.{'open' if c.observed else 'closed'}", lang),
                                          predicted=t(f"svcmatrix.state.{c.predicted}", lang), why=c.explain(lang)))
        shut = [(s.key, i) for s in self.sources for i in range(len(self.columns))
                if self.cells[(s.key, i)].predicted != "open"]
        if shut:
            lines.append(t("svcmatrix.not_open", lang))
            lines += ["  " + t("svcmatrix.why", lang, src=s, col=self.columns[i].label(lang),
                               why=self.cells[(s, i)].explain(lang)) for s, i in shut]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='padding:2px 4px;writing-mode:vertical-rl'>{esc(c.label())}</th>"
                       for c in self.columns)
        rows = []
        for s in self.sources:
            tds = []
            for i in range(len(self.columns)):
                c = self.cells[(s.key, i)]
                state = c.predicted if c.observed is None else ("open" if c.observed else "closed")
                bg = {"open": "#c8f0c8", "closed": "#f5c2c2", "partial": "#fde9b0"}[state]
                style = f"background:{bg};text-align:center" + ("" if c.agrees else ";outline:3px solid #e08000")
                tds.append(f"<td title='{esc(c.explain())}' style='{style}'>{esc(self.mark(c))}</td>")
            rows.append(f"<tr><th style='text-align:left'>{esc(s.key)}</th>{''.join(tds)}</tr>")
        return (f"<div><div><b>{esc(i18n.t('svcmatrix.caption'))}</b></div>"
                f"<table style='border-collapse:collapse;font-family:monospace'><tr><th></th>{head}</tr>"
                f"{''.join(rows)}</table><div>{esc(self._summary_line())}</div></div>")

    def _summary_line(self, lang: str | None = None) -> str:
        if not any(c.observed is not None for c in self.cells.values()):
            return ""
        diffs = self.differences
        if not diffs:
            return i18n.t("svcmatrix.agree", lang, cells=len(self.cells))
        return i18n.t("svcmatrix.differ", lang, count=len(diffs), cells=len(self.cells))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [{"service": c.service, "port": c.port, "door": c.door, "node": c.node, "ip": c.ip,
                             "dport": c.dport} for c in self.columns],
                "cells": [{"source": s, "column": i, "predicted": c.predicted, "observed": c.observed,
                           "agrees": c.agrees, "why": c.explain("en")} for (s, i), c in self.cells.items()],
                "ok": self.ok, "seconds": round(self.seconds, 3)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def predict(snapshot: Any, sources: list[Source], host_node: str, engine: Any,
            skip_namespaces: Iterable[str] = ("kube-system",)) -> ServiceMatrix:
    """Every cell of the matrix for ``snapshot`` (``engine``: a ``labkit.netpol.Engine`` of its pods)."""
    nodes = [(n.name, n.internal_ip) for n in snapshot.nodes if n.internal_ip]
    node_ips = dict(nodes)
    cols = columns(snapshot.services, nodes, skip_namespaces)
    by_name = {f"{(s.get('metadata') or {}).get('namespace', 'default')}/{(s.get('metadata') or {}).get('name')}": s
               for s in snapshot.services}
    known = {p.key for p in engine.pods}
    cache: dict[tuple[int, str], Policies] = {}

    def policies(port: int, protocol: str) -> Policies:
        if (port, protocol) not in cache:
            r = engine.reachability(port, protocol)
            cache[(port, protocol)] = Policies(
                lambda s, d, r=r: s not in known or d not in known or r.ingress.allowed(s, d),
                lambda s, d, r=r: s not in known or d not in known or r.egress.allowed(s, d),
                set(engine.isolated("Ingress")), set(engine.isolated("Egress")))
        return cache[(port, protocol)]

    cells = {}
    for i, col in enumerate(cols):
        eps = endpoints_of(snapshot.endpointslices, col.service, col.port_name, col.protocol)
        for src in sources:
            cells[(src.key, i)] = predict_cell(src, col, by_name[col.service], eps, node_ips, host_node, policies,
                                               cni_masquerade=snapshot.cni in CNI_MASQUERADE)
    return ServiceMatrix(sources, cols, cells)
