"""Benchmark (no root, no lab): the API server's share of a big Deployment.

The lab API server on ``LocalRuntime`` (addresses only, no namespaces), with the lab daemon's
in-process listeners that read pods (the policy enforcer's compile and render, kube-proxy's
render, without loading anything into a kernel), and the real kubectl:
``kubectl create deployment --replicas=N``, then the time until every pod is Running with an IP,
the controller passes and the syncs it took, GET and LIST latency and the process's RSS. What
grows here with the number of pods per change is the control plane's fault, not the kernel's.
With ``--profile F`` a py-spy profile (raw collapsed stacks for ``.txt``) of this process.
Prints figures; asserts nothing.

    .venv/bin/python bench/pods_api.py --sizes 100,300,1000 [--no-listeners] [--profile p.txt]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.apiserver import ApiServer, LocalRuntime
from labkit.apiserver.resources import BY_KEY
from labkit.apiserver.runtime import NodeInfo

PODS = BY_KEY["core/pods"]
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def nodes() -> list[NodeInfo]:
    """kind's three nodes, with a /22 of pod addresses each (1,000 pods fit on two workers)."""
    taint = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    names = ["lab-control-plane", "lab-worker", "lab-worker2"]
    return [NodeInfo(name=n, internal_ip=f"172.18.0.{i + 2}", pod_cidr=f"10.244.{4 * i}.0/22",
                     roles=("control-plane",) if i == 0 else (), taints=(taint,) if i == 0 else ())
            for i, n in enumerate(names)]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def listeners(server: ApiServer) -> list:
    """The daemon's pure work per change: the policy enforcer's compile + render (every node),
    kube-proxy's render; debounced as the daemon debounces them (``embedded.controller``)."""
    from labkit.embedded.controller import DebouncedSync
    from labkit.embedded.policy import WATCHED_KINDS, node_rules, render, store_objects
    from labkit.embedded.topology import LabSpec

    spec = LabSpec(name="bench", max_pods=2000, node_pod_prefix=22)
    read = store_objects(server.api.store)

    class Policy(DebouncedSync):
        async def sync(self) -> None:
            rules = node_rules(spec, read())
            for node in spec.node_plans():
                render(rules[node.name])
            self.sync_count += 1

    policy = Policy()
    watched = {BY_KEY[k].key for k in WATCHED_KINDS}
    server.api.store.listeners.append(lambda change: change.key in watched and policy.changed())
    server._loop.call_soon_threadsafe(policy.start)
    return [policy]


def one_size(n: int, with_listeners: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="podsapi-"))
    server = ApiServer(root / "state", LocalRuntime(nodes()), name="bench", max_pods=max(n, 250))
    server.start_in_thread()
    syncs = listeners(server) if with_listeners else []
    server.write_kubeconfig(root / "kubeconfig")
    env = dict(os.environ, HOME=str(root), KUBECONFIG=str(root / "kubeconfig"))
    store = server.api.store
    passes = [0]
    manager = server.controllers
    original = manager.run_once

    durations: list[float] = []

    def counted(full: bool = True) -> None:
        passes[0] += 1
        began = time.perf_counter()
        original(full=full)
        durations.append(time.perf_counter() - began)
    manager.run_once = counted
    try:
        t0 = time.perf_counter()
        subprocess.run([KUBECTL, "create", "deployment", "many", "--image=jpetazzo/color",
                        f"--replicas={n}"], env=env, check=True, capture_output=True)
        answered = time.perf_counter() - t0
        created = scheduled = None
        while time.perf_counter() - t0 < 600:
            pods = [p for p in store.list(PODS, "default")]
            now = time.perf_counter() - t0
            if created is None and len(pods) >= n:
                created = now
            if scheduled is None and len(pods) >= n and all(p["spec"].get("nodeName") for p in pods):
                scheduled = now
            if len(pods) >= n and all(p["status"].get("podIP") for p in pods):
                break
            time.sleep(0.05)
        running = time.perf_counter() - t0
        print(f"--- {n} pods (API server + controllers{' + listeners' if syncs else ''}, no kernel) ---")
        for label, value in (("kubectl returned", answered), ("all created", created), ("all scheduled", scheduled),
                             ("all Running", running)):
            value = value if value is not None else float("nan")
            print(f"  {label:14} {value:6.2f} s  ({value * 1000 / n:5.2f} ms per pod)")
        print(f"  controller passes {passes[0]} (longest {max(durations, default=0):.2f} s, "
              f"{sum(durations):.2f} s in all), policy syncs "
              f"{', '.join(str(s.sync_count) for s in syncs) or '-'}, resourceVersion {store.rv}")
        flushed = time.perf_counter()
        store.flush()
        print(f"  every write on disk {time.perf_counter() - flushed:5.2f} s later (the store's writer thread)")
        from kubernetes import client, config
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(root / "kubeconfig")))
        name = store.list(PODS, "default")[0]["metadata"]["name"]
        for label, call in (("GET one pod", lambda: api.read_namespaced_pod(
                name, "default", _preload_content=False).read()),
                            (f"LIST {n} pods", lambda: api.list_namespaced_pod(
                                "default", _preload_content=False).read())):
            samples = []
            for _ in range(100):
                t = time.perf_counter()
                call()
                samples.append((time.perf_counter() - t) * 1000)
            samples.sort()
            print(f"  {label:16} median {statistics.median(samples):6.1f} ms   "
                  f"p99 {samples[98]:6.1f} ms")
        print(f"  RSS {rss_mib():7.1f} MiB", flush=True)
    finally:
        server.stop_in_thread()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,300")
    parser.add_argument("--no-listeners", action="store_true")
    parser.add_argument("--profile", help="py-spy output of this process (.txt: raw stacks)")
    args = parser.parse_args()
    spy = None
    pyspy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    if args.profile and pyspy:
        spy = subprocess.Popen([pyspy, "record", "-o", args.profile, "-p", str(os.getpid()), "-r", "100",
                                "--nonblocking"] + (["-f", "raw"] if args.profile.endswith(".txt") else []),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            one_size(n, not args.no_listeners)
    finally:
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)


if __name__ == "__main__":
    main()
