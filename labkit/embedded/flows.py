"""Observe one flow in the lab's namespaces for a client: trace it, capture it, probe from a source,
or connect to a node or a pod that reports the source address it saw (``peer``).

:func:`execute` is the one place where a :class:`labkit.flowreq.FlowRequest` (already validated:
numbers, an address inside the lab, a protocol out of two, pod names) becomes processes: it looks
the pods up in the lab's own records, then runs :func:`labkit.kernel_trace.run_traced`,
:func:`labkit.capture.record_raw`, the Service probe's script or :func:`peer` (a one-connection
listener, :data:`LISTEN`), each of which builds its commands from those values only. Root calls it directly (``labkit.nodes.LocalFlows``); the daemon calls it
for API clients (:class:`FlowRunner`: one flow at a time per node, a busy node answers 429).
The answer is plain JSON data: the client decodes and compares it as it would its own.
"""
from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading
from typing import Any

from ..errors import BadInput, LabkitError
from ..flowreq import FlowBusy, FlowRequest
from ..nodes import LabNetns
from .topology import LabSpec

MESSAGES = {
    "flow.no_peer": {"en": "{ip} is neither a node nor a pod of lab {name}: nothing to listen there",
                     "fr": "{ip} n'est ni un nœud ni un pod du lab {name} : personne pour y écouter"},
    "flow.listen_failed": {"en": "could not listen on {where} port {port}",
                           "fr": "impossible d'écouter sur {where}, port {port}"},
}

# A one-connection TCP server that prints the peer address it saw, run in the listening node's or
# pod's namespace: argv = port, seconds to wait. ``none`` when nobody connected in time.
LISTEN = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
try:
    c, peer = s.accept(); print(peer[0], flush=True); c.close()
except socket.timeout:
    print("none", flush=True)
"""


def lab_ranges(spec: LabSpec) -> list[str]:
    """Where a flow may go: the lab's node network, pod CIDR and Service CIDR."""
    return [spec.node_cidr, spec.pod_cidr, spec.service_cidr]


def _pod(pods: dict[str, Any], key: str, lab: str) -> Any:
    record = pods.get(key)
    if record is None:
        raise LabkitError("lab.unknown_pod", exit_code=2, pod=key, name=lab)
    return record


def execute(spec: LabSpec, pods: dict[str, Any], node: str, req: FlowRequest) -> dict[str, Any]:
    """Run ``req`` from ``node`` (the source pod's node, or the source itself for a node probe).

    ``pods``: the lab's pod records by ``namespace/name`` (``netns`` and ``node`` attributes).
    ``LabkitError`` for an unknown node or pod, or a pod that is not on ``node``."""
    from .. import kernel_trace, service_probe
    from ..capture import record_raw

    plan = spec.node(node)                                  # BadInput for an unknown node
    source = _pod(pods, req.pod, spec.name) if req.pod else None
    if source is not None and source.node != plan.name:
        raise LabkitError("lab.unknown_pod", exit_code=2, pod=f"{req.pod} (node {plan.name})", name=spec.name)
    if req.kind == "probe":
        doors = [(t.ip, t.port, t.protocol) for t in req.targets]
        script = service_probe.target_script(doors, req.timeout)
        where = (LabNetns(req.pod, source.netns, pod=True) if source is not None and req.pod
                 else LabNetns(plan.name, plan.netns))
        proc = where.call(["sh", "-c", script], timeout=req.timeout + 30)
        seen = service_probe.parse_output(proc.stdout)
        if len(seen) < len(doors):
            raise LabkitError("probe.exec_failed", pod=req.pod or plan.name, error=(proc.stderr or "-").strip()[:200])
        return {"reached": [seen[n] for n in range(len(doors))]}
    if req.kind == "peer":
        return peer(spec, pods, LabNetns(req.pod, source.netns, pod=True) if source is not None and req.pod
                    else LabNetns(plan.name, plan.netns), req)
    if source is None or req.pod is None:
        raise BadInput("flow.invalid", causes="pod: required")
    nodes = [(n.name, n.netns) for n in spec.node_plans()]
    if req.kind == "trace":
        run = kernel_trace.run_traced(nodes, source.netns, req.ip, req.port, req.protocol, req.timeout)
        return run.to_dict()
    spaces = [(req.pod, source.netns), *nodes]
    for key in dict.fromkeys(req.also):
        if key != req.pod and key in pods:                 # a pod gone meanwhile is one point fewer
            spaces.append((key, pods[key].netns))
    return record_raw(spaces, source.netns, req.ip, req.port, req.protocol, req.timeout).to_dict()


