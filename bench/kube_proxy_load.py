"""Benchmark (root): loading the rendered kube-proxy rules into a fresh network namespace, then a
one-service change, before and after this session's changes, in one run (ratios hold on a busy
machine where absolute times do not).

For each size, the rules of N services (2 endpoints each) are loaded into a namespace of their
own, created and deleted here (``kpload<pid>``), then one service loses an endpoint:
- nftables, the lab's form (``numgen`` cascade) and upstream's form (one anonymous
  ``numgen ... vmap`` per service chain, ``NodeContext.endpoint_vmap``): ``nft -f`` of the whole
  ruleset as one transaction and in the lab's first-load batches, then the partial-sync
  transaction (``nft_update``);
- iptables: the first-load batches, then the partial-sync input with only the changed chains
  (the lab) and with every top-level chain written whole (upstream, ``full_fixed``).
Wall time of the loading processes is printed; nothing is asserted. The one-transaction load of
upstream's form is quadratic: skipped above --single-max services.

    sudo .venv/bin/python bench/kube_proxy_load.py [--sizes 1000,10000] [--single-max 10000]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.bench.kube_proxy_model import node_context, one_service_changed, synthetic_input
from labkit.kubeproxy.iptables import render_iptables
from labkit.kubeproxy.iptables_sync import iptables_initial_batches, iptables_update
from labkit.kubeproxy.nft_sync import nft_initial_batches, nft_update
from labkit.kubeproxy.nftables import render_nftables

NS = f"kpload{os.getpid() % 100000}"
NFT = ["nft", "-f", "-"]
RESTORE = ["iptables-restore", "--noflush", "-w"]


def load(argv: list[str], inputs: list[str], then: list[str] = ()) -> list[float]:
    """Wall time of loading ``inputs`` into a fresh namespace, then of each of ``then``."""
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        times = []
        t0 = time.perf_counter()
        for text in inputs:
            subprocess.run(["ip", "netns", "exec", NS, *argv], input=text.encode(), check=True)
        times.append(time.perf_counter() - t0)
        for text in then:
            t0 = time.perf_counter()
            subprocess.run(["ip", "netns", "exec", NS, *argv], input=text.encode(), check=True)
            times.append(time.perf_counter() - t0)
        return times
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=True)


def row(mode: str, n: int, how: str, inputs: int, seconds: float) -> None:
    print(f"{mode:22} {n:8,} {how:>26} {inputs:6} {seconds:8.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--single-max", type=int, default=10000)
    args = parser.parse_args()
    ctx = node_context("10.255.250.1")
    upstream_ctx = dataclasses.replace(ctx, endpoint_vmap=True)
    print(f"{'mode':22} {'services':>8} {'what':>26} {'inputs':>6} {'wall s':>8}")
    for n in (int(s) for s in args.sizes.split(",")):
        inp = synthetic_input(n)
        changed = one_service_changed(inp)
        for label, c in (("nftables (lab)", ctx), ("nftables (upstream vmap)", upstream_ctx)):
            rs, rs2 = render_nftables(inp, c), render_nftables(changed, c)
            batches = nft_initial_batches(rs)
            full, partial = load(NFT, batches, [nft_update(rs, rs2).transaction])
            row(label, n, "full load, batches", len(batches), full)
            row(label, n, "one-service change", 1, partial)
            if c is ctx or n <= args.single_max:
                row(label, n, "full load, 1 transaction", 1, load(NFT, [rs.transaction()])[0])
        text, text2 = render_iptables(inp, ctx), render_iptables(changed, ctx)
        batches = iptables_initial_batches(text)
        lab, back, upstream = iptables_update(text, text2), iptables_update(text2, text), \
            iptables_update(text, text2, full_fixed=True)
        full, partial, _, partial_up = load(RESTORE, batches, [lab.restore, back.restore, upstream.restore])
        row("iptables", n, "full load, batches", len(batches), full)
        row("iptables (lab)", n, "one-service change", 1, partial)
        row("iptables (upstream)", n, "one-service change", 1, partial_up)


if __name__ == "__main__":
    main()
