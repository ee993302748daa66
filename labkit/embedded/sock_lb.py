"""The socket load balancer's kernel side: compile, load, pin, attach, dump and sweep.

One node's programs (``labkit/bpf/sock_lb.c``) and maps are pinned under
``/sys/fs/bpf/labkit/<lab>/<node>/`` and attached to the root of the cgroup v2 tree (as Cilium
attaches its socket LB at the root of its cgroup v2 mount); each acts only on the sockets of its
node's network namespaces (``lab_netns``). Pins make them outlive the daemon; ``sweep`` finds
them by their pins, detaches and unpins them, also after a crash.
"""
from __future__ import annotations

import glob
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
from pathlib import Path

from ..bpf import maps as m
from ..errors import LabkitError
from . import netns as ns

SOURCE = Path(__file__).resolve().parents[1] / "bpf" / "sock_lb.c"
BPF_FS = Path("/sys/fs/bpf")
BPF_ROOT = Path(m.PIN_ROOT)           # /sys/fs/bpf/labkit
# program (function name in sock_lb.c) -> the cgroup hook it attaches to
PROGRAMS = {"sock4_connect": "connect4", "sock4_sendmsg": "sendmsg4",
            "sock4_recvmsg": "recvmsg4", "sock4_getpeername": "getpeername4"}
SO_NETNS_COOKIE = 71


def lab_pins(name: str) -> Path:
    return BPF_ROOT / name


def node_pins(name: str, node: str) -> Path:
    return lab_pins(name) / node


def map_pins(name: str, node: str) -> dict[str, str]:
    return {mp: str(node_pins(name, node) / "maps" / mp) for mp in m.WRITTEN_MAPS + (m.REVERSE_SK,)}



def tool(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        raise LabkitError("lab.missing_tool", tool=name, package=package)
    return path


def _run(argv: list[str], input: str | None = None) -> str:
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise LabkitError("lab.command_failed", where="host", command=" ".join(argv[:4]),
                          error=(proc.stderr or proc.stdout).strip()[-400:])
    return proc.stdout


def cgroup2_root() -> str:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup`` on Debian 12)."""
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[2] == "cgroup2":
            return parts[1]
    raise LabkitError("lab.command_failed", where="host", command="cgroup2",
                      error="no cgroup v2 hierarchy is mounted")


def ensure_bpffs() -> None:
    mounted = any(l.split()[1:3] == [str(BPF_FS), "bpf"]
                  for l in Path("/proc/mounts").read_text().splitlines() if len(l.split()) > 2)
    if not mounted:
        _run(["mount", "-t", "bpf", "bpf", str(BPF_FS)])


def _include_dirs() -> list[str]:
    """``<asm/types.h>`` lives in the multiarch include directory on Debian."""
    arch = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(platform.machine())
    found = [f"/usr/include/{arch}"] if arch else glob.glob("/usr/include/*-linux-gnu")
    return [f"-I{d}" for d in found if os.path.isdir(d)]


def compile_program(out: Path) -> Path:
    clang = tool("clang", "clang")
    _run([clang, "-O2", "-g", "-target", "bpf", *_include_dirs(), "-c", str(SOURCE), "-o", str(out)])
    return out


def netns_cookie(netns: str) -> int:
    """The kernel's cookie of a network namespace (what ``bpf_get_netns_cookie`` returns)."""
    with ns.entered(netns):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            return struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0]


def own_netns_cookie() -> int:
    """The cookie of this process's own network namespace (the daemon's: the host side of the lab)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0]


def prog_id(pin: Path) -> int | None:
    try:
        out = subprocess.run([tool("bpftool", "bpftool"), "-j", "prog", "show", "pinned", str(pin)],
                             capture_output=True, text=True, timeout=30)
        return int(json.loads(out.stdout)["id"]) if out.returncode == 0 else None
    except (ValueError, KeyError, TypeError):
        return None


def attached_ids(root: str) -> set[int]:
    out = subprocess.run([tool("bpftool", "bpftool"), "-j", "cgroup", "show", root],
                         capture_output=True, text=True, timeout=30)
    try:
        return {int(p["id"]) for p in json.loads(out.stdout.strip() or "[]")}
    except (ValueError, KeyError, TypeError):
        return set()


def load_node(name: str, node: str, obj: Path) -> None:
    """Load, pin and attach one node's programs and maps (what is there already is kept)."""
    bpftool = tool("bpftool", "bpftool")
    pins = node_pins(name, node)
    if not all((pins / p).exists() for p in PROGRAMS):
        if pins.exists():
            _unpin(pins)
        pins.parent.mkdir(parents=True, exist_ok=True)
        _run([bpftool, "prog", "loadall", str(obj), str(pins), "pinmaps", str(pins / "maps")])
    root = cgroup2_root()
    attached = attached_ids(root)
    for prog, hook in PROGRAMS.items():
        pid = prog_id(pins / prog)
        if pid is not None and pid not in attached:
            _run([bpftool, "cgroup", "attach", root, hook, "id", str(pid), "multi"])


def _unpin(path: Path) -> int:
    count = 0
    for entry in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            entry.rmdir() if entry.is_dir() else entry.unlink()
            count += 1
        except OSError:
            pass
    try:
        path.rmdir()
    except OSError:
        pass
    return count


def sweep(name: str) -> int:
    """Detach and unpin every program and map of lab ``name`` (found by their pins)."""
    base = lab_pins(name)
    if not base.exists():
        return 0
    count = 0
    root = None
    for node in sorted(p for p in base.iterdir() if p.is_dir()):
        for prog, hook in PROGRAMS.items():
            pid = prog_id(node / prog)
            if pid is None:
                continue
            root = root or cgroup2_root()
            subprocess.run([tool("bpftool", "bpftool"), "cgroup", "detach", root, hook, "id", str(pid)],
                           capture_output=True, timeout=30)
            count += 1
    count += _unpin(base)
    try:
        BPF_ROOT.rmdir()          # the last lab gone
    except OSError:
        pass
    return count


def dump(name: str, node: str, map_name: str) -> dict[bytes, bytes]:
    out = _run([tool("bpftool", "bpftool"), "-j", "map", "dump", "pinned", map_pins(name, node)[map_name]])
    return m.raw_dump(json.loads(out or "[]"))


def node_table(name: str, node: str) -> dict[m.Frontend, list[m.Backend]]:
    """What a node's maps hold now: ClusterIP:port -> backends."""
    return m.read_table(dump(name, node, m.SERVICES), dump(name, node, m.BACKENDS))


