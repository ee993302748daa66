"""Benchmark: kube-proxy (nftables or iptables) against the ebpf socket load balancer, in embedded labs (root).

1. ``labkit.compare.measure`` on each: TCP connect time from a pod to a pod on the same node, on
   another node, and to a Service's ClusterIP (median of 15), throughput, a new Service's time to
   every node, what a node holds for 11 Services, and a node's agent killed.
2. Update latency: an endpoint leaves the Service (its pod relabelled) -> no node's rules or maps
   hold it any more (polled every 20 ms; includes the EndpointSlice controller and the debounce).

Each mode runs in its own lab, one after the other; ``--modes ebpf`` runs one (a shared machine's
lab-test lock is held a minute or two per mode). Every wait has a deadline: a wait that does not
end says what it was still seeing instead of hanging. Prints figures; asserts nothing.
Usage: sudo python3 bench/ebpf_proxy.py [--modes nftables,ebpf] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import re
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

LABS = {"nftables": "bpxnft", "iptables": "bpxipt", "ebpf": "bpxebpf"}
DEADLINE = 20.0


def kubectl(lab: str, *args: str) -> str:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(lab)), HOME=f"/tmp/{lab}-home")
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, check=True,
                          timeout=60).stdout


_LABS: dict[str, EmbeddedLab] = {}


def holding(lab: str, mode: str, ip: str) -> list[str]:
    """The nodes whose rules or maps still send new connections of Service ``lat`` to ``ip``."""
    found = []
    embedded = _LABS.setdefault(lab, EmbeddedLab(lab))
    for node in embedded.spec.node_plans():
        if mode == "ebpf":
            held = any(b.address == ip for bs in sock_lb.node_table(lab, node.name).values() for b in bs)
        elif mode == "nftables":
            # the endpoint chains of Service "lat" that still DNAT to ip (a chain flushed as stale has
            # no rule left; another Service's endpoint on the same pod does not count)
            text = embedded.node_exec(node.name, ["nft", "list", "table", "ip", "kube-proxy"]).stdout
            held = bool(re.search(rf"chain endpoint-\w+-default/lat/[^{{]*{{[^}}]*dnat to {re.escape(ip)}:", text))
        else:
            text = embedded.node_exec(node.name, ["iptables-save", "-t", "nat"]).stdout
            held = bool(re.search(rf'-A KUBE-SEP-\w+ .*"default/lat[^"]*".* --to-destination {re.escape(ip)}:', text))
        if held:
            found.append(node.name)
    return found


def wait(what: str, test, seen, step: float) -> None:
    """Poll ``test`` every ``step`` s, until ``DEADLINE``; a wait that does not end says what it saw.
    (Last session's "third pod never runs" was the lab's ReplicaSet: it kept counting the pod that
    round 0 relabels out of the Service, so no replacement came and ``app=lat`` stayed two pods;
    it now releases it and creates a replacement, as upstream's ClaimPods does.)"""
    deadline = time.monotonic() + DEADLINE
    while not test():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not done after {DEADLINE:g} s; last seen: {seen()}")
        time.sleep(step)


def update_latency(lab: str, mode: str, rounds: int) -> list[float]:
    kubectl(lab, "create", "deployment", "lat", f"--image={compare.SERVER_IMAGE}", "--replicas=3")
    kubectl(lab, "expose", "deployment", "lat", "--port=80")
    out = []
    for i in range(rounds):
        state: dict = {}

        def ready() -> bool:
            items = json.loads(kubectl(lab, "get", "pods", "-l", "app=lat", "-o", "json"))["items"]
            state["all"] = {p["metadata"]["name"]: (p["status"].get("phase"), p["status"].get("podIP"),
                                                    p["spec"].get("nodeName"), p["metadata"].get("uid"))
                            for p in items}
            pods = [p for p in items if p["status"].get("podIP") and p["status"].get("phase") == "Running"]
            state["pods"] = {p["metadata"]["name"]: (p["status"]["podIP"], holding(lab, mode, p["status"]["podIP"]))
                             for p in pods}
            return len(pods) >= 3 and all(nodes for _, nodes in state["pods"].values())

        wait("3 endpoints in every node", ready, lambda: (state, kubectl(lab, "get", "events", "-A"),
                                                          (Path("/run/labkit") / lab / "daemon.log").read_text()[-3000:]), 0.3)
        name, (ip, _) = sorted(state["pods"].items())[0]
        start = time.perf_counter()
        kubectl(lab, "label", "pod", name, f"app=gone{i}", "--overwrite")
        wait(f"{ip} out of every node", lambda: not holding(lab, mode, ip), lambda: holding(lab, mode, ip), 0.02)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="nftables,ebpf")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results, latency = [], {}
    for mode in args.modes.split(","):
        lab = LABS[mode]
        lifecycle.down(lab)
        os.makedirs(f"/tmp/{lab}-home", exist_ok=True)
        lifecycle.up(LabSpec(name=lab, proxy_mode=mode, nodes=2))
        try:
            results.append(compare.measure(lab))
            print(mode, results[-1], flush=True)
            try:
                latency[mode] = update_latency(lab, mode, args.rounds)
                print(mode, "update latency (s)", latency[mode], flush=True)
            except SystemExit as exc:          # a wait that did not end: say so, go on with the next mode
                print(mode, "update latency: not measured:", exc, flush=True)
        finally:
            lifecycle.down(lab)
    print(f"{'':44}" + "".join(f"{r.stack:>24}" for r in results))
    for key in ("same_node_ms", "other_node_ms", "service_ms", "same_node_gbps", "other_node_gbps",
                "programmed_ms", "service_rules", "map_entries", "routes"):
        print(f"{key:44}" + "".join(f"{getattr(r, key):>24}" for r in results))
    for r in results:
        print(f"agent killed ({r.stack}): {compare.agent_text(r, 'en')}")
    for mode, values in latency.items():
        print(f"endpoint removed -> gone from every node ({mode}): median {statistics.median(values) * 1000:.1f} ms, "
              f"max {max(values) * 1000:.1f} ms over {len(values)} (includes kubectl label ~ its own run time)")


if __name__ == "__main__":
    main()
