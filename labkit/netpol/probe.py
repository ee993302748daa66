"""The real-packet probe: every pod tries every pod, and the result is compared with the policies.

As upstream's e2e tests do (``probe.go``), each source pod connects to each destination pod IP on
one port and protocol: TCP with ``nc -z -w T`` (a completed handshake), UDP with ``nc -u -w T``
expecting the echo responder's JSON answer (a datagram that is let through but not answered
counts as denied, as for agnhost). One ``sh`` per source pod, run in the pod's network namespace
through the lab's exec, starts all its probes at once; sources run in parallel, so a table costs
about one timeout, not one per cell.

The result (``ProbeResult``) holds the observed matrix (a ``labkit.netpol.Matrix``, same pods and
order as the prediction), the engine's ``Reachability`` for the same cluster and the cells where
they differ. Cells that differ are probed again (``retries``) before being reported, like
upstream's retries: policies apply eventually, and a loaded machine may lose a SYN.

``labkit.probe(...)`` is :func:`probe` below.
"""
from __future__ import annotations

import html
import json
import math
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .. import i18n
from ..errors import BadInput, LabkitError
from .engine import check_port
from .matrix import ALLOWED_MARK, DENIED_MARK, HTML_MAX_PODS, Matrix, Reachability

MESSAGES = {
    "probe.caption": {
        "en": "Probe {protocol}/{port}, observed with real packets ({pods} pods, {seconds} s): "
              "rows are sources, columns destinations; '.' connected, 'X' no connection",
        "fr": "Sonde {protocol}/{port}, observée avec de vrais paquets ({pods} pods, {seconds} s) : "
              "lignes = sources, colonnes = destinations ; « . » connecté, « X » pas de connexion"},
    "probe.agree": {
        "en": "Observed = predicted by the policies: all {cells} cells agree.",
        "fr": "Observé = prévu par les politiques : les {cells} cases concordent."},
    "probe.differ": {
        "en": "{count} of {cells} cells differ from the policies' prediction:",
        "fr": "{count} cases sur {cells} diffèrent de la prévision des politiques :"},
    "probe.difference": {
        "en": "{src} -> {dst}: observed {observed}, predicted {predicted}",
        "fr": "{src} -> {dst} : observé {observed}, prévu {predicted}"},
    "probe.unenforced": {
        "en": "Warning: the policies deny {denied} of these {cells} connections, yet every one of them got "
              "through. Nothing seems to enforce NetworkPolicies in this cluster: the API stores them, but "
              "without a policy controller (a CNI that implements them) they do nothing.",
        "fr": "Attention : les politiques interdisent {denied} de ces {cells} connexions, et pourtant toutes "
              "sont passées. Rien ne semble appliquer les NetworkPolicies dans ce cluster : l'API les "
              "enregistre, mais sans contrôleur de politiques (un CNI qui les implémente) elles ne font rien."},
    "probe.no_pods": {
        "en": "nothing to probe: no running pod with an IP in {namespaces}",
        "fr": "rien à sonder : aucun pod en marche avec une IP dans {namespaces}"},
    "probe.bad_protocol": {
        "en": "the probe speaks TCP or UDP, not {protocol!r} (the lab's pods do not serve SCTP)",
        "fr": "la sonde parle TCP ou UDP, pas {protocol!r} (les pods du lab ne servent pas SCTP)"},
    "probe.bad_number": {
        "en": "{what} must be a positive number, not {value!r}",
        "fr": "{what} doit être un nombre positif, pas {value!r}"},
    "probe.exec_failed": {
        "en": "the probe could not run in pod {pod}: {error}",
        "fr": "la sonde n'a pas pu s'exécuter dans le pod {pod} : {error}"},
    "probe.cli.help": {
        "en": "connect every pod to every pod of a running lab and compare with the policies",
        "fr": "connecter chaque pod à chaque pod d'un lab en marche et comparer avec les politiques"},
    "probe.cli.name": {"en": "lab name (default kubenet)", "fr": "nom du lab (kubenet par défaut)"},
    "probe.cli.namespaces": {
        "en": "comma-separated namespaces to probe (default: all but kube-system)",
        "fr": "namespaces à sonder, séparés par des virgules (par défaut : tous sauf kube-system)"},
    "probe.cli.port": {"en": "destination port (default 80)", "fr": "port de destination (80 par défaut)"},
    "probe.cli.protocol": {"en": "TCP or UDP (default TCP)", "fr": "TCP ou UDP (TCP par défaut)"},
    "probe.cli.timeout": {
        "en": "seconds each connection may take (default 2)",
        "fr": "secondes accordées à chaque connexion (2 par défaut)"},
    "probe.cli.services": {
        "en": "probe Services instead: every pod, node and the host against each ClusterIP and NodePort, "
              "compared with kube-proxy's and the policies' prediction",
        "fr": "sonder les Services : chaque pod, nœud et l'hôte vers chaque ClusterIP et NodePort, comparés "
              "à la prévision de kube-proxy et des politiques"},
    "probe.cli.json": {
        "en": "print JSON: observed and predicted pairs, differences",
        "fr": "afficher du JSON : paires observées et prévues, différences"},
}

