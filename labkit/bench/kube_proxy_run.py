"""The kube-proxy benchmark, for real: two network namespaces of its own, real rules, real packets.

``kpb<pid>c`` plays a node: the lab's own kube-proxy code (:class:`labkit.embedded.proxy.KubeProxy`)
programs N services into it, in iptables or nftables mode, as a full sync and then as a partial
sync of a one-service change. ``kpb<pid>s`` holds the two backends every service points to (a
listening socket on 10.244.1.2:8080 and 10.244.2.2:8080), behind a veth pair. New TCP
connections from the node to a ClusterIP measure the first packet's round trip: the SYN goes
through kube-proxy's rules (nat OUTPUT: ``KUBE-SERVICES``, one rule per service in iptables
mode; one verdict-map lookup in nftables mode), is DNATed to a backend, and ``connect()``
returns with the SYN-ACK. Both namespaces are deleted at the end, also on error.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..embedded import netns as ns
from ..embedded.proxy import KubeProxy
from ..errors import LabkitError
from ..kubeproxy.iptables_sync import iptables_update
from ..kubeproxy.nft_sync import nft_update
from ..kubeproxy.render_cache import CachedRenderer
from .kube_proxy_model import (
    BACKEND_PORT,
    BACKENDS,
    SERVICE_CIDR,
    SERVICE_PORT,
    Latency,
    Result,
    first_and_last,
    node_context,
    one_service_changed,
    synthetic_input,
)

NODE_IP, PEER_IP = "10.255.250.1", "10.255.250.2"  # the veth pair, inside the two namespaces only

_SERVER = """
import socket, sys, threading
def serve(ip):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, int(sys.argv[1]))); s.listen(4096)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(ip.encode())  # which backend answered (tests read it; the bench does not)
        except OSError:
            pass
        c.close()
