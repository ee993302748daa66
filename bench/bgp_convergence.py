"""Benchmark of the calico flavor's BGP (root): mesh convergence at start, withdrawal after a kill.

- convergence at start: for each node, from BIRD's start (its ``static1`` protocol's "since") to
  its last BGP session Established, as BIRD itself reports them; and from ``labkit up``'s start
  until every node has every other node's block ``proto bird`` in its kernel;
- withdrawal: kill worker2's BIRD (SIGKILL, through the daemon), time until worker's kernel drops
  worker2's block (BGP graceful-restart time: 6 s in the lab), then restart it and time until
  the block is back. Repeated ``--runs`` times.

Prints figures; asserts nothing. Usage: sudo python3 bench/bgp_convergence.py [--nodes 3] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import nodes
from labkit.embedded import lifecycle
from labkit.embedded.calico_node import CalicoNode
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.topology import LabSpec
from labkit.inspect.iproute import parse_routes


def bird_blocks(name: str, node: str) -> set[str]:
    routes = parse_routes(nodes.embedded_node(name, node).run(["ip", "-j", "route", "show"]))
    return {r.dst for r in routes if r.protocol == "bird" and r.type != "blackhole"}


def since(text: str, proto: str) -> float:
    """Seconds of the day of a protocol's "since" in ``birdc show protocols`` (hh:mm:ss.sss)."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == proto:
            t = datetime.strptime(parts[4], "%H:%M:%S.%f")
            return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
    raise LookupError(proto)


def wait(test, timeout: float = 60.0) -> float:
    t0 = time.perf_counter()
    while not test():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError
        time.sleep(0.05)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="bbgp")
    args = parser.parse_args()
    lifecycle.down(args.name)
    t0 = time.perf_counter()
    spec, _ = lifecycle.up(LabSpec(name=args.name, nodes=args.nodes, cni="calico"))
    t_up = time.perf_counter() - t0
    try:
        plans = spec.node_plans()
        blocks = {p.name: CalicoNode(spec, p).blocks()[0] for p in plans}

        def converged() -> bool:
            return all(bird_blocks(args.name, p.name) >= {b for n, b in blocks.items() if n != p.name}
                       for p in plans)
        wait(converged)
        t_routes = time.perf_counter() - t0
        per_node = []
        for p in plans:
            text = nodes.embedded_node(args.name, p.name).run(["birdc", "show", "protocols"])
            peers = [o for o in plans if o.name != p.name]
            last = max(since(text, "Mesh_" + o.ip.replace(".", "_")) for o in peers)
            per_node.append(last - since(text, "static1"))
        print(f"{args.nodes} nodes: labkit up {t_up:.2f} s; every block learned everywhere "
              f"{t_routes:.2f} s after up started")
        print(f"BIRD start -> last session Established (BIRD's own times): "
              f"max {max(per_node):.2f} s, median {statistics.median(per_node):.2f} s")
        lab, victim, watcher = EmbeddedLab(args.name), plans[-1], plans[1]
        down, back = [], []
        for _ in range(args.runs):
            lab._call("bird", node=victim.name, action="stop")
            down.append(wait(lambda: blocks[victim.name] not in bird_blocks(args.name, watcher.name)))
            lab._call("bird", node=victim.name, action="start")
            back.append(wait(lambda: blocks[victim.name] in bird_blocks(args.name, watcher.name)))
        print(f"kill {victim.name}'s BIRD -> {watcher.name} drops its block: "
              + ", ".join(f"{d:.2f}" for d in down) + " s (graceful restart time 6 s)")
        print(f"restart it -> the block is back on {watcher.name}: " + ", ".join(f"{b:.2f}" for b in back) + " s")
    finally:
        lifecycle.down(args.name)


if __name__ == "__main__":
    main()
