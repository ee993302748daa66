"""How many learners one server holds under `make class` (root): each logs in over HTTP, starts
their server, opens a kernel that imports labkit and draws notebook 00's overview, and runs a
Deployment of 10 pods; memory per learner, times, and the CPU the idle class uses.

Prints figures; asserts nothing. Usage: sudo .venv/bin/python bench/class_capacity.py [--learners 20] [--pods 10]
"""
from __future__ import annotations

import argparse
import os
import pwd
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.classroom.hubclient import Learner

LABKIT = str(Path(sys.executable).parent / "labkit")
DRAW = """
import time, labkit, labkit.live
t = time.monotonic(); cluster = labkit.connect(); view = labkit.live.show("overview", cluster)
print("drawn", round(time.monotonic() - t, 2))
"""
PODS = """
import subprocess
subprocess.run(["kubectl", "create", "deployment", "web", "--image=nginx", "--replicas={n}"], check=True, capture_output=True)
p = subprocess.run(["kubectl", "rollout", "status", "deployment/web", "--timeout=180s"], capture_output=True, text=True)
print("rolled", p.returncode)
"""


def mem_available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mib(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def world_pss_mib(login: str) -> float:
    """PSS of everything a learner's world runs: processes in their namespace (server, kernel, lab
    daemon), in their lab's node and pod namespaces, or running as their Unix user (pods)."""
    from labkit.embedded.cleanup import lab_namespaces

    uid = pwd.getpwnam(f"kc_{login}").pw_uid
    inodes = {os.stat(f"/run/netns/{n}").st_ino for n in [f"kc_{login}", *lab_namespaces(login)]
              if os.path.exists(f"/run/netns/{n}")}
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            mine = os.stat(f"/proc/{pid}").st_uid == uid or os.stat(f"/proc/{pid}/ns/net").st_ino in inodes
        except OSError:
            continue
        if mine:
            total += pss_mib(pid)
    return total


def cpu_busy(seconds: float = 10.0) -> float:
    """Share of both cores busy over ``seconds`` (from /proc/stat)."""
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values), values[3] + values[4]
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


KINDS = ((b"labkit.embedded.daemon", "lab daemon"), (b"jupyterhub-singleuser", "JupyterLab server"),
         (b"ipykernel", "kernel"), (b"jupyterhub", "hub"), (b"configurable-http-proxy", "proxy"),
         (b"labkit.classroom.service", "class service"))


def _kind(cmdline: bytes) -> str:
    return next((kind for needle, kind in KINDS if needle in cmdline), "pods and others")


def _ticks(pid: str) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def cpu_by_kind(logins: list[str], seconds: float = 20.0) -> dict[str, float]:
    """CPU (% of one core) of the class's own processes over ``seconds``, by kind: each learner's world
    (their namespace, their lab's namespaces, their Unix user) plus the hub, proxy and service.
    Other work on the machine is not counted, unlike :func:`cpu_busy`."""
    from labkit.embedded.cleanup import lab_namespaces

    inodes = {os.stat(f"/run/netns/{n}").st_ino for login in logins
              for n in [f"kc_{login}", *lab_namespaces(login)] if os.path.exists(f"/run/netns/{n}")}
    uids = {pwd.getpwnam(f"kc_{login}").pw_uid for login in logins}

    def ours() -> dict[str, str]:
        found = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                mine = os.stat(f"/proc/{pid}").st_uid in uids or os.stat(f"/proc/{pid}/ns/net").st_ino in inodes
            except OSError:
                continue
            cmd = _cmd(pid)
            if mine or _kind(cmd) in ("hub", "proxy", "class service", "lab daemon"):
                found[pid] = _kind(cmd)
        return found
    pids = ours()
    before = {p: _ticks(p) for p in pids}
    time.sleep(seconds)
    used: dict[str, float] = {}
    hz = os.sysconf("SC_CLK_TCK")
    for pid, kind in pids.items():
        used[kind] = used.get(kind, 0.0) + max(0, _ticks(pid) - before[pid]) / hz / seconds * 100
    return used


def _cmd(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--pods", type=int, default=10)
    args = parser.parse_args()
    logins = [f"bl{i}" for i in range(1, args.learners + 1)]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    roster = Path(tempfile.mkdtemp()) / "class.txt"
    roster.write_text("\n".join(logins) + "\n")
    before = mem_available_mib()
    t0 = time.monotonic()
    subprocess.run([LABKIT, "class", "up", "--roster", str(roster), "--ip", "127.0.0.1", "--port", str(port)],
                   check=True)
    print(f"class up (learners' venv rebuilt when the sources changed): {time.monotonic() - t0:.1f} s")
    hub_mem = before - mem_available_mib()
    hub_pss = sum(pss_mib(p) for p in filter(str.isdigit, os.listdir("/proc"))
                  if _cmd(p) and (b"jupyterhub" in _cmd(p) or b"configurable-http-proxy" in _cmd(p)
                                  or b"labkit.classroom.service" in _cmd(p)))
    learners, ready, drawn, rolled = [], [], [], []
    try:
        for login in logins:
            learner = Learner(f"http://127.0.0.1:{port}", login, f"{login}-password")
            t = time.monotonic()
            learner.log_in()
            learner.get_token()
            learner.start_server()
            ready.append(time.monotonic() - t)
            out = learner.run(DRAW)
            drawn.append(time.monotonic() - t)
            out2 = learner.run(PODS.format(n=args.pods), timeout=300)
            rolled.append("rolled 0" in out2["stdout"])
            learners.append(learner)
            used = before - mem_available_mib()
            print(f"{login}: server {ready[-1]:.1f} s, overview drawn {drawn[-1]:.1f} s after login "
                  f"({out['stdout'].strip() or out['error']}), {args.pods} pods {'ready' if rolled[-1] else 'NOT READY'}; "
                  f"memory used so far {used:.0f} MiB", flush=True)
        total = before - mem_available_mib()
        worlds = [world_pss_mib(x.login) for x in learners]
        time.sleep(10)                   # the last rollout settles
        busy = cpu_busy()
        by_kind = cpu_by_kind([x.login for x in learners])
        n = len(learners)
        print(f"\nlearners served: {n} ({sum(rolled)} with all {args.pods} pods ready)")
        print(f"memory: hub+proxy+service {hub_mem:.0f} MiB; whole class {total:.0f} MiB; "
              f"per learner {(total - hub_mem) / n:.0f} MiB (server, kernel with labkit, lab daemon, {args.pods} pods)")
        print(f"memory per learner (PSS of their world: server, kernel, lab daemon, pods): median "
              f"{statistics.median(worlds):.0f} MiB, max {max(worlds):.0f} MiB; hub+proxy+service PSS {hub_pss:.0f} MiB")
        print(f"first login -> server ready: median {statistics.median(ready):.1f} s, max {max(ready):.1f} s")
        print(f"first login -> notebook 00's overview drawn in the kernel: median {statistics.median(drawn):.1f} s, "
              f"max {max(drawn):.1f} s")
        print(f"CPU busy with the class idle: {busy * 100:.0f}% of {os.cpu_count()} cores (whole machine)")
        print(f"CPU of the class's own processes, idle: {sum(by_kind.values()):.1f}% of one core "
              f"({sum(by_kind.values()) / n:.2f}% per learner): "
              + ", ".join(f"{k} {v:.1f}%" for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])))
        print(f"memory left: {mem_available_mib():.0f} MiB available")
    finally:
        t = time.monotonic()
        subprocess.run([LABKIT, "class", "down"], check=False)
        print(f"class down: {time.monotonic() - t:.1f} s")


if __name__ == "__main__":
    main()
