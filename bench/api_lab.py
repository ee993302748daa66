"""Benchmark of the embedded lab's API with real pods (root).

- kubectl apply of 50 pods -> all Running and answering HTTP;
- with 500 pods: GET one pod and LIST all pods (median, p99) through the official client;
- RSS of the lab daemon with 500 pods.
Prints figures; asserts nothing. Usage: sudo python3 bench/api_lab.py
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file, pid_file
from labkit.embedded.topology import LabSpec

NAME = "bapi"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(NAME)), HOME=tempfile.mkdtemp())

    def k(*args, input=None):
        return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env,
                              input=input, check=True).stdout

    pods = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
         "spec": {"containers": [{"name": "web", "image": "nginx"}]}} for i in range(50)]}
    t0 = time.perf_counter()
    k("apply", "-f", "-", input=json.dumps(pods))
    while True:
        items = json.loads(k("get", "pods", "-l", "app=web", "-o", "json"))["items"]
        ips = [p["status"].get("podIP") for p in items if p["status"].get("phase") == "Running"]
        if len(ips) == 50 and all(ips):
            break
        time.sleep(0.05)
    t_running = time.perf_counter() - t0
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        ok = list(pool.map(lambda ip: subprocess.run(["curl", "-s", "-o", "/dev/null", "-m", "2",
                                                      f"http://{ip}/"]).returncode == 0, ips))
    t_answering = time.perf_counter() - t0
    print(f"kubectl apply 50 pods -> all Running:     {t_running * 1000:7.0f} ms")
    print(f"                      -> all answering:   {t_answering * 1000:7.0f} ms ({sum(ok)}/50)")

    k("create", "deployment", "many", "--image=nginx", "--replicas=450")
    t0 = time.perf_counter()
    while True:
        items = json.loads(k("get", "pods", "-o", "json"))["items"]
        if sum(1 for p in items if p["status"].get("phase") == "Running") >= 500:
            break
        time.sleep(0.5)
    print(f"450 more pods (deployment) Running:       {(time.perf_counter() - t0) * 1000:7.0f} ms")

    from kubernetes import client, config
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig_file(NAME))))
    for label, call in (("GET one pod", lambda: api.read_namespaced_pod("web-7", "default",
                                                                       _preload_content=False).read()),
                        ("LIST 500 pods", lambda: api.list_pod_for_all_namespaces(_preload_content=False).read())):
        samples = []
        for _ in range(100):
            t = time.perf_counter()
            call()
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        print(f"{label:14} median {statistics.median(samples):6.1f} ms   p99 {samples[98]:6.1f} ms")
    print(f"lab daemon RSS with {len(items)} pods:        {rss_mib(int(pid_file(NAME).read_text())):7.1f} MiB")
    lifecycle.down(NAME)


if __name__ == "__main__":
    main()
