#!/usr/bin/env python3
"""Render time per layer for the 60-pod scene (3 nodes / 60 pods / 10 services / 8 policies) and 100 pods.

The synthetic cluster is built from the kindnet reference snapshot (``labkit.diagrams.synthetic``),
saved as JSON, then for each layer we time: loading the snapshot from JSON + laying out and
writing the SVG (labkit draws it: no layout engine runs). Goal for the 60-pod overview: snapshot
+ render under 200 ms (the snapshot of a live cluster is timed by bench/live_redraw.py). Prints
figures; asserts nothing.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit import diagrams  # noqa: E402
from labkit.diagrams.synthetic import synthetic  # noqa: E402
from labkit.snapshot import ClusterSnapshot  # noqa: E402
from labkit.trace import draw_trace, trace  # noqa: E402

RUNS = 5


def _time(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def main() -> int:
    base = ClusterSnapshot.load(ROOT / "tests" / "fixtures" / "snapshots" / "reference-kindnet.json")
    for pods, services, policies in ((55, 8, 6), (95, 18, 8)):     # + the reference's 5 pods, 2 services, 2 policies
        _scene(base, pods, services, policies)
    return 0


def _scene(base: ClusterSnapshot, pods: int, services: int, policies: int) -> None:
    build_ms, snap = _time(lambda: synthetic(base, pods=pods, services=services, policies=policies))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        snap.save(path)
        print(f"synthetic snapshot: {len(snap.nodes)} nodes, {len(snap.pods)} pods, {len(snap.services)} services, "
              f"{len(snap.networkpolicies)} policies (built with kube-proxy rules in {build_ms:.0f} ms, "
              f"{path.stat().st_size // 1024} KB JSON)")
        print(f"{'layer':<10} {'load':>7} {'draw':>7} {'total':>7} {'svg KB':>7}   (median of {RUNS}, ms)")
        cases = dict(diagrams.LAYERS)
        cases["trace"] = lambda s: draw_trace(trace(s, "demo/client", "demo/blue:80"))
        for name, layer in cases.items():
            rows = []
            for _ in range(RUNS):
                load_ms, loaded = _time(lambda: ClusterSnapshot.load(path))
                draw_ms, svg = _time(lambda: diagrams.to_svg(layer(loaded)))
                rows.append((load_ms, draw_ms, load_ms + draw_ms, len(svg) / 1024))
            med = [statistics.median(col) for col in zip(*rows)]
            print(f"{name:<10} {med[0]:7.1f} {med[1]:7.1f} {med[2]:7.1f} {med[3]:7.0f}")


if __name__ == "__main__":
    sys.exit(main())