PROBE_PROTOCOLS = ("TCP", "UDP")
UDP_ANSWER_MARK = "pod_ip"   # every echo answer carries it (labkit.embedded.echo.answer)

# (pod key, argv, timeout seconds) -> the finished process, as EmbeddedLab.exec returns it
Exec = Callable[[str, Sequence[str], float], subprocess.CompletedProcess]


# --- pure: the script a source runs and what it prints -----------------------------------------
def probe_script(ips: Sequence[str], port: int, protocol: str, timeout: float) -> str:
    """A POSIX sh script that probes every ``ips`` at once and prints ``<ip> 1|0`` per line.

    ``nc -w`` counts whole seconds; ``timeout`` (coreutils) bounds each try to ``timeout``
    seconds, fractions included, so a denied cell costs what the caller chose."""
    wait, limit = max(1, math.ceil(timeout)), f"{timeout:g}"
    if protocol == "UDP":
        test = (f'echo probe | timeout {limit} nc -u -w {wait} "$1" {port} 2>/dev/null '
                f'| grep -q {UDP_ANSWER_MARK}')
    else:
        test = f'timeout {limit} nc -z -w {wait} "$1" {port} >/dev/null 2>&1'
    lines = [f'p() {{ if {test}; then echo "$1 1"; else echo "$1 0"; fi; }}']
    lines += [f"p {shlex.quote(ip)} &" for ip in ips]
    return "\n".join(lines + ["wait", ""])


