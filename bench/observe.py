"""Benchmark: the kernel's side of a connection in the embedded lab (root).

Prints figures, asserts nothing (DESIGN.md: benchmarks are not timed asserts).

* observed trace (``labkit.trace(..., observe=True)``): wall time per trace, kernel events read;
* capture (``labkit.capture``): wall time, packets recorded along the path;
* Service matrix (``labkit.service_reachability``): predicted + probed, cells and wall time;

each directly (root enters the namespaces) and through the lab daemon's API (what an ordinary
user's kernel does: ``POST /api/v1/nodes/<node>/proxy/labkit/trace|capture|probe``).

    sudo python3 bench/observe.py [--lab NAME] [--runs 5]       # on a running lab with demo/client, demo/blue
    sudo python3 bench/observe.py --up                          # starts (and removes) a lab of its own
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

NAME = "bobserve"


def setup(name: str, cni: str, mode: str) -> None:
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, cni=cni, proxy_mode=mode, host_routes=False))
    env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(name)), HOME=f"/tmp/{name}-home")
    k = lambda *a: subprocess.run([shutil.which("kubectl"), *a], env=env, check=True, capture_output=True)
    k("create", "namespace", "demo")
    k("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
    k("-n", "demo", "expose", "deployment", "blue", "--port=80", "--type=NodePort")
    k("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--", "sleep", "infinity")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if len(labkit.trace(name, "demo/client", "demo/blue:80").candidates) == 3:
                return
        except labkit.LabkitError:
            pass
        time.sleep(0.2)


def timed(fn, runs: int) -> tuple[list[float], object]:
    times, last = [], None
    for _ in range(runs):
        t = time.monotonic()
        last = fn()
        times.append(time.monotonic() - t)
    return times, last


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lab", default=None)
    ap.add_argument("--up", action="store_true")
    ap.add_argument("--cni", default="kindnet")
    ap.add_argument("--proxy-mode", default="iptables")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    name = args.lab or NAME
    if args.up or not args.lab:
        setup(name, args.cni, args.proxy_mode)
    try:
        from kubernetes import config

        from labkit import kernel_trace
        from labkit.cluster import _through_api

        api = _through_api(name, config.new_client_from_config(config_file=str(kubeconfig_file(name))))
        predicted = labkit.trace(name, "demo/client", "demo/blue:80")
        for label, target in (("direct (root, nsenter)", name), ("through the API (what non-root uses)", api)):
            print(f"-- {label}")
            times, obs = timed(lambda: kernel_trace.observe(target, predicted), args.runs)
            rules = sum(len(p.rules) for p in obs.observed.packets)
            print(f"observed trace, kernel side: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
                  f"over {args.runs} runs; last: {len(obs.observed.packets)} packet traces, {rules} rules, ok={obs.ok}")
            times, obs = timed(lambda: labkit.trace(target, "demo/client", "demo/blue:80", observe=True), args.runs)
            print(f"observed trace with its snapshot: median {statistics.median(times):.2f} s, max {max(times):.2f} s")
            times, cap = timed(lambda: labkit.capture(target, "demo/client", "demo/blue:80"), args.runs)
            print(f"capture (snapshot included): median {statistics.median(times):.2f} s, max {max(times):.2f} s; last: "
                  f"{len(cap.rows)} packets on {len({(r.seen.where, r.seen.ifname) for r in cap.rows})} interfaces")
            times, m = timed(lambda: labkit.service_reachability(target), 1)
            print(f"service matrix: {len(m.sources)} sources x {len(m.columns)} columns = {len(m.cells)} cells in "
                  f"{times[0]:.2f} s (predicted + probed), ok={m.ok}")
    finally:
        if args.up or not args.lab:
            lifecycle.down(name)


if __name__ == "__main__":
    main()
