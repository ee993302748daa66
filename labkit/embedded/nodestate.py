"""The daemon's side of node state over the API: run an allowlisted read-only command in a node.

The allowlist (``labkit.nodes.served_by_lab``) is checked here again, whatever the HTTP layer did:
this is the one place a client's words become a root process. A pod (``namespace/name``) must be
one of the lab's and live on the node named in the URL. :meth:`NodeStateReader.pod_networks` reads every
pod's interfaces and routes for one request (``GET /labkit/v1/podnetworks``), so that a snapshot
through the API costs one request for all pods instead of one per pod.
"""
from __future__ import annotations

import asyncio
import shlex

from ..errors import BadInput, LabkitError
from ..inspect.batch import BATCH_ADDR_ROUTE, addr_and_routes
from ..nodes import served_by_lab
from ..rtnl_read import read_many
from .bird import node_birdc_argv
from .netns import in_netns
from .state import LabState

TIMEOUT = 30.0
POD_READS_AT_ONCE = 8        # ip processes at once for a batch of pods (the machine has few cores)
POD_READ_TIMEOUT = 10.0      # seconds for one pod's read; a pod that does not answer is left out
NETLINK = True               # pods read over netlink in-process (labkit.inspect.rtnl); False: one ip each


class NodeStateReader:
    def __init__(self, state: LabState) -> None:
        self.state = state
        self._gate: asyncio.Semaphore | None = None     # made in the daemon's loop, on first use

    def netns(self, node: str, pod: str | None) -> str:
        plan = self.state.spec.node(node)            # BadInput for an unknown node
        if pod is None:
            return plan.netns
        record = self.state.pods.get(pod)
        if record is None or record.node != plan.name:
            raise LabkitError("lab.unknown_pod", pod=pod, name=self.state.spec.name)
        return record.netns

    async def __call__(self, node: str, pod: str | None, argv: list[str]) -> tuple[int, str, str]:
        if not served_by_lab(argv):
            raise BadInput("nodes.not_served_by_lab", command=shlex.join(argv), node=node)
        netns = self.netns(node, pod)
        if pod is None:
            argv = node_birdc_argv(netns, argv)      # the calico flavor's BIRD: the node's socket
        proc = await asyncio.create_subprocess_exec(
            *in_netns(argv, netns), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return 124, "", f"timed out after {TIMEOUT:g} s"
        return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")

    async def pod_networks(self, nodes: list[str] | None) -> list[dict]:
        """Every pod's interfaces and routes (of ``nodes``, or of all nodes): read over netlink in-process
        (:mod:`labkit.rtnl_read`), as ``ip -j -d -batch -`` prints them; a pod the reader leaves
        out is read with one ``ip -j -d -batch -``, at most :data:`POD_READS_AT_ONCE` at a time (whatever the number of requests), each within :data:`POD_READ_TIMEOUT`.

        Items are ``{"pod", "node", "addr", "route"}`` (the JSON ``ip -j -d addr show`` and ``ip -j
        route show`` print); a pod that went away or did not answer is left out, as a snapshot read
        directly leaves it out. Unknown node names raise ``BadInput`` before anything runs.
        """
        wanted = {self.state.spec.node(n).name for n in nodes} if nodes else None
        records = [r for r in list(self.state.pods.values()) if wanted is None or r.node in wanted]
        if self._gate is None:                       # shared by all requests: a client asking many times at
            self._gate = asyncio.Semaphore(POD_READS_AT_ONCE)   # once still gets 8 processes at most
        gate = self._gate

        # in-process first: one netlink socket per pod namespace, from threads of their own (no process)
        read = await asyncio.to_thread(read_many, [r.netns for r in records]) if NETLINK else {}

        async def one(record) -> dict | None:
            got = read.get(record.netns)
            if got is not None:
                addr, route = got
            else:                                    # gone meanwhile, or a device the reader leaves to ip
                async with gate:
                    text = await self._batch(record.netns)
                if text is None:
                    return None
                try:
                    addr, route = addr_and_routes(text)
                except ValueError:
                    return None
            return {"pod": f"{record.namespace}/{record.name}", "node": record.node, "addr": addr, "route": route}

        found = await asyncio.gather(*(one(r) for r in records))
        return [f for f in found if f is not None]

    async def _batch(self, netns: str) -> str | None:
        proc = await asyncio.create_subprocess_exec(
            "ip", "-n", netns, "-j", "-d", "-batch", "-", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(BATCH_ADDR_ROUTE.encode()), POD_READ_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return None
        return out.decode(errors="replace") if proc.returncode == 0 else None
