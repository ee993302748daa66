"""Benchmark of the embedded lab's data plane (root): up, 100 pods answering, memory per pod, down.

Prints figures; asserts nothing. Usage: sudo python3 bench/lab_lifecycle.py [--cni kindnet] [--pods 100]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import pid_file
from labkit.embedded.topology import LabSpec


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def answering(ip: str) -> bool:
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-m", "2", f"http://{ip}/"]).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cni", default="kindnet")
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--name", default="bench")
    args = parser.parse_args()
    lifecycle.down(args.name)

    t0 = time.perf_counter()
    lifecycle.up(LabSpec(name=args.name, cni=args.cni))
    t_up = time.perf_counter() - t0
    lab = EmbeddedLab(args.name)
    daemon = int(pid_file(args.name).read_text())
    subprocess.run(["sync"])
    mem0, rss0 = mem_available_kib(), rss_kib(daemon)

    t0 = time.perf_counter()
    pods = lab.add_pods([{"name": f"web-{i}", "ports": [80]} for i in range(args.pods)])
    t_created = time.perf_counter() - t0
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        ok = list(pool.map(answering, [p["ip"] for p in pods]))
    t_answering = time.perf_counter() - t0
    time.sleep(1)
    mem1, rss1 = mem_available_kib(), rss_kib(daemon)

    t0 = time.perf_counter()
    lifecycle.down(args.name)
    t_down = time.perf_counter() - t0

    print(f"cni={args.cni} nodes=3 pods={args.pods} cores={os.cpu_count()}")
    print(f"labkit up (3 nodes):            {t_up * 1000:8.0f} ms")
    print(f"{args.pods} pods created:               {t_created * 1000:8.0f} ms")
    print(f"{args.pods} pods answering HTTP:        {t_answering * 1000:8.0f} ms  ({sum(ok)}/{len(ok)} answered)")
    print(f"memory per idle pod (host):     {(mem0 - mem1) / args.pods:8.0f} KiB  (MemAvailable delta)")
    print(f"daemon RSS per pod:             {(rss1 - rss0) / args.pods:8.1f} KiB")
    print(f"labkit down:                    {t_down * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
