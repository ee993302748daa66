"""Running things inside network namespaces: the only place the embedded lab touches processes.

Commands go through ``ip -n NS -batch -`` (many changes, one process) or ``nsenter --net``; sockets
are opened inside a namespace by a thread that ``setns()``-es in and out, because a socket stays in
the namespace where it was created. Errors become ``LabkitError`` naming the namespace and command.
"""
from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..errors import LabkitError

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_setns_lock = threading.Lock()


def netns_path(netns: str) -> str:
    return f"/run/netns/{netns}"


def in_netns(argv: Sequence[str], netns: str | None) -> list[str]:
    """The command line that runs ``argv`` in ``netns`` (or as is when ``netns`` is None)."""
    if netns is None:
        return list(argv)
    return ["nsenter", f"--net={netns_path(netns)}", *argv]


def run(argv: Sequence[str], netns: str | None = None, input: str | None = None,
        check: bool = True) -> str:
    """Run a command (in a namespace), return stdout; failures raise a LabkitError."""
    cmd = in_netns(argv, netns)
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise LabkitError("lab.missing_tool", tool=cmd[0], package=_package_of(cmd[0])) from exc
    if check and proc.returncode != 0:
        raise LabkitError("lab.command_failed", where=netns or "host", command=" ".join(argv),
                          error=(proc.stderr or proc.stdout).strip())
    return proc.stdout


async def arun(argv: Sequence[str], netns: str | None = None, input: bytes | None = None,
               check: bool = True) -> str:
    """``run`` for the daemon's event loop."""
    cmd = in_netns(argv, netns)
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(input)
    if check and proc.returncode != 0:
        raise LabkitError("lab.command_failed", where=netns or "host", command=" ".join(argv),
                          error=(err or out).decode(errors="replace").strip())
    return out.decode()


def ip_batch(commands: Sequence[str], netns: str | None = None) -> None:
    """Apply many ``ip`` commands with one process (fast: a 3-node lab is a few dozen commands)."""
    if not commands:
        return
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    run(argv, input="\n".join(commands) + "\n")


async def aip_batch(commands: Sequence[str], netns: str | None = None) -> None:
    if not commands:
        return
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    await arun(argv, input=("\n".join(commands) + "\n").encode())


def set_sysctl(netns: str, key: str, value: str) -> None:
    """Write a per-namespace sysctl (``/proc/sys/net`` shows the namespace of the writer)."""
    with entered(netns):
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


@contextmanager
def entered(netns: str) -> Iterator[None]:
    """Run the body with the *current thread* inside ``netns`` (sockets made here stay there).

    ``setns`` changes only the calling thread, so the daemon does this in worker threads and
    always returns to the original namespace, even when the body fails.
    """
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(netns_path(netns), os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise LabkitError("lab.command_failed", where=netns, command="setns",
                              error=os.strerror(err))
        try:
            yield
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:  # pragma: no cover - would be a kernel bug
                raise OSError(ctypes.get_errno(), "cannot return to the original netns")
    finally:
        os.close(target)
        os.close(own)


def _package_of(tool: str) -> str:
    return {"ip": "iproute2", "nsenter": "util-linux", "iptables": "iptables", "nft": "nftables",
            "bridge": "iproute2", "sysctl": "procps"}.get(tool, tool)


def require_tools() -> None:
    """Fail early, with the Debian package to install, when a tool the lab runs is missing."""
    for tool in ("ip", "nsenter", "bridge"):
        if shutil.which(tool) is None:
            raise LabkitError("lab.missing_tool", tool=tool, package=_package_of(tool))
    if not os.path.exists("/usr/lib/cni/ptp"):
        raise LabkitError("lab.missing_tool", tool="/usr/lib/cni/ptp",
                          package="containernetworking-plugins")
