"""Remove everything a lab created, found by name, also when its daemon was killed and its state lost.

Like Mininet's ``clean.py``: nothing here trusts the state file. Processes are found by the
network namespace they live in (and the daemon by its command line), namespaces and host links
by the lab's prefix, files by the lab's directory. Only names this lab would create are matched,
so a lab named ``kubenet`` never sweeps one named ``kubenet2``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

from . import companions, hostnet, sock_lb
from . import netns as ns
from .paths import lab_dir
from .topology import LabSpec
from .userconfig import remove_copies

DAEMON_MODULE = "labkit.embedded.daemon"


def _netns_inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def lab_namespaces(name: str) -> list[str]:
    probe = LabSpec(name=name)
    return [n for n in ns.list_netns() if probe.owns_netns(n)]


def lab_processes(name: str) -> list[int]:
    """Pids of the lab's daemon and of every process living in one of the lab's namespaces."""
    inodes = {i for n in lab_namespaces(name) if (i := _netns_inode(ns.netns_path(n)))}
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        try:
            net_ino = os.stat(f"/proc/{pid}/ns/net").st_ino
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmdline if a]
        is_daemon = DAEMON_MODULE in args and _arg_after(args, "--name") == name
        if net_ino in inodes or is_daemon:
            found.append(pid)
    return found


def _arg_after(args: list[str], flag: str) -> str | None:
    for i, a in enumerate(args[:-1]):
        if a == flag:
            return args[i + 1]
    return None


def kill_processes(pids: list[int], grace: float = 1.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            alive = [p for p in alive if _alive(p)]
            if not alive:
                return
            time.sleep(0.02)
        pids = alive


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def host_links(name: str) -> list[str]:
    """Host interfaces of this lab (only ``<name>-host`` today; the sweep accepts future suffixes).

    Asked of the kernel (netlink, ``ip -j link``) in this process's network namespace, not read from
    ``/sys/class/net``: sysfs shows the links of the namespace it was mounted in, so a lab whose
    "host" is a namespace entered with ``nsenter --net`` (a learner's world under ``make class``)
    would find none there, and its host link would only go when the kernel's asynchronous netns
    cleanup got round to the peer's namespace: a ``reset`` right after could then meet the old link
    ("File exists")."""
    pattern = re.compile(rf"^{re.escape(name)}-(host|svc)$")
    links = json.loads(ns.run(["ip", "-j", "link", "show"], check=False) or "[]")
    return [str(link["ifname"]) for link in links if pattern.match(str(link.get("ifname", "")))]


def sweep(name: str) -> int:
    """Remove every trace of lab ``name``; returns how many objects were removed. Idempotent."""
    count = 0
    for companion in companions.listed(name):       # its companion labs first (``companions``)
        if companion != name:
            count += sweep(companion)
    pids = lab_processes(name)
    kill_processes(pids)
    count += len(pids)
    for link in host_links(name):
        ns.run(["ip", "link", "del", link], check=False)
        count += 1
    for netns in lab_namespaces(name):
        ns.run(["ip", "netns", "del", netns], check=False)
        count += 1
    count += sock_lb.sweep(name)     # BPF programs stay attached when a daemon dies
    count += remove_copies(name)
    for path in [lab_dir(name)] + sorted(Path("/etc/netns").glob(f"{name}-*")):
        if path.exists() and (path == lab_dir(name) or LabSpec(name=name).owns_netns(path.name)):
            shutil.rmtree(path, ignore_errors=True)
            count += 1
    count += hostnet.unrefuse(name)     # last: the lab's ranges stay refused until all is gone
    try:
        lab_dir(name).parent.rmdir()      # /run/labkit itself, once the last lab is gone
    except OSError:
        pass
    return count
