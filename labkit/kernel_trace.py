"""Ask the kernel which rules a real packet hit: nftables tracing around one connection (I/O).

:func:`run_traced` turns tracing on for one flow in every node of an embedded lab (a table of
our own, ``inet labkit-trace-<id>``, whose chains run before ``raw`` and mark the flow's first
packet; see :mod:`labkit.inspect.nftrace`), sends one connection from a pod with that flow's DSCP
mark (``nc -T``), reads ``nft -a monitor`` in each node, and removes the table afterwards, also on
an error or Ctrl-C; a later trace sweeps a table that a killed process left, and ``labkit down``
removes the namespaces with everything in them. Each node's ``nft -s list ruleset`` is recorded
before and after, so a caller (and the tests) can check that nothing was left behind.

No sleep decides anything: a monitor counts as listening once it has printed the creation of our
table (changes are repeated until it has), and as complete once it has printed the deletion.

:func:`run_traced` runs as root: called directly by root, or by the lab daemon for an ordinary user
(``labkit.embedded.flows``, ``POST /api/v1/nodes/<node>/proxy/labkit/trace``). :func:`observe`
picks the way with ``labkit.nodes.flow_access``.
"""
from __future__ import annotations

import json
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import LabkitError
from .inspect import nftrace
from .nodes import LabNetns

MESSAGES = {
    "observe.monitor_failed": {
        "en": "nft monitor did not start on node {node} within {seconds} s: {error}",
        "fr": "nft monitor n'a pas démarré sur le nœud {node} en {seconds} s : {error}"},
    "observe.embedded_only": {
        "en": "an observed trace needs the embedded lab (its nodes' namespaces on this machine)",
        "fr": "une trace observée demande le lab embarqué (les namespaces de ses nœuds sur cette machine)"},
    "observe.nft_failed": {
        "en": "nft failed on node {node}: {error}",
        "fr": "nft a échoué sur le nœud {node} : {error}"},
}

READY_SECONDS = 10.0


def nft(ns: LabNetns, args: list[str], script: str | None = None, check: bool = True) -> str:
    proc = ns.call(["nft", *args], input=script)
    if check and proc.returncode != 0:
        raise LabkitError("observe.nft_failed", node=ns.name, error=proc.stderr.strip() or proc.returncode)
    return proc.stdout


class Monitor:
    """``nft -a monitor`` in one node (a :class:`labkit.nodes.Stream`)."""

    def __init__(self, ns: LabNetns) -> None:
        self.node = ns.name
        self.stream = ns.spawn(["nft", "-a", "monitor"])

    def wait_for(self, needle: str, seconds: float) -> bool:
        data = needle.encode()
        return self.stream.wait_until(lambda: data in self.stream.out, seconds)

    def stop(self) -> str:
        self.stream.stop()
        return "\n".join(self.stream.text().splitlines())


@dataclass
class NodeRecord:
    """What one node reported, with the listings needed to name its rules."""

    node: str
    monitor: str = ""
    ruleset: str = ""            # nft -a list ruleset, during the trace
    iptables_save: str = ""
    before: str = ""             # nft -s list ruleset before the trace table was added
    after: str = ""              # ... and after it was removed

    @property
    def clean(self) -> bool:
        return self.before == self.after


