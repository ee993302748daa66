"""Observe one flow in the lab's namespaces for a client: trace it, capture it, or probe from a source.

:func:`execute` is the one place where a :class:`labkit.flowreq.FlowRequest` (already validated:
numbers, an address inside the lab, a protocol out of two, pod names) becomes processes: it looks
the pods up in the lab's own records, then runs :func:`labkit.kernel_trace.run_traced`,
:func:`labkit.capture.record_raw` or the Service probe's script, each of which builds its commands
from those values only. Root calls it directly (``labkit.nodes.LocalFlows``); the daemon calls it
for API clients (:class:`FlowRunner`: one flow at a time per node, a busy node answers 429).
The answer is plain JSON data: the client decodes and compares it as it would its own.
"""
from __future__ import annotations

import asyncio
import subprocess
import threading
from typing import Any

from ..errors import BadInput, LabkitError
from ..flowreq import FlowBusy, FlowRequest
from .netns import in_netns
from .topology import LabSpec


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
    from .. import capture, kernel_trace, service_probe

    plan = spec.node(node)                                  # BadInput for an unknown node
    source = _pod(pods, req.pod, spec.name) if req.pod else None
    if source is not None and source.node != plan.name:
        raise LabkitError("lab.unknown_pod", exit_code=2, pod=f"{req.pod} (node {plan.name})", name=spec.name)
    if req.kind == "probe":
        doors = [(t.ip, t.port, t.protocol) for t in req.targets]
        script = service_probe.target_script(doors, req.timeout)
        netns = source.netns if source is not None else plan.netns
        proc = subprocess.run(in_netns(["sh", "-c", script], netns), capture_output=True, text=True,
                              timeout=req.timeout + 30)
        seen = service_probe.parse_output(proc.stdout)
        if len(seen) < len(doors):
            raise LabkitError("probe.exec_failed", pod=req.pod or plan.name, error=(proc.stderr or "-").strip()[:200])
        return {"reached": [seen[n] for n in range(len(doors))]}
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
    return capture.record_raw(spaces, source.netns, req.ip, req.port, req.protocol, req.timeout).to_dict()


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
