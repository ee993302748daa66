"""Benchmark (no root, no lab): the Python of the lab's kube-proxy full sync, this tree against an
older revision, in one run (ratios hold on a busy machine where absolute times do not).

The workload is what the lab's kube-proxy does on its first sync of N Services (one TCP port,
2 endpoints each, every object with a resourceVersion as the API gives them) in a lab of
``--nodes`` nodes: read every Service and EndpointSlice, render each node's rules and cut them into
the first-load transactions. The kernel is left out (``nft -f`` / ``iptables-restore`` are not
run): ``bench/kube_proxy_floor.py`` and ``labkit bench kube-proxy`` measure that part. Each
figure is the minimum of ``--repeat`` runs in a fresh process, as CPU time (user + system of that
process, ``getrusage``) and wall time; the load average is printed beside them. ``same rules``:
every transaction each node was sent hashes the same in both trees.

    .venv/bin/python bench/kube_proxy_full_render.py [--against cc9a72e] [--sizes 1000,10000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKLOAD = r"""
import asyncio, hashlib, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from labkit.embedded import proxy as pm
from labkit.embedded.proxy import KubeProxy
from labkit.embedded.topology import LabSpec
mode, n, nodes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
objs = []
for i in range(n):
    name = f"svc-{i}"
    ip = f"10.96.{100 + i // 250}.{i % 250 + 1}"
    objs.append({"kind": "Service", "metadata": {"name": name, "namespace": "bench", "resourceVersion": str(2 * i + 1)},
                 "spec": {"clusterIP": ip, "type": "ClusterIP",
                          "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}})
    objs.append({"kind": "EndpointSlice", "addressType": "IPv4",
                 "metadata": {"name": f"{name}-abc", "namespace": "bench", "resourceVersion": str(2 * i + 2),
                              "labels": {"kubernetes.io/service-name": name}},
                 "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                 "endpoints": [{"addresses": [f"10.244.{1 + j}.{i % 250 + 2}"], "conditions": {"ready": True},
                                "nodeName": f"h15-worker{j + 1 if j else ''}"} for j in range(2)]})
sent = hashlib.sha256()
class Proxy(KubeProxy):
    async def _nft(self, node, text): sent.update(node.name.encode() + text.encode())
    async def _restore(self, node, text): sent.update(node.name.encode() + text.encode())
    async def _ensure_jumps(self, node, ctx): self._jumps_done.add(node.name)
async def arun(*_a, **_kw): return ""
pm.ns.arun = arun
proxy = Proxy(LabSpec(name="h15", proxy_mode=mode, nodes=nodes), lambda: objs)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
asyncio.run(proxy.sync())
wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu": r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime, "wall": wall, "sha": sent.hexdigest()}))
"""


def extract(rev: str, into: str) -> str:
    """``labkit/`` as it was at ``rev``, in a directory of its own."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "labkit"], check=True, capture_output=True).stdout
    path = Path(into) / rev
    path.mkdir()
    with tempfile.TemporaryFile() as fh:
        fh.write(data)
        fh.seek(0)
        with tarfile.open(fileobj=fh) as tar:
            tar.extractall(path, filter="data")
    return str(path)


def measure(src: str, mode: str, n: int, nodes: int, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", WORKLOAD, src, mode, str(n), str(nodes)],
                             check=True, capture_output=True, text=True, cwd=src).stdout
        runs.append(json.loads(out.splitlines()[-1]))
    return {"cpu": min(r["cpu"] for r in runs), "wall": min(r["wall"] for r in runs), "sha": runs[0]["sha"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", default="cc9a72e", help="the older revision (default: this session's start)")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--modes", default="nftables,iptables")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = extract(args.against, tmp)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.nodes} nodes; min of {args.repeat} runs each")
        print(f"{'mode':9} {'services':>8}  {args.against + ' cpu':>14} {'now cpu':>9} {'ratio':>6}  "
              f"{args.against + ' wall':>15} {'now wall':>9}  same rules")
        for n in (int(s) for s in args.sizes.split(",")):
            for mode in args.modes.split(","):
                before = measure(old, mode, n, args.nodes, args.repeat)
                after = measure(str(ROOT), mode, n, args.nodes, args.repeat)
                print(f"{mode:9} {n:>8,}  {before['cpu']:>12.2f} s {after['cpu']:>7.2f} s {before['cpu'] / after['cpu']:>5.1f}x  "
                      f"{before['wall']:>13.2f} s {after['wall']:>7.2f} s  {before['sha'] == after['sha']}",
                      flush=True)
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
