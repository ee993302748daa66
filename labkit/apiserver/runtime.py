"""The seam between the API server and whatever runs pods.

The API server decides *what* should run (scheduler, controllers); a runtime makes it real. The
embedded lab plugs in a runtime that builds network namespaces with CNI plugins; the tests and
the benchmark use ``LocalRuntime``, a stand-in that only allocates addresses and runs ``exec``
commands as ordinary local processes. Keeping this interface small is what lets the server be
tested without root.

Contract for implementations:
- ``start_pod`` is idempotent: after a restart of the server it is called again for pods that
  were already running, and should return the same IP (``pod["status"].get("podIP")`` is a hint).
- ``stop_pod`` is idempotent as well and must not fail for a pod it never started.
- ``exec`` returns an ``ExecProcess``; raise ``FileNotFoundError`` when the command does not exist
  (the server turns it into the message kubectl prints).
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class NodeInfo:
    """What the API server needs to know about a node to publish its Node object."""

    name: str
    internal_ip: str
    pod_cidr: str
    roles: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    # Taints as Kubernetes writes them: {"key": ..., "effect": "NoSchedule", "value": ...}.
    taints: tuple[dict, ...] = ()


@runtime_checkable
class ExecProcess(Protocol):
    """A running command: its output streams, its stdin, and its exit code."""

    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader | None

    async def write_stdin(self, data: bytes) -> None: ...
    async def close_stdin(self) -> None: ...
    async def wait(self) -> int: ...
    def resize(self, width: int, height: int) -> None: ...
    def kill(self) -> None: ...


@runtime_checkable
class PodRuntime(Protocol):
    """What the server's kubelet calls to run pods (see the module docstring for the contract)."""

    async def start_pod(self, pod: dict, node: str) -> str: ...
    async def stop_pod(self, pod: dict) -> None: ...
    async def exec(self, pod: dict, command: list[str], stdin: bool, tty: bool,
                   container: str | None = None) -> ExecProcess: ...
    async def logs(self, pod: dict, container: str) -> str: ...
    def nodes(self) -> list[NodeInfo]: ...


class SubprocessExec:
    """``ExecProcess`` over an asyncio subprocess (pipes, no pty: good enough for the tests)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        assert proc.stdout is not None, "started with stdout=PIPE"
        self.stdout: asyncio.StreamReader = proc.stdout
        self.stderr = proc.stderr

    async def write_stdin(self, data: bytes) -> None:
        if self._proc.stdin is None or self._proc.stdin.is_closing():
            return
        self._proc.stdin.write(data)
        try:
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def close_stdin(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.close()

    async def wait(self) -> int:
        return await self._proc.wait()

    def resize(self, width: int, height: int) -> None:
        """Pipes have no window size; a pty-based runtime would forward it."""

    def kill(self) -> None:
        if self._proc.returncode is None:
            self._proc.kill()


def kind_like_nodes(prefix: str = "lab", workers: int = 2) -> list[NodeInfo]:
    """Nodes named and numbered as kind names them, so tests read like a kind cluster."""
    names = [f"{prefix}-control-plane"] + [
        f"{prefix}-worker" + (str(i + 1) if i else "") for i in range(workers)]
    nodes = []
    for index, name in enumerate(names):
        control = index == 0
        nodes.append(NodeInfo(
            name=name, internal_ip=f"172.18.0.{index + 2}", pod_cidr=f"10.244.{index}.0/24",
            roles=("control-plane",) if control else (),
            taints=({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},)
            if control else ()))
    return nodes


class LocalRuntime:
    """A stand-in for the data plane: addresses come from each node's pod CIDR, nothing else is real.

    Pods get an IP and nothing runs; ``exec`` runs the command as a local subprocess of the
    server. This is what the tests and the benchmark use; the embedded lab replaces it with
    network namespaces and CNI.
    """

    def __init__(self, nodes: list[NodeInfo] | None = None) -> None:
        self._nodes = list(nodes) if nodes is not None else kind_like_nodes()
        self._ips: dict[str, str] = {}          # pod uid -> IP
        self._used: set[str] = set()
        self._hosts: dict[str, list[str]] = {}   # pod CIDR -> its addresses, in order
        self.started: dict[str, str] = {}       # pod uid -> node name (for tests)
        self.stopped: list[str] = []            # pod uids, in stop order (for tests)

    def nodes(self) -> list[NodeInfo]:
        return list(self._nodes)

    async def start_pod(self, pod: dict, node: str) -> str:
        uid = pod["metadata"]["uid"]
        if uid not in self._ips:
            self._ips[uid] = self._allocate(node, pod.get("status", {}).get("podIP"))
        self.started[uid] = node
        return self._ips[uid]

    async def stop_pod(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        ip = self._ips.pop(uid, None)
        if ip:
            self._used.discard(ip)
        self.started.pop(uid, None)
        self.stopped.append(uid)

    async def exec(self, pod: dict, command: list[str], stdin: bool, tty: bool,
                   container: str | None = None) -> ExecProcess:
        # The first container's literal env on top of the server's (the service variables too).
        containers = pod.get("spec", {}).get("containers") or [{}]
        env = dict(os.environ, HOSTNAME=pod["metadata"]["name"][:63])
        env.update({v["name"]: v["value"] for v in containers[0].get("env") or []
                    if isinstance(v.get("value"), str)})
        proc = await asyncio.create_subprocess_exec(
            *command, env=env,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if tty else asyncio.subprocess.PIPE)
        return SubprocessExec(proc)

    async def logs(self, pod: dict, container: str) -> str:
        return ""

    def _allocate(self, node: str, hint: str | None) -> str:
        info = next((n for n in self._nodes if n.name == node), None)
        if info is None:
            raise RuntimeError(f"unknown node {node}")
        net = ipaddress.ip_network(info.pod_cidr)
        if hint and hint not in self._used and ipaddress.ip_address(hint) in net:
            self._used.add(hint)
            return hint
        if info.pod_cidr not in self._hosts:       # .1 is the node's gateway on real CNIs
            self._hosts[info.pod_cidr] = [str(h) for h in net.hosts()][1:]
        for host in self._hosts[info.pod_cidr]:
            if host not in self._used:
                self._used.add(host)
                return host
        raise RuntimeError(f"pod CIDR {info.pod_cidr} of {node} is full")