def peer(spec: LabSpec, pods: dict[str, Any], source: LabNetns, req: FlowRequest) -> dict[str, Any]:
    """Listen once at ``req.ip`` (a node's or a pod's address, in its namespace), connect from
    ``source``, and answer the source address the listener saw (None: no connection came)."""
    where = next((LabNetns(n.name, n.netns) for n in spec.node_plans() if n.ip == req.ip), None)
    where = where or next((LabNetns(k, r.netns, pod=True) for k, r in pods.items() if r.ip == req.ip), None)
    if where is None:
        raise LabkitError("flow.no_peer", exit_code=2, ip=req.ip, name=spec.name)
    server = where.spawn([sys.executable, "-c", LISTEN, str(req.port), f"{req.timeout:g}"])

    def lines() -> list[str]:
        return server.text().splitlines()
    try:
        if not server.wait_until(lambda: len(lines()) >= 1, 30.0) or lines()[0].strip() != "ready":
            raise LabkitError("flow.listen_failed", where=where.name, port=req.port)
        client = source.call(["nc", "-z", "-w", str(math.ceil(req.timeout)), req.ip, str(req.port)],
                             timeout=req.timeout + 10)
        server.wait_until(lambda: len(lines()) >= 2, req.timeout + 5)   # the listener's own timeout ends it
        seen = lines()[1].strip() if len(lines()) >= 2 else ""
    finally:
        server.stop()
    return {"seen": None if seen in ("", "none") else seen, "listener": where.name, "connected": client.returncode == 0}


MAX_PROBES = 8          # probe scripts at once per node (a trace or a capture: one per node, alone)


class FlowRunner:
    """The daemon's side: a trace or a capture spans every node and runs alone there; probes (small
    scripts from one pod or node) run up to :data:`MAX_PROBES` at once per node, never beside a trace
    or a capture. A node that cannot take the flow answers :class:`labkit.flowreq.FlowBusy` (429)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._held: dict[str, int] = {}       # node -> probes running; -1: a trace or capture
        self._lock = threading.Lock()

    @property
    def ranges(self) -> list[str]:
        return lab_ranges(self.state.spec)

    def _claim(self, names: list[str], alone: bool) -> None:
        with self._lock:
            busy = [n for n in names if self._held.get(n, 0) < 0 or (alone and self._held.get(n, 0) > 0)
                    or (not alone and self._held.get(n, 0) >= MAX_PROBES)]
            if busy:
                raise FlowBusy(", ".join(sorted(busy)))
            for n in names:
                self._held[n] = -1 if alone else self._held.get(n, 0) + 1

    def _release(self, names: list[str], alone: bool) -> None:
        with self._lock:
            for n in names:
                left = 0 if alone else self._held.get(n, 1) - 1
                if left > 0:
                    self._held[n] = left
                else:
                    self._held.pop(n, None)

    async def __call__(self, node: str, req: FlowRequest) -> dict[str, Any]:
        spec = self.state.spec
        plan = spec.node(node)
        alone = req.kind != "probe"
        names = [n.name for n in spec.node_plans()] if alone else [plan.name]
        self._claim(names, alone)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, execute, spec, dict(self.state.pods), node, req)
        except subprocess.TimeoutExpired as exc:
            raise BadInput("probe.exec_failed", pod=req.pod or node, error=f"timed out after {exc.timeout} s") from exc
        finally:
            self._release(names, alone)
