"""Benchmark: kube-proxy (nftables) against the ebpf socket load balancer, in two embedded labs (root).

1. ``labkit.compare.measure`` on each: TCP connect time from a pod to a pod on the same node, on
   another node, and to a Service's ClusterIP (median of 15), and what a node holds for 11 Services.
2. Update latency: an endpoint leaves the Service (its pod relabelled) -> every node's rules or maps
   no longer hold it (polled every 5 ms; includes the EndpointSlice controller and the debounce).
Prints figures; asserts nothing. Usage: sudo python3 bench/ebpf_proxy.py
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import compare
from labkit.embedded import lifecycle, sock_lb
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

LABS = {"nftables": "bpxnft", "ebpf": "bpxebpf"}
ROUNDS = 3


def kubectl(lab: str, *args: str) -> str:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(lab)), HOME=f"/tmp/{lab}-home")
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, check=True).stdout


def holds(lab: str, mode: str, ip: str) -> bool:
    """Whether any node still sends new connections to ``ip``."""
    spec = EmbeddedLab(lab).spec
    for node in spec.node_plans():
        if mode == "ebpf":
            if any(b.address == ip for bs in sock_lb.node_table(lab, node.name).values() for b in bs):
                return True
        elif f"dnat to {ip}:" in EmbeddedLab(lab).node_exec(node.name, ["nft", "list", "table", "ip", "kube-proxy"]).stdout:
            return True                  # a flushed (stale) endpoint chain has no dnat rule left
    return False


def update_latency(lab: str, mode: str) -> list[float]:
    kubectl(lab, "create", "deployment", "lat", f"--image={compare.SERVER_IMAGE}", "--replicas=3")
    kubectl(lab, "expose", "deployment", "lat", "--port=80")
    out = []
    for i in range(ROUNDS):
        while True:
            pods = [p for p in json.loads(kubectl(lab, "get", "pods", "-l", "app=lat", "-o", "json"))["items"]
                    if p["status"].get("podIP") and p["status"].get("phase") == "Running"]
            if len(pods) >= 3 and all(holds(lab, mode, p["status"]["podIP"]) for p in pods):
                break
            time.sleep(0.1)
        victim = pods[0]
        ip = victim["status"]["podIP"]
        start = time.perf_counter()
        kubectl(lab, "label", "pod", victim["metadata"]["name"], f"app=gone{i}", "--overwrite")
        while holds(lab, mode, ip):
            time.sleep(0.005)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    results, latency = [], {}
    for mode, lab in LABS.items():
        lifecycle.down(lab)
        os.makedirs(f"/tmp/{lab}-home", exist_ok=True)
        lifecycle.up(LabSpec(name=lab, proxy_mode=mode))
        try:
            results.append(compare.measure(lab))
            print(mode, results[-1], flush=True)
            latency[mode] = update_latency(lab, mode)
            print(mode, "update latency (s)", latency[mode], flush=True)
        finally:
            lifecycle.down(lab)
    print(f"{'':44}" + "".join(f"{r.stack:>24}" for r in results))
    for key in ("same_node_ms", "other_node_ms", "service_ms", "service_rules", "map_entries", "routes"):
        print(f"{key:44}" + "".join(f"{getattr(r, key):>24}" for r in results))
    for mode, values in latency.items():
        print(f"endpoint removed -> gone from every node ({mode}): median {statistics.median(values) * 1000:.1f} ms, "
              f"max {max(values) * 1000:.1f} ms over {len(values)} (includes kubectl label ~ its own run time)")


if __name__ == "__main__":
    main()
