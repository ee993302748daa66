"""The one seam to the nodes: read-only commands and network state of a node (or a pod).

``NodeAccess`` is all the rest of labkit needs from a node: ``run(argv) -> stdout``. The
embedded lab runs the command in the node's (or pod's) network namespace; a kind node would use
``docker exec``; any cluster, a privileged probe pod. ``interfaces()`` and ``routes()`` parse
what ``ip -j`` prints with the pure parsers of ``labkit.inspect``, so they are identical
everywhere. Calls are plain subprocesses: they work inside a Jupyter kernel, whose event loop is
running (where pyroute2's synchronous API would fail).
"""
from __future__ import annotations

import subprocess
from typing import Protocol, Sequence

from .errors import LabkitError
from .inspect.iproute import Interface, Route, parse_addr, parse_routes


class NodeAccess(Protocol):
    """Runs a read-only command on a node and returns its standard output."""

    name: str

    def run(self, argv: Sequence[str]) -> str: ...


class NetnsAccess:
    """A node or pod of the embedded lab: a network namespace on this machine (needs root)."""

    def __init__(self, name: str, netns: str) -> None:
        self.name = name
        self.netns = netns

    def run(self, argv: Sequence[str]) -> str:
        cmd = ["nsenter", f"--net=/run/netns/{self.netns}", *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            from .embedded import messages  # noqa: F401

            raise LabkitError("lab.command_failed", where=self.name, command=" ".join(argv),
                              error=proc.stderr.strip())
        return proc.stdout

    def __repr__(self) -> str:
        return f"NetnsAccess({self.name!r}, netns={self.netns!r})"


def interfaces(access: NodeAccess) -> list[Interface]:
    return parse_addr(access.run(["ip", "-j", "-d", "addr", "show"]))


def routes(access: NodeAccess) -> list[Route]:
    return parse_routes(access.run(["ip", "-j", "route", "show"]))


def embedded_node(lab_name: str, node: str) -> NetnsAccess:
    """Access to a node of a running embedded lab (``worker`` or ``kubenet-worker``)."""
    from .embedded.client import EmbeddedLab

    plan = EmbeddedLab(lab_name).spec.node(node)
    return NetnsAccess(plan.name, plan.netns)


def embedded_pod(lab_name: str, pod: str) -> NetnsAccess:
    """Access to a pod of a running embedded lab (``namespace/name``)."""
    from .embedded.client import EmbeddedLab

    info = EmbeddedLab(lab_name).pod(pod)
    return NetnsAccess(f"{info['namespace']}/{info['name']}", info["netns"])
