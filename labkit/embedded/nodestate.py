"""The daemon's side of node state over the API: run an allowlisted read-only command in a node.

The allowlist (``labkit.nodes.served_by_lab``) is checked here again, whatever the HTTP layer did:
this is the one place a client's words become a root process. A pod (``namespace/name``) must be
one of the lab's and live on the node named in the URL.
"""
from __future__ import annotations

import asyncio
import shlex

from ..errors import BadInput, LabkitError
from ..nodes import served_by_lab
from .bird import node_birdc_argv
from .netns import in_netns
from .state import LabState

TIMEOUT = 30.0


class NodeStateReader:
    def __init__(self, state: LabState) -> None:
        self.state = state

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
