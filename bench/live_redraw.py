"""Benchmark (root): the live view on a real embedded lab.

* ``kubectl run`` -> the live pod diagram shows the pod (watch events, debounce, snapshot, drawing);
* ``ip route del`` of a route to another node's pods -> the live view has dropped it (netlink);
* snapshot + render of the overview with 60 pods (goal < 200 ms).

``--api`` reads the lab through its daemon's API, as an ordinary user's kernel does (node state
over ``/api/v1/nodes/…/proxy``, pods' views in one ``/labkit/v1/podnetworks``, node events as a
watch); ``--no-bulk`` stops after the first two figures (the 60 pods take a while to start).

Prints figures; asserts nothing. Usage: sudo .venv/bin/python bench/live_redraw.py [--api] [--no-bulk]
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import labkit
from labkit import diagrams
from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.live import show

NAME = "blive"
RUNS = 7


def _until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def main() -> None:
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    try:
        cluster = labkit.connect(lab=NAME)
        if "--api" in sys.argv:
            from labkit.cluster import _through_api

            cluster = _through_api(NAME, cluster.api)
        print("through the lab's API (non-root kernel)" if cluster.via_api else "root (nsenter)")
        home = tempfile.mkdtemp()
        env = dict(os.environ, HOME=home, KUBECONFIG=str(kubeconfig_file(NAME)))
        kubectl = shutil.which("kubectl")
        view = show("pods", cluster, lang="en")
        view.wait_for(lambda s: "<svg" in s, 20)
        delays = []
        for i in range(RUNS):
            name = f"p{i}"
            t = time.perf_counter()
            subprocess.run([kubectl, "run", name, "--image=jpetazzo/color"], env=env, check=True, capture_output=True)
            returned = time.perf_counter()
            view.wait_for(lambda s: f'id="p/default/{name}"' in s, 30)
            delays.append(((time.perf_counter() - t) * 1000, (time.perf_counter() - returned) * 1000))
        print(f"kubectl run -> live view shows the pod: p50 {statistics.median(d[0] for d in delays):5.0f} ms "
              f"(max {max(d[0] for d in delays):.0f} ms; after kubectl returned: "
              f"p50 {statistics.median(d[1] for d in delays):.0f} ms)")
        worker = next(n for n in cluster.node_names() if n.endswith("-worker"))
        from labkit.embedded.client import EmbeddedLab

        netns = EmbeddedLab(NAME).spec.node(worker).netns
        cidr = re.search(rf'id="route/{re.escape(worker)}/([0-9./]+)"', view.svg).group(1)
        gid = f'id="route/{worker}/{cidr}"'
        line = subprocess.run(["ip", "-n", netns, "route", "show", cidr], capture_output=True, text=True).stdout.split()
        drops = []
        for _ in range(RUNS):
            t = time.perf_counter()
            subprocess.run(["ip", "-n", netns, "route", "del", cidr], check=True)
            view.wait_for(lambda s: gid not in s, 10)
            drops.append((time.perf_counter() - t) * 1000)
            subprocess.run(["ip", "-n", netns, "route", "replace", *line], check=True)
            view.wait_for(lambda s: gid in s, 10)
        print(f"ip route del in a node -> live view drops it: p50 {statistics.median(drops):5.0f} ms "
              f"(max {max(drops):.0f} ms)")
        view.stop()
        if "--no-bulk" in sys.argv:
            return
        subprocess.run([kubectl, "create", "deployment", "web", "--image=jpetazzo/color", f"--replicas={60 - RUNS}"],
                       env=env, check=True, capture_output=True)
        _until(lambda: sum(1 for p in cluster.snapshot(with_pod_networks=False).pods
                           if (p.get("status") or {}).get("podIP")) >= 60, 180)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            snap = cluster.snapshot()
            mid = time.perf_counter()
            diagrams.overview(snap).svg
            times.append(((time.perf_counter() - t) * 1000, (mid - t) * 1000))
        print(f"snapshot + overview of {len(snap.pods)} pods: median {statistics.median(x[0] for x in times):5.0f} ms "
              f"(snapshot {statistics.median(x[1] for x in times):.0f} ms)")
    finally:
        lifecycle.down(NAME)


if __name__ == "__main__":
    main()
