"""Running things inside network namespaces: the only place the embedded lab touches processes.

Commands go through ``ip -n NS -batch -`` (many changes, one process) or ``nsenter --net``; sockets
are opened inside a namespace by a thread that ``setns()``-es in and out, because a socket stays in
the namespace where it was created. Errors become ``LabkitError`` naming the namespace and command.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ..errors import LabkitError

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
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


def add_netns(netns: str, lo_up: bool = True) -> None:
    """``ip netns add`` (and ``ip link set lo up`` in it) without starting a process.

    What iproute2 does (ip/ipnetns.c ``netns_add``): create an empty file under ``/run/netns``,
    ``unshare(CLONE_NEWNET)`` and bind-mount the new namespace on the file. Done by the calling
    thread, which returns to its own namespace afterwards; the pod wiring calls it from worker
    threads, many at once. The first namespace of the machine (``/run/netns`` not yet the shared
    mount point iproute2 makes it) is left to ``ip`` itself.
    """
    path = netns_path(netns)
    if not _netns_dir_shared():
        run(["ip", "netns", "add", netns])
        if lo_up:
            run(["ip", "-n", netns, "link", "set", "lo", "up"])
        return
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if _libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
        try:
            if _libc.mount(b"/proc/thread-self/ns/net", path.encode(), b"none", MS_BIND, None) != 0:
                raise OSError(ctypes.get_errno(), f"mount --bind {path}")
            if lo_up:
                _link_up("lo")
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:  # pragma: no cover - would be a kernel bug
                raise OSError(ctypes.get_errno(), "cannot return to the original netns")
    except OSError as exc:
        _libc.umount2(path.encode(), 2)            # MNT_DETACH, when the mount was made
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise LabkitError("lab.command_failed", where=netns, command="ip netns add",
                          error=str(exc)) from exc
    finally:
        os.close(own)


_SHARED: list[bool] = []


def shared_mount(mountinfo: str, point: str = "/run/netns") -> bool:
    """Whether ``/proc/self/mountinfo`` shows ``point`` as a mount point with shared propagation
    (pure). ``os.path.ismount`` cannot tell: iproute2 bind-mounts ``/run/netns`` onto itself,
    the same device as its parent, so it said no on every machine and each pod cost two ``ip``
    processes (``ip netns add``, ``ip link set lo up``)."""
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[4] == point:
            optional = fields[6:fields.index("-")] if "-" in fields else []
            if any(f.startswith("shared:") for f in optional):
                return True
    return False


def _netns_dir_shared() -> bool:
    """``shared_mount`` of this machine, cached once true (it never goes back while a lab runs)."""
    if not _SHARED:
        try:
            with open("/proc/self/mountinfo") as f:
                if shared_mount(f.read()):
                    _SHARED.append(True)
        except OSError:
            return False
    return bool(_SHARED)


def del_netns(netns: str) -> None:
    """``ip netns del`` without a process (iproute2 ``netns_delete``: lazy unmount, then unlink);
    a namespace that is not there is not an error."""
    path = netns_path(netns)
    _libc.umount2(path.encode(), 2)                 # MNT_DETACH
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _link_up(name: str) -> None:
    """``ip link set NAME up`` in the calling thread's namespace (SIOCSIFFLAGS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", name.encode(), 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", name.encode(), flags | IFF_UP))


def run_in(netns: str, argv: Sequence[str], input: bytes | None, env: dict[str, str],
           timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``argv`` in ``netns`` without ``nsenter``: the calling thread enters the namespace
    and starts the process there (a child is born in its parent thread's namespaces). For
    worker threads (``asyncio.to_thread``)."""
    with entered(netns):
        return subprocess.run(list(argv), input=input, capture_output=True, env=env,
                              timeout=timeout)


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
