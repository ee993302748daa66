"""Benchmark (root): loading the rendered kube-proxy rules into a fresh network namespace.

For each size, the rules of N services (2 endpoints each) are loaded into a namespace of their
own, created and deleted here (``kpload<pid>``): as one transaction (``nft -f`` of
``NftRuleset.transaction()``, one ``iptables-restore --noflush``), then in the batches the lab's
kube-proxy uses for a first load (``nft_initial_batches``, ``iptables_initial_batches``). Wall
time and CPU time of the loading processes (user + system, which the kernel's work is charged
to) are printed; nothing is asserted. The one-transaction loads get slow fast (quadratic), so
they are skipped above --single-max services.

    sudo .venv/bin/python bench/kube_proxy_load.py [--sizes 1000,5000,10000] [--single-max 5000]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.bench.kube_proxy_model import node_context, synthetic_input  # noqa: E402
from labkit.kubeproxy.iptables import render_iptables  # noqa: E402
from labkit.kubeproxy.iptables_sync import iptables_initial_batches  # noqa: E402
from labkit.kubeproxy.nft_sync import nft_initial_batches  # noqa: E402
from labkit.kubeproxy.nftables import render_nftables  # noqa: E402

NS = f"kpload{os.getpid() % 100000}"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def load(argv: list[str], inputs: list[str]) -> tuple[float, float]:
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        t0, c0 = time.perf_counter(), _cpu()
        for text in inputs:
            subprocess.run(["ip", "netns", "exec", NS, *argv], input=text.encode(), check=True)
        return time.perf_counter() - t0, _cpu() - c0
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--single-max", type=int, default=5000)
    args = parser.parse_args()
    ctx = node_context("10.255.250.1")
    print(f"{'mode':9} {'services':>8} {'how':>14} {'inputs':>6} {'wall s':>8} {'cpu s':>8}")
    for n in (int(s) for s in args.sizes.split(",")):
        inp = synthetic_input(n)
        rs = render_nftables(inp, ctx)
        text = render_iptables(inp, ctx)
        runs = [("nftables", ["nft", "-f", "-"], "batches", nft_initial_batches(rs)),
                ("iptables", ["iptables-restore", "--noflush", "-w"], "batches", iptables_initial_batches(text))]
        if n <= args.single_max:
            runs += [("nftables", ["nft", "-f", "-"], "1 transaction", [rs.transaction()]),
                     ("iptables", ["iptables-restore", "--noflush", "-w"], "1 transaction", [text])]
        for mode, argv, how, inputs in runs:
            wall, cpu = load(argv, inputs)
            print(f"{mode:9} {n:8,} {how:>14} {len(inputs):6} {wall:8.2f} {cpu:8.2f}", flush=True)


if __name__ == "__main__":
    main()
