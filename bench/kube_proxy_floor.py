"""Benchmark (root): where a one-service change of kube-proxy's rules spends its time, and its floor.

For each size, N services (2 endpoints each) are loaded into a namespace of its own
(``kpfloor<pid>``, deleted after), then each transaction below is timed several times (min and
median printed; the machine is shared, the min is the figure to compare):

nftables (the table holds base chains that reach every service through the verdict maps):
- ``element only``: one element added to ``cluster-ips`` (a plain set) over netlink: no
  validation, the cost of a commit;
- ``rule with a verdict``: one ``accept`` rule in a chain of its own over netlink: the kernel
  then validates the whole table from its base chains (``nft_table_validate``), the floor of any
  change that adds a rule, a jump or a verdict-map element;
- ``one-service change``: the lab's partial sync (flush the service's chain, write its rules, flush
  the endpoint chain it lost), over netlink (the lab) and through ``nft -f`` (upstream's way:
  nft first dumps every chain of the table into its cache).
iptables (with kube-proxy's jumps from ``PREROUTING``/``OUTPUT`` to ``KUBE-SERVICES``), through
``iptables-nft-restore`` (the lab, kind) and ``iptables-legacy-restore`` (the whole table is read
and written back as one blob): the full load, the one-service change, and an empty ``*nat COMMIT``.

    sudo .venv/bin/python bench/kube_proxy_floor.py [--sizes 1000,10000] [--modes nftables,iptables]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.bench.kube_proxy_model import node_context, one_service_changed, synthetic_input
from labkit.embedded.nft_socket import NftSocket
from labkit.kubeproxy.iptables import render_iptables
from labkit.kubeproxy.iptables_sync import iptables_initial_batches, iptables_update
from labkit.kubeproxy.nft_netlink import Message, encode_transaction
from labkit.kubeproxy.nft_sync import nft_initial_batches, nft_update
from labkit.kubeproxy.nftables import render_nftables

NS = f"kpfloor{os.getpid() % 100000}"
REPEAT = 7
JUMPS = "*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n"


def run(argv: list[str], text: str = "") -> float:
    t0 = time.perf_counter()
    subprocess.run(["ip", "netns", "exec", NS, *argv], input=text.encode(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def fresh() -> None:
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", NS], check=True)


def stats(times: list[float]) -> str:
    return f"min {min(times) * 1000:8.1f} ms  median {statistics.median(times) * 1000:8.1f} ms"


def row(what: str, n: int, text: str) -> None:
    print(f"{what:44} {n:7,}  {text}", flush=True)


def nftables(n: int) -> None:
    ctx = node_context("10.255.250.1")
    inp = synthetic_input(n)
    rs, rs2 = render_nftables(inp, ctx), render_nftables(one_service_changed(inp), ctx)
    types = {name: s.type for name, s in rs.sets.items()}
    there, back = nft_update(rs, rs2).transaction, nft_update(rs2, rs).transaction
    fresh()
    row("nftables: full load (nft -f)", n, f"{run(['nft', '-f', '-'], nft_initial_batches(rs)[0]):8.2f} s")
    sock = NftSocket(NS)

    def commit(messages: list[Message]) -> float:
        t0 = time.perf_counter()
        sock.commit(messages)
        return time.perf_counter() - t0

    try:
        add = encode_transaction("add element ip kube-proxy cluster-ips { 10.255.255.254 }", types)
        delete = encode_transaction("delete element ip kube-proxy cluster-ips { 10.255.255.254 }", types)
        rule = encode_transaction("add chain ip kube-proxy floor\nflush chain ip kube-proxy floor\n"
                                  "add rule ip kube-proxy floor accept", types)
        row("nftables: element only (netlink)", n, stats([commit(add) + 0 * commit(delete) for _ in range(REPEAT)]))
        row("nftables: rule with a verdict (netlink)", n, stats([commit(rule) for _ in range(REPEAT)]))
        msgs = encode_transaction(there, types), encode_transaction(back, types)
        row("nftables: one-service change (netlink)", n,
            stats([commit(msgs[0]) + 0 * commit(msgs[1]) for _ in range(REPEAT)]))
    finally:
        sock.close()
    row("nftables: one-service change (nft -f)", n,
        stats([run(["nft", "-f", "-"], there) + 0 * run(["nft", "-f", "-"], back) for _ in range(3)]))


def iptables(n: int) -> None:
    ctx = node_context("10.255.250.1")
    inp = synthetic_input(n)
    text, text2 = render_iptables(inp, ctx), render_iptables(one_service_changed(inp), ctx)
    there, back = iptables_update(text, text2).restore, iptables_update(text2, text).restore
    for backend in ("nft", "legacy"):
        restore = [f"iptables-{backend}-restore", "--noflush", "-w"]
        fresh()
        run(restore, JUMPS)
        batches = iptables_initial_batches(text) if backend == "nft" else [text]
        row(f"iptables-{backend}: full load", n, f"{sum(run(restore, b) for b in batches):8.2f} s")
        row(f"iptables-{backend}: one-service change", n,
            stats([run(restore, there) + 0 * run(restore, back) for _ in range(3)]))
        row(f"iptables-{backend}: empty *nat COMMIT", n, stats([run(restore, "*nat\nCOMMIT\n") for _ in range(3)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--modes", default="nftables,iptables")
    args = parser.parse_args()
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            for mode in args.modes.split(","):
                {"nftables": nftables, "iptables": iptables}[mode](n)
    finally:
        subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