@dataclass
class Run:
    """One traced connection: the client's answer and each node's record."""

    trace_id: str
    dscp: int
    answer: dict[str, Any] | None
    client_error: str
    nodes: list[NodeRecord] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(n.clean for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "dscp": self.dscp, "answer": self.answer, "client_error": self.client_error,
                "nodes": [vars(n) for n in self.nodes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        fields = ("node", "monitor", "ruleset", "iptables_save", "before", "after")
        return cls(str(data["trace_id"]), int(data["dscp"]), data.get("answer"), data.get("client_error") or "",
                   [NodeRecord(**{k: str(n.get(k) or "") for k in fields}) for n in data.get("nodes") or []])


def client_argv(ip: str, port: int, protocol: str, dscp: int, timeout: float) -> list[str]:
    """One connection that carries the trace's DSCP mark; the pods' echo server answers one JSON line."""
    wait = str(max(1, round(timeout)))
    tos = str(dscp << 2)
    if protocol.lower() == "udp":
        return ["nc", "-u", "-W", "1", "-T", tos, "-w", wait, ip, str(port)]   # done at the first answer
    return ["nc", "-N", "-T", tos, "-w", wait, ip, str(port)]


def parse_answer(stdout: str) -> dict[str, Any] | None:
    for line in stdout.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "pod_ip" in data:
            return data
    return None


def sweep(nodes: list[tuple[str, str]]) -> None:
    """Remove trace tables that an interrupted run left (killed before its ``finally``)."""
    for ns in _spaces(nodes):
        for table in nftrace.leftover_tables(nft(ns, ["list", "tables"], check=False)):
            nft(ns, ["delete", "table", "inet", table], check=False)


def _spaces(nodes: list[tuple[str, str]]) -> list[LabNetns]:
    return [LabNetns(node, netns) for node, netns in nodes]


def run_traced(nodes: list[tuple[str, str]], pod_netns: str, ip: str, port: int, protocol: str = "tcp",
               timeout: float = 3.0) -> Run:
    """Trace one connection from the pod in ``pod_netns`` to ``ip:port`` in every ``(node, netns)``."""
    trace_id = secrets.token_hex(4)
    dscp = random.randint(8, 63)
    name = nftrace.table_name(trace_id)
    sweep(nodes)
    spaces = _spaces(nodes)
    records = [NodeRecord(ns.name, before=nft(ns, ["-s", "list", "ruleset"])) for ns in spaces]
    monitors: list[Monitor] = []
    answer, error = None, ""
    try:
        monitors = [Monitor(ns) for ns in spaces]
        script = nftrace.enable_script(trace_id, dscp, protocol)
        ping = f"add chain inet {name} ping\ndelete chain inet {name} ping\n"   # a change that does nothing
        for ns, mon in zip(spaces, monitors):
            nft(ns, ["-f", "-"], script)
            _until_heard(mon, name, lambda ns=ns: nft(ns, ["-f", "-"], ping))
        client = LabNetns("client", pod_netns, pod=True)
        proc = client.call(client_argv(ip, port, protocol, dscp, timeout), input="labkit trace\n",
                           timeout=timeout + 10)
        answer, error = parse_answer(proc.stdout), proc.stderr.strip()
        for rec, ns in zip(records, spaces):
            rec.ruleset = nft(ns, ["-a", "list", "ruleset"])
            rec.iptables_save = ns.call(["iptables-save"]).stdout
    finally:
        for ns in spaces:
            nft(ns, ["-f", "-"], nftrace.disable_script(trace_id), check=False)
        for rec, mon in zip(records, monitors):
            mon.wait_for(f"delete table inet {name}", READY_SECONDS)
            rec.monitor = mon.stop()
        for mon in monitors[len(records):]:
            mon.stop()
    for rec, ns in zip(records, spaces):
        rec.after = nft(ns, ["-s", "list", "ruleset"])
    return Run(trace_id, dscp, answer, error, records)


def _until_heard(mon: Monitor, table: str, poke) -> None:
    """Wait until the monitor has printed a change of our table (it is listening), poking it again
    with a change that does nothing until it has."""
    deadline = time.monotonic() + READY_SECONDS
    while not mon.wait_for(f"inet {table}", 0.5):
        if time.monotonic() > deadline or mon.stream.ended:
            raise LabkitError("observe.monitor_failed", node=mon.node, seconds=int(READY_SECONDS),
                              error="; ".join(mon.stream.err) or "-")
        poke()


def source_node(predicted: Any) -> str:
    """The node of the trace's source pod (where the connection starts), from its snapshot."""
    key = predicted.source if "/" in predicted.source else f"default/{predicted.source}"
    for p in predicted.snapshot.pods:
        meta = p.get("metadata") or {}
        if f"{meta.get('namespace', 'default')}/{meta.get('name')}" == key and (p.get("spec") or {}).get("nodeName"):
            return p["spec"]["nodeName"]
    raise LabkitError("lab.unknown_pod", exit_code=2, pod=key, name=predicted.snapshot.name)


def observe(cluster: Any, predicted: Any, timeout: float = 3.0) -> Any:
    """Send the connection that ``predicted`` (a ``labkit.trace.Trace``) describes, trace it in
    every node of the embedded lab ``cluster`` (its name or a ``labkit.connect()`` cluster), and
    return both side by side. Root enters the lab's namespaces; anyone else asks the lab's daemon
    through its API (``labkit.nodes.flow_access``)."""
    from .flowreq import FlowRequest
    from .nodes import flow_access
    from .observed_trace import ObservedTrace, from_records

    key = predicted.source if "/" in predicted.source else f"default/{predicted.source}"
    req = FlowRequest("trace", key, predicted.ip, predicted.port, predicted.protocol.lower(), timeout)
    run = Run.from_dict(flow_access(cluster).observe(source_node(predicted), req))
    obs = from_records(predicted.source, predicted.destination, predicted.protocol, run.nodes, run.answer,
                       run.client_error)
    return ObservedTrace(predicted, obs)
