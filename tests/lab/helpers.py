"""Helpers of the lab tests: the host's state (to prove teardown leaves it as it was), echo calls."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def labkit(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), LABKIT_LANG="en")
    proc = subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True,
                          env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"labkit {' '.join(args)} failed: {proc.stderr}")
    return proc


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def _strip_counters(text: str) -> str:
    text = re.sub(r"\[\d+:\d+\]", "[0:0]", text)
    return "\n".join(l for l in text.splitlines() if not l.startswith("#"))


def host_state(name: str | None = None) -> dict:
    """What the host looks like: routes, addresses, rules, firewall rulesets, namespaces, mounts."""
    mounts = Path("/proc/mounts").read_text().splitlines()
    state = {
        "links": sorted(l["ifname"] for l in json.loads(sh("ip", "-j", "link"))),
        "addresses": sh("ip", "-br", "addr"),
        "routes": sh("ip", "route", "show", "table", "all"),
        "rules": sh("ip", "rule"),
        "iptables": _strip_counters(sh("iptables-save")),
        "nft": sh("nft", "list", "ruleset"),
        "netns": sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else [],
        "mounts": sorted(m for m in mounts if name and name in m),
        "run_dirs": sorted(p.name for p in Path("/run/labkit").iterdir()) if Path("/run/labkit").exists() else [],
    }
    if name:
        state["processes"] = lab_process_count(name)
    return state


def lab_process_count(name: str) -> int:
    from labkit.embedded.cleanup import lab_processes
    return len(lab_processes(name))


def echo(lab, src_pod: str, ip: str, port: int = 80) -> dict:
    proc = lab.exec(src_pod, ["curl", "-s", "-m", "3", f"http://{ip}:{port}/"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
