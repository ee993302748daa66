"""Benchmark (root): time from an object change to the redrawn live diagram, and snapshot time.

Prints figures; asserts nothing. Usage: sudo python3 bench/live_redraw.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import labkit  # noqa: E402
from labkit.embedded import lifecycle  # noqa: E402
from labkit.embedded.topology import LabSpec  # noqa: E402
from labkit.live import show  # noqa: E402

NAME = "blive"


def main() -> None:
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    cluster = labkit.connect(lab=NAME)
    from kubernetes import client
    core = client.CoreV1Api(cluster.api)
    snaps = []
    for _ in range(5):
        t = time.perf_counter()
        cluster.snapshot()
        snaps.append((time.perf_counter() - t) * 1000)
    print(f"snapshot (3 nodes, system pods):      median {statistics.median(snaps):6.0f} ms")
    view = show("pods", cluster)
    view.wait_for(lambda s: "<svg" in s, 20)
    delays = []
    for i in range(5):
        name = f"p{i}"
        t = time.perf_counter()
        core.create_namespaced_pod("default", {"metadata": {"name": name},
                                               "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        view.wait_for(lambda s: name in s, 20)
        delays.append((time.perf_counter() - t) * 1000)
    view.stop()
    print(f"pod created -> live diagram shows it:  median {statistics.median(delays):6.0f} ms "
          f"(max {max(delays):.0f} ms; includes pod start and the 150 ms debounce)")
    lifecycle.down(NAME)


if __name__ == "__main__":
    main()