def parse_probe_output(text: str) -> dict[str, bool]:
    """``{ip: connected}`` from the script's output (lines it does not know are ignored)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] in ("0", "1"):
            out[parts[0]] = parts[1] == "1"
    return out


@dataclass(frozen=True)
class Difference:
    src: str
    dst: str
    observed: bool
    predicted: bool

    def render(self, lang: str | None = None) -> str:
        word = {True: i18n.t("netpol.verdict.allowed", lang), False: i18n.t("netpol.verdict.denied", lang)}
        return i18n.t("probe.difference", lang, src=self.src, dst=self.dst, observed=word[self.observed],
                      predicted=word[self.predicted])


class ProbeResult:
    """Observed connectivity for one port/protocol, beside the policies' prediction.

    Shaped like ``Reachability`` for the combined view (``pods``, ``allowed``, ``pairs``,
    ``to_table``, ``to_json``), plus ``predicted``, ``differences`` and ``ok``."""

    def __init__(self, port: int, protocol: str, observed: Matrix, predicted: Reachability | None,
                 seconds: float = 0.0) -> None:
        self.port, self.protocol = port, protocol
        self.observed, self.predicted, self.seconds = observed, predicted, seconds

    @property
    def pods(self) -> tuple[str, ...]:
        return self.observed.pods

    @property
    def differences(self) -> list[Difference]:
        if self.predicted is None:
            return []
        pred = self.predicted.combined
        return [Difference(s, d, self.observed.allowed(s, d), pred.allowed(s, d))
                for s in self.pods for d in self.pods if self.observed.allowed(s, d) != pred.allowed(s, d)]

    @property
    def unenforced(self) -> bool:
        """The policies deny some cells and packets went through every one of them: the sign of a
        cluster where nothing enforces NetworkPolicies (the API accepts them all the same)."""
        if self.predicted is None:
            return False
        denied = self._predicted_denied(self.predicted)
        return bool(denied) and all(self.observed.allowed(s, d) for s, d in denied)

    def _predicted_denied(self, predicted: Reachability) -> list[tuple[str, str]]:
        pred = predicted.combined
        return [(s, d) for s in self.pods for d in self.pods if not pred.allowed(s, d)]

    @property
    def ok(self) -> bool:
        """Observed equals predicted, cell by cell."""
        return not self.differences

    def allowed(self, src: str, dst: str) -> bool:
        return self.observed.allowed(src, dst)

    def pairs(self) -> list[tuple[str, str]]:
        return self.observed.pairs()

    def caption(self, lang: str | None = None) -> str:
        seconds = i18n.number(self.seconds, ".1f", lang)          # French decimal comma: « 0,1 s »
        return i18n.t("probe.caption", lang, protocol=self.protocol, port=self.port, pods=len(self.pods),
                      seconds=seconds)

    def summary(self, lang: str | None = None) -> list[str]:
        if self.predicted is None:
            return []
        cells = len(self.pods) ** 2
        diffs = self.differences
        if not diffs:
            return [i18n.t("probe.agree", lang, cells=cells)]
        lines = [i18n.t("probe.differ", lang, count=len(diffs), cells=cells)] + ["  " + d.render(lang) for d in diffs]
        if self.unenforced:
            denied = self._predicted_denied(self.predicted)
            lines.append(i18n.t("probe.unenforced", lang, denied=len(denied), cells=cells))
        return lines

    def to_table(self, lang: str | None = None) -> str:
        """Caption, observed table, then the agreement line or every differing cell."""
        return "\n".join([self.caption(lang), self.observed.to_table(lang).rstrip("\n")] + self.summary(lang)) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"port": self.port, "protocol": self.protocol, "pods": list(self.pods),
                "allowed": [list(p) for p in self.pairs()],
                "predicted": [list(p) for p in self.predicted.pairs()] if self.predicted else None,
                "differences": [{"src": d.src, "dst": d.dst, "observed": d.observed, "predicted": d.predicted}
                                for d in self.differences],
                "unenforced": self.unenforced, "seconds": round(self.seconds, 3)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __str__(self) -> str:
        return self.to_table()

    def __repr__(self) -> str:
        return (f"<ProbeResult {self.protocol}/{self.port}: {self.observed.count()} of {len(self.pods) ** 2} "
                f"connected, {len(self.differences)} differ from the prediction>")

    def _repr_html_(self) -> str:
        esc = html.escape
        summary = "".join(f"<div>{esc(line)}</div>" for line in self.summary())
        if len(self.pods) > HTML_MAX_PODS:
            return self.observed.to_html(self.caption()) + summary
        wrong = {(d.src, d.dst) for d in self.differences}
        head = "".join(f'<th style="padding:2px 6px">{esc(p)}</th>' for p in self.pods)
        rows = []
        for s in self.pods:
            cells = []
            for d in self.pods:
                ok = self.observed.allowed(s, d)
                style = f"background:{'#c8f0c8' if ok else '#f5c2c2'};text-align:center"
                if (s, d) in wrong:
                    style += ";outline:3px solid #e08000;font-weight:bold"
                mark = (ALLOWED_MARK if ok else DENIED_MARK) + ("!" if (s, d) in wrong else "")
                cells.append(f'<td title="{esc(s)} -> {esc(d)}" style="{style}">{mark}</td>')
            rows.append(f'<tr><th style="text-align:left;padding:2px 6px">{esc(s)}</th>{"".join(cells)}</tr>')
        corner = esc(i18n.t("netpol.table.corner"))
        # one block (a flex row of two results keeps each whole); the caption above the table, as
        # wide as a line of text rather than squeezed to the table's width
        return (f'<div><div style="max-width:44em;margin-bottom:4px">{esc(self.caption())}</div>'
                f'<table style="border-collapse:collapse;font-family:monospace">'
                f"<tr><th>{corner}</th>{head}</tr>{''.join(rows)}</table>{summary}</div>")


# --- running it ---------------------------------------------------------------------------------
def observe(pods: Sequence[tuple[str, str]], port: int, protocol: str, run: Exec, timeout: float = 2.0,
            parallel: int = 8, cells: Iterable[tuple[str, str]] | None = None,
            previous: Matrix | None = None) -> Matrix:
    """Probe ``pods`` (``(key, ip)`` pairs) from each other; only ``cells`` when given (the other
    cells are copied from ``previous``)."""
    keys = [k for k, _ in pods]
    ip_of = dict(pods)
    wanted: dict[str, list[str]] = {}
    for s, d in (cells if cells is not None else ((s, d) for s in keys for d in keys)):
        wanted.setdefault(s, []).append(d)

    def row(src: str) -> tuple[str, dict[str, bool]]:
        ips = [ip_of[d] for d in wanted[src]]
        script = probe_script(ips, port, protocol, timeout)
        try:
            proc = run(src, ["sh", "-c", script], timeout + 30)
        except (OSError, subprocess.SubprocessError) as exc:
            raise BadInput("probe.exec_failed", pod=src, error=exc) from exc
        seen = parse_probe_output(proc.stdout)
        if len(seen) < len(set(ips)):
            raise BadInput("probe.exec_failed", pod=src, error=(proc.stderr or proc.stdout).strip() or proc.returncode)
        return src, seen

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        results = dict(pool.map(row, list(wanted)))
    rows = []
    for i, s in enumerate(keys):
        mask = previous.rows[i] if previous is not None else 0
        for j, d in enumerate(keys):
            if d in wanted.get(s, ()):
                mask = mask | (1 << j) if results[s][ip_of[d]] else mask & ~(1 << j)
        rows.append(mask)
    return Matrix(keys, rows)


def probe(cluster: Any = "kubenet", port: int = 80, protocol: str = "TCP",
          namespaces: str | Iterable[str] | None = None, timeout: float = 2.0, retries: int = 1,
          parallel: int = 16, run: Exec | None = None) -> ProbeResult:
    """Connect every pod of ``namespaces`` to every other (default: all but kube-system) on
    ``port``/``protocol`` in a running lab, and compare with what the policies predict.

    ``cluster``: a lab name, a ``labkit.connect()`` cluster of an embedded lab or an
    ``EmbeddedLab`` (a ``ClusterSnapshot`` when ``run`` is given); ``run`` replaces the lab's exec
    (tests)."""
    from ..cluster import lab_name
    from .handle import engine, restrict, shown_pods

    port, protocol = _check(port, protocol, timeout, retries, parallel)
    name = lab_name(cluster)
    if name is None and run is None:
        raise BadInput("cluster.embedded_only", what="labkit.probe", kind=type(cluster).__name__)
    eng = engine(cluster)
    pods = [(k, ip) for k in shown_pods(eng, namespaces) if (ip := eng.pod(k).ip)]
    keys = [k for k, _ in pods]
    if not keys:
        raise BadInput("probe.no_pods", namespaces=", ".join(namespaces) if isinstance(namespaces, (list, tuple))
                       else namespaces or "-")
    predicted = restrict(eng.reachability(port, protocol), keys)
    if run is None:
        assert name is not None   # refused above
        run = _lab_exec(name) if os.geteuid() == 0 else _api_exec(name)   # the state files are root's
    start = time.monotonic()
    observed = observe(pods, port, protocol, run, timeout, parallel)
    for _ in range(retries):
        result = ProbeResult(port, protocol, observed, predicted)
        cells = [(d.src, d.dst) for d in result.differences]
        if not cells:
            break
        observed = observe(pods, port, protocol, run, timeout, parallel, cells=cells, previous=observed)
    return ProbeResult(port, protocol, observed, predicted, time.monotonic() - start)


def _check(port: Any, protocol: Any, timeout: Any, retries: Any, parallel: Any) -> tuple[int, str]:
    number, proto = check_port(port, protocol)
    if proto not in PROBE_PROTOCOLS:
        raise BadInput("probe.bad_protocol", protocol=protocol)
    for what, value, kind in (("timeout", timeout, float), ("retries", retries, int),
                              ("parallel", parallel, int)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or value < (0 if what == "retries" else 1e-9) or (kind is int and int(value) != value):
            raise BadInput("probe.bad_number", what=what, value=value)
    return number, proto


def _lab_exec(name: str) -> Exec:
    """Exec in the embedded lab's pods as root, through the node seam (``labkit.nodes.LabNetns``:
    ``ip netns exec`` into the pod); the pods are looked up once."""
    from ..errors import LabkitError
    from ..nodes import lab_pods

    pods = lab_pods(name)

    def run(key: str, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        if key not in pods:
            raise LabkitError("lab.unknown_pod", exit_code=2, pod=key, name=name)
        return pods[key].call(argv, timeout=timeout)
    return run


def _api_exec(name: str) -> Exec:
    """Exec in the lab's pods through its API, as ``kubectl exec`` does: how a kernel that is not
    root (``make lab``'s) probes; each probing thread uses its own client (``nodes.api_exec``)."""
    from ..cluster import connect
    from ..nodes import api_exec

    api = connect(lab=name).api
    if api is None:
        raise LabkitError("lab.not_running", exit_code=1, name=name)

    def run(key: str, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        namespace, _, pod = key.partition("/")
        code, out, err = api_exec(api, namespace, pod, argv, timeout=timeout)
        return subprocess.CompletedProcess(list(argv), 1 if code is None else code, out, err)
    return run
