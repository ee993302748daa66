"""Benchmark (root): the embedded lab at a thousand pods.

``kubectl create deployment --replicas=1000`` in a lab of its own (``bk1000``), then:
- time until every pod is Running with an IP, and until every pod answers HTTP (curl from a
  worker node's namespace, 32 at a time);
- GET of one pod and LIST of all pods (median and p99 of 100 calls, official Python client);
- RSS of the lab daemon.
The bench lab's own shape: ``max_pods`` = the replicas asked for (a lab refuses pods beyond its cap,
250 by default) and a /22 of pod addresses per node (a /24 holds 253).
Prints figures; asserts nothing. Usage: sudo .venv/bin/python bench/lab_thousand_pods.py [--replicas N]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import lifecycle  # noqa: E402
from labkit.embedded.client import EmbeddedLab  # noqa: E402
from labkit.embedded.paths import kubeconfig_file, pid_file  # noqa: E402
from labkit.embedded.topology import LabSpec  # noqa: E402

NAME = "bk1000"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quantiles(samples: list[float]) -> str:
    samples = sorted(samples)
    return f"median {statistics.median(samples):6.1f} ms   p99 {samples[int(len(samples) * 0.99) - 1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, default=1000)
    args = parser.parse_args()
    n = args.replicas
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # killed: still take the lab down
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME, max_pods=max(n, 250), node_pod_prefix=22))
    try:
        env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(NAME)), HOME=tempfile.mkdtemp())

        def k(*a: str) -> str:
            return subprocess.run(["kubectl", *a], capture_output=True, text=True, env=env, check=True).stdout

        lab = EmbeddedLab(NAME)
        worker = lab.spec.node_plans()[1]
        t0 = time.perf_counter()
        k("create", "deployment", "many", "--image=jpetazzo/color", f"--replicas={n}")
        ips: list[str] = []
        while time.perf_counter() - t0 < 400:
            items = json.loads(k("get", "pods", "-l", "app=many", "-o", "json"))["items"]
            ips = [p["status"].get("podIP") for p in items if p["status"].get("phase") == "Running"]
            if len(ips) == n and all(ips):
                break
            time.sleep(0.5)  # a LIST of 1,000 pods is megabytes: do not make the poll the load
        t_running = time.perf_counter() - t0

        def answers(ip: str) -> bool:
            for _ in range(50):
                if subprocess.run(["nsenter", f"--net=/run/netns/{worker.netns}", "curl", "-s", "-o", "/dev/null",
                                   "-m", "2", f"http://{ip}/"]).returncode == 0:
                    return True
                time.sleep(0.1)
            return False

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            ok = sum(pool.map(answers, ips))
        t_answering = time.perf_counter() - t0
        print(f"kubectl create deployment --replicas={n} -> all Running: {t_running:6.1f} s")
        print(f"{'':>{30 + len(str(n))}} -> all answering: {t_answering:6.1f} s ({ok}/{n})")

        from kubernetes import client, config
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig_file(NAME))))
        name = json.loads(k("get", "pods", "-l", "app=many", "-o", "json"))["items"][0]["metadata"]["name"]
        for label, call in (("GET one pod", lambda: api.read_namespaced_pod(name, "default",
                                                                           _preload_content=False).read()),
                            (f"LIST {n} pods", lambda: api.list_namespaced_pod("default",
                                                                              _preload_content=False).read())):
            samples = []
            for _ in range(100):
                t = time.perf_counter()
                call()
                samples.append((time.perf_counter() - t) * 1000)
            print(f"{label:15} {quantiles(samples)}")
        print(f"lab daemon RSS with {n} pods: {rss_mib(int(pid_file(NAME).read_text())):7.1f} MiB")
    finally:
        lifecycle.down(NAME)


if __name__ == "__main__":
    main()
