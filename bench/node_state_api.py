"""Benchmark: a snapshot read as root (nsenter into the nodes) vs through the lab daemon's API
(what an ordinary user's kernel does), and the cost of containment on ``labkit up``/``down``.

Prints figures; asserts nothing. Usage: sudo python3 bench/node_state_api.py [--pods 20] [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import config

from labkit import cluster as clusters
from labkit.embedded import hostnet, lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

NAME = "bnodeapi"


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lifecycle.down(NAME)
    start = time.perf_counter()
    lifecycle.up(LabSpec(name=NAME))
    up_s = time.perf_counter() - start
    start = time.perf_counter()
    hostnet.refuse(LabSpec(name=NAME))          # what containment adds to `up` (idempotent: replace)
    refuse_s = time.perf_counter() - start
    try:
        env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(NAME)))
        subprocess.run(["kubectl", "create", "deployment", "b", "--image=jpetazzo/color", f"--replicas={args.pods}"],
                       env=env, check=True, capture_output=True)
        while len([p for p in EmbeddedLab(NAME).pods() if p["name"].startswith("b-")]) < args.pods:
            time.sleep(0.2)
        direct = clusters.connect(lab=NAME)
        api = config.new_client_from_config(config_file=str(kubeconfig_file(NAME)))
        via_api = clusters._through_api(NAME, api)
        for label, c in (("root, nsenter", direct), ("through the daemon's API", via_api)):
            c.snapshot()                                     # warm up
            times = timed(c.snapshot, args.runs)
            print(f"snapshot {label:26} median {statistics.median(times) * 1000:7.0f} ms "
                  f"(min {min(times) * 1000:.0f}, {args.runs} runs, 3 nodes, {args.pods} pods + system pods)")
    finally:
        start = time.perf_counter()
        lifecycle.down(NAME)
        down_s = time.perf_counter() - start
    print(f"labkit up {up_s:.2f} s (refusal routes alone: {refuse_s * 1000:.1f} ms), down {down_s:.2f} s")


if __name__ == "__main__":
    main()
