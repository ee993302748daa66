"""Benchmark (root): snapshot + overview of a 60-pod embedded lab, in one run: the reads as they were
(two processes per pod, API lists and node commands one after the other), one ``ip -batch`` per pod,
then also the lists and node commands at once, then the pods read over netlink in-process
(:mod:`labkit.rtnl_read`, no process per pod); and the same through the lab daemon's API, as an
ordinary user's kernel reads it: two requests per pod as it was, then one ``GET /labkit/v1/podnetworks``
for all pods.

Prints figures; asserts nothing (but says if the two ways of reading differ).
Usage: sudo .venv/bin/python bench/snapshot_speed.py
"""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import labkit
from labkit import cluster as cluster_mod
from labkit import diagrams
from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

NAME = "bsnap"
PODS = 60
RUNS = 7


def _cpu_ms() -> float:
    """CPU time of this process and its finished children (the ip/nsenter processes), in ms."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) * 1000


def measure(cluster) -> tuple[float, float, object]:
    """Median wall time of snapshot + overview, and of the snapshot alone; also records the median CPU
    time (this process and its children, e.g. the ip processes; the daemon's is not counted), which
    says what the reads cost whatever else loads the machine."""
    times = []
    for _ in range(RUNS):
        cpu = _cpu_ms()
        t = time.perf_counter()
        snap = cluster.snapshot()
        mid = time.perf_counter()
        diagrams.overview(snap).svg
        times.append(((time.perf_counter() - t) * 1000, (mid - t) * 1000, _cpu_ms() - cpu))
    CPU.append(statistics.median(x[2] for x in times))
    return statistics.median(x[0] for x in times), statistics.median(x[1] for x in times), snap


CPU: list[float] = []


def main() -> None:
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    try:
        env = dict(os.environ, HOME=tempfile.mkdtemp(), KUBECONFIG=str(kubeconfig_file(NAME)))
        subprocess.run([shutil.which("kubectl"), "create", "deployment", "web", "--image=jpetazzo/color",
                        f"--replicas={PODS}"], env=env, check=True, capture_output=True)
        cluster = labkit.connect(lab=NAME)
        deadline = time.monotonic() + 300
        while sum(1 for p in cluster.snapshot(with_pod_networks=False).pods
                  if (p.get("status") or {}).get("podIP")) < PODS and time.monotonic() < deadline:
            time.sleep(0.5)
        cluster_mod.BATCHED_POD_READS = cluster_mod.PARALLEL_READS = False
        before, before_snap, snap_a = measure(cluster)
        cluster_mod.BATCHED_POD_READS = True
        middle, middle_snap, _ = measure(cluster)
        cluster_mod.PARALLEL_READS = True
        cluster_mod.NETLINK_POD_READS = False
        batched, batched_snap, snap_ip = measure(cluster)
        cluster_mod.NETLINK_POD_READS = True
        after, after_snap, snap_b = measure(cluster)
        same = {k: v.to_json() for k, v in snap_a.pod_networks.items()} == \
               {k: v.to_json() for k, v in snap_b.pod_networks.items()}
        print(f"{len(snap_b.pods)} pods, {len(snap_b.pod_networks)} pod views; median of {RUNS} runs")
        print(f"root, before (2 processes per pod): snapshot + overview {before:5.0f} ms (snapshot {before_snap:.0f} ms; CPU {CPU[0]:.0f} ms)")
        print(f"root, 1 process per pod (ip -batch): snapshot + overview {middle:5.0f} ms (snapshot {middle_snap:.0f} ms; CPU {CPU[1]:.0f} ms)")
        print(f"root, + lists and node reads at once: snapshot + overview {batched:5.0f} ms (snapshot {batched_snap:.0f} ms; CPU {CPU[2]:.0f} ms)")
        print(f"root, + pods over netlink in-process: snapshot + overview {after:5.0f} ms (snapshot {after_snap:.0f} ms; CPU {CPU[3]:.0f} ms)")
        same = same and {k: v.to_json() for k, v in snap_ip.pod_networks.items()} == \
            {k: v.to_json() for k, v in snap_b.pod_networks.items()}
        print(f"same pod views all ways: {same}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        api = cluster_mod._through_api(NAME, cluster.api)
        cluster_mod.BATCHED_POD_READS = False
        per_pod, per_pod_snap, _ = measure(api)
        print(f"through the lab API, 2 requests per pod : snapshot + overview {per_pod:5.0f} ms "
              f"(snapshot {per_pod_snap:.0f} ms; client CPU {CPU[4]:.0f} ms)")
        cluster_mod.BATCHED_POD_READS = True
        through, through_snap, snap_c = measure(api)
        print(f"through the lab API, one podnetworks request: snapshot + overview {through:5.0f} ms "
              f"(snapshot {through_snap:.0f} ms; client CPU {CPU[5]:.0f} ms)")
        print("same pod views root and API:", {k: v.to_json() for k, v in snap_c.pod_networks.items()} ==
              {k: v.to_json() for k, v in snap_b.pod_networks.items()})
    finally:
        lifecycle.down(NAME)


if __name__ == "__main__":
    main()
