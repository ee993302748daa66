"""Helpers of the lab tests: the host's state (to prove teardown leaves it as it was), echo calls."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
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


def _other_labs(name: str | None) -> set[str]:
    """Labs other than ``name`` (other tests may run at the same time on a developer's machine)."""
    found = set()
    if Path("/run/labkit").exists():
        found |= {p.name for p in Path("/run/labkit").iterdir()}
    if os.path.isdir("/run/netns"):
        found |= {n.split("-")[0] for n in os.listdir("/run/netns") if "-" in n}
    return found - {name}


def host_state(name: str | None = None) -> dict:
    """What the host looks like: routes, addresses, rules, firewall rulesets, namespaces, mounts.

    Objects of *other* labs are left out, so a test stays exact about its own lab while other
    labs come and go beside it.
    """
    from labkit.embedded.hostnet import refuse_metric

    labs = _other_labs(name)
    # other labs' objects name them; their refusal routes carry a metric derived from their name
    others = tuple(f"{o}-" for o in labs) + tuple(f" metric {refuse_metric(o)}" for o in labs)

    def mine(line: str) -> bool:
        return not any(o in line for o in others)

    def lines(text: str) -> str:
        return "\n".join(l for l in text.splitlines() if mine(l))

    mounts = Path("/proc/mounts").read_text().splitlines()
    state = {
        "links": sorted(l["ifname"] for l in json.loads(sh("ip", "-j", "link")) if mine(l["ifname"])),
        "addresses": lines(sh("ip", "-br", "addr")),
        "routes": lines(_routes_without_other_labs(others)),
        "rules": sh("ip", "rule"),
        "iptables": _strip_counters(sh("iptables-save")),
        "nft": sh("nft", "list", "ruleset"),
        "netns": sorted(n for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else []) if mine(n)),
        "mounts": sorted(m for m in mounts if name and name in m),
        "run_dirs": sorted(p.name for p in Path("/run/labkit").iterdir()
                           if p.name == name or not _other_labs(name) & {p.name})
        if Path("/run/labkit").exists() else [],
    }
    if name:
        state["processes"] = lab_process_count(name)
    return state


def _routes_without_other_labs(others: tuple[str, ...]) -> str:
    """Routes, leaving out those through other labs' host links (they name their device)."""
    return sh("ip", "route", "show", "table", "all")


def lab_process_count(name: str) -> int:
    from labkit.embedded.cleanup import lab_processes
    return len(lab_processes(name))


def echo(lab, src_pod: str, ip: str, port: int = 80) -> dict:
    proc = lab.exec(src_pod, ["curl", "-s", "-m", "3", f"http://{ip}:{port}/"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def eventually(read, done, what: str, seconds: float = 120, interval: float = 0.3):
    """Poll ``read()`` until ``done(value)``; the deadline only stops a hung test (no timing)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: {str(value)[:2000]}"
        time.sleep(interval)


def pods_created(kubectl, selector: str, count: int = 1, *namespace: str) -> list[str]:
    """The ``count`` pods of ``selector`` once their controller has created them.

    ``kubectl wait pod -l SELECTOR`` waits for the pods that exist when it starts: right after
    ``kubectl create deployment`` there may be none yet (kubectl: "no matching resources found"),
    and after ``kubectl scale`` fewer than asked. Call this first.
    """
    names = lambda: kubectl(*namespace, "get", "pod", "-l", selector, "-o", "name").stdout.split()
    return eventually(names, lambda names: len(names) == count, f"{count} pod(s) of {selector}")


def settled(read, what: str, quiet: float = 1.5, seconds: float = 120):
    """``read()`` once two reads ``quiet`` seconds apart agree: kube-proxy and the policy enforcer
    sync a moment after the API changed (debounced, a stale chain deleted a second later), so a
    state taken as a reference must be taken once their syncs have landed. A slower machine takes
    longer here, it does not fail."""
    last = [read()]

    def again():
        time.sleep(quiet)
        previous, last[0] = last[0], read()
        return previous == last[0]

    eventually(again, bool, f"{what} still changing", seconds=seconds, interval=0)
    return last[0]