for ip in sys.argv[2:]:
    threading.Thread(target=serve, args=(ip,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

_CLIENT = """
import json, socket, struct, sys, time
port, samples, ips = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
out = {ip: [] for ip in ips}
linger = struct.pack("ii", 1, 0)
for i in range(samples):
    for ip in ips:
        s = socket.socket(); s.settimeout(2)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        t0 = time.perf_counter_ns()
        try:
            s.connect((ip, port))
            out[ip].append((time.perf_counter_ns() - t0) / 1e6)
        except OSError:
            pass
        s.close()
print(json.dumps(out))
"""


@dataclass
class BenchNode:
    """What :class:`KubeProxy` needs of a node: a name and a network namespace."""

    name: str
    netns: str
    ip: str = NODE_IP


class _Spec:
    def __init__(self, mode: str) -> None:
        self.proxy_mode = mode


def _run(argv: list[str], **kw) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def _slab_kib() -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return 0


@contextmanager
def bench_namespaces(tag: str | None = None) -> Iterator[tuple[str, str]]:
    """The node and backend namespaces, wired and with the backends listening; removed after."""
    if os.geteuid() != 0:
        raise LabkitError("bench.needs_root")
    tag = tag or f"kpb{os.getpid() % 100000}"
    node, peer = f"{tag}c", f"{tag}s"
    server = None
    try:
        _run(["ip", "netns", "add", node])
        _run(["ip", "netns", "add", peer])
        _run(["ip", "-n", node, "link", "add", f"{tag}a", "type", "veth", "peer", "name", f"{tag}b", "netns", peer])
        ns.ip_batch(["link set lo up", f"link set {tag}a up", f"addr add {NODE_IP}/30 dev {tag}a",
                     f"route add 10.244.0.0/16 via {PEER_IP}", f"route add {SERVICE_CIDR} via {PEER_IP}"], node)
        ns.ip_batch(["link set lo up", f"link set {tag}b up", f"addr add {PEER_IP}/30 dev {tag}b",
                     *[f"addr add {ip}/32 dev {tag}b" for ip in BACKENDS]], peer)
        server = subprocess.Popen(ns.in_netns([sys.executable, "-c", _SERVER, str(BACKEND_PORT), *BACKENDS], peer),
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield node, peer
    finally:
        if server is not None:
            server.kill()
            server.wait()
        for name in (node, peer):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def measure_latency(node: str, ips: list[str], samples: int) -> dict[str, Latency]:
    out = _run(ns.in_netns([sys.executable, "-c", _CLIENT, str(SERVICE_PORT), str(samples), *ips], node))
    data = json.loads(out)
    return {ip: Latency(data.get(ip, [])) for ip in ips}


def _cpu() -> float:
    """CPU seconds of this process and of its waited-for children (``nft``, ``iptables-restore``),
    user and system: the kernel's work in their system calls (a commit, its validation) is theirs."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(coro) -> tuple[object, float, float]:
    """``coro`` run to its end: (its result, CPU seconds, wall seconds)."""
    cpu, wall = _cpu(), time.perf_counter()
    result = _in_own_loop(coro)
    return result, _cpu() - cpu, time.perf_counter() - wall


def run_one(mode: str, services: int, samples: int, tag: str | None = None,
            progress: Callable[[str], None] = lambda _msg: None, runs: int = 1) -> Result:
    """Full sync, latency to the first and the last service, partial sync: one mode, one size.

    The full sync is done ``runs`` times, each into fresh namespaces, and the one-service change
    ``runs`` times back and forth; each figure is the best run (wall and CPU apart), so that a
    neighbour's burst does not become a point of the curve."""
    inp, ctx = synthetic_input(services), node_context(NODE_IP)
    changed = one_service_changed(inp)
    renderer = CachedRenderer()  # as the lab's kube-proxy renders: a change renders one service again
    render = renderer.nftables if mode == "nftables" else renderer.iptables
    rules, rules_after = render(inp, ctx), render(changed, ctx)
    size = len(rules.transaction() if mode == "nftables" else rules)  # listing 30,000 chains back takes minutes
    first, last = first_and_last(inp)
    load = os.getloadavg()[0]
    full_wall, full_cpu, partial_wall, partial_cpu = [], [], [], []
    for i in range(max(1, runs)):
        with bench_namespaces(tag) as (node_ns, _peer):
            proxy = KubeProxy(_Spec(mode), lambda: [])  # type: ignore[arg-type]
            node = BenchNode("bench-node", node_ns)
            slab_before = _slab_kib()
            progress(f"{mode} {services}: full sync" + (f" ({i + 1}/{runs})" if runs > 1 else ""))
            full, cpu, _wall = _timed(_sync(proxy, mode, node, ctx, rules))
            full_wall.append(full.program_seconds)  # type: ignore[attr-defined]
            full_cpu.append(cpu)
            if i:
                continue  # the latency, the memory and the change: measured in the first namespaces
            grown = _slab_kib() - slab_before  # the whole machine's slab: other work blurs it
            memory_mib = grown / 1024 if grown > 0 else float("nan")
            transactions = full.transactions  # type: ignore[attr-defined]
            progress(f"{mode} {services}: first-packet latency")
            lat = measure_latency(node_ns, [first.cluster_ip, last.cluster_ip], samples)
            if not lat[last.cluster_ip].samples_ms:
                raise LabkitError("bench.no_connection", ip=last.cluster_ip)
            progress(f"{mode} {services}: one-service change")
            previous = rules
            for target in [rules_after, rules] * max(1, runs):
                # computed first, as the lab's change trackers hand it over (``nft_incremental``):
                # the bench's whole-ruleset comparison is not part of what a change costs the lab
                update = nft_update(previous, target) if mode == "nftables" else iptables_update(previous, target)
                partial, cpu, wall = _timed(_apply(proxy, mode, node, target, update))
                partial_wall.append(wall if partial is None else partial.program_seconds)  # type: ignore[attr-defined]
                partial_cpu.append(cpu)
                previous = target
            after = measure_latency(node_ns, [last.cluster_ip], 3)  # still answering after partial syncs
            if not after[last.cluster_ip].samples_ms:
                raise LabkitError("bench.no_connection", ip=last.cluster_ip)
    return Result(mode, services, min(full_wall), min(partial_wall), transactions,
                  size, memory_mib, lat[first.cluster_ip], lat[last.cluster_ip],
                  full_sync_cpu_s=min(full_cpu), partial_sync_cpu_s=min(partial_cpu), runs=max(1, runs), load=load)


def _in_own_loop(coro):
    """Run ``coro`` in an event loop of its own thread: a notebook's kernel already runs one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _sync(proxy: KubeProxy, mode: str, node: BenchNode, ctx, rules):
    if mode == "nftables":
        record = await proxy._sync_nft(node, rules)  # type: ignore[arg-type]
    else:
        record = await proxy._sync_iptables(node, ctx, rules)  # type: ignore[arg-type]
    assert record is not None
    return record


async def _apply(proxy: KubeProxy, mode: str, node: BenchNode, rules, update):
    """The partial sync ``update`` (to ``rules``), as the lab's kube-proxy sends it."""
    if mode == "nftables":
        return await proxy._sync_nft(node, rules, update)  # type: ignore[arg-type]
    await proxy._restore(node, update.restore)  # type: ignore[arg-type]
    proxy._applied[node.name] = rules
    return None


def run(modes: list[str], sizes: list[int], samples: int,
        progress: Callable[[str], None] = lambda _msg: None, runs: int = 1) -> list[Result]:
    return [run_one(mode, n, samples, progress=progress, runs=runs) for n in sizes for mode in modes]

