"""A one-service change as a partial sync, in both modes, in namespaces of their own (root):
the rules the kernel then reports equal those of a full sync of the new state, and new
connections to the changed service reach only its new endpoint. In nftables mode the partial
sync goes both ways: as netlink messages (the lab's default) and through ``nft -f``."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from labkit.bench.kube_proxy_model import BACKEND_PORT, BACKENDS, SERVICE_PORT, node_context, synthetic_input
from labkit.bench.kube_proxy_run import NODE_IP, BenchNode, bench_namespaces
from labkit.embedded import netns as ns
from labkit.embedded.proxy import KubeProxy
from labkit.kubeproxy.iptables import render_iptables
from labkit.kubeproxy.model import Endpoint, ProxyInput
from labkit.inspect.nft_text import parse_nft_text
from labkit.kubeproxy.nftables import render_nftables

SERVICES = 12

_WHO = """
import json, socket, sys
seen = []
for _ in range(int(sys.argv[2])):
    s = socket.create_connection((sys.argv[1], int(sys.argv[3])), timeout=2)
    seen.append(s.recv(64).decode())
    s.close()
print(json.dumps(seen))
"""


class _Spec:
    def __init__(self, mode: str) -> None:
        self.proxy_mode = mode


def sync(proxy: KubeProxy, mode: str, node: BenchNode, inp: ProxyInput):
    ctx = node_context(NODE_IP)
    if mode == "nftables":
        return asyncio.run(proxy._sync_nft(node, render_nftables(inp, ctx)))
    return asyncio.run(proxy._sync_iptables(node, ctx, render_iptables(inp, ctx)))


def kernel_rules(mode: str, netns: str) -> dict:
    """What the kernel reports, without what differs between equal rulesets (counters, order of
    set elements, which the kernel lists in hash order)."""
    if mode == "nftables":
        out = subprocess.run(ns.in_netns(["nft", "list", "table", "ip", "kube-proxy"], netns),
                             capture_output=True, text=True, check=True).stdout
        table = parse_nft_text(out)[0]
        return {"chains": table.chains,
                "sets": {k: sorted(repr(e) for e in v) for k, v in table.sets.items()}}
    out = subprocess.run(ns.in_netns(["iptables-save"], netns), capture_output=True, text=True,
                         check=True).stdout
    tables: dict = {}
    for line in out.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:], {})
        elif line.startswith(":"):
            current.setdefault(line[1:].split()[0], [])
        elif line.startswith("-A "):
            current.setdefault(line.split()[1], []).append(line)
    return tables


def who_answers(netns: str, ip: str, count: int) -> list[str]:
    out = subprocess.run(ns.in_netns([sys.executable, "-c", _WHO, ip, str(count), str(SERVICE_PORT)], netns),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("mode,via", [("iptables", ""), ("nftables", "netlink"), ("nftables", "nft")])
def test_a_one_service_change_equals_a_full_sync_and_moves_traffic(mode, via):
    before = synthetic_input(SERVICES)
    after = ProxyInput(list(before.services), dict(before.endpoints))
    changed, other = before.sorted_services()[SERVICES // 2], before.sorted_services()[0]
    after.endpoints[changed.key] = [Endpoint(BACKENDS[1], BACKEND_PORT)]  # loses its first endpoint
    with bench_namespaces("kpinca") as (node_ns, _):
        proxy, node = KubeProxy(_Spec(mode), lambda: []), BenchNode("n", node_ns)  # type: ignore[arg-type]
        proxy.netlink = via == "netlink"
        assert sync(proxy, mode, node, before).kind == "full"
        assert set(who_answers(node_ns, changed.cluster_ip, 30)) == set(BACKENDS)
        record = sync(proxy, mode, node, after)
        assert record.kind == "partial" and record.chains_written == 1 and record.via == via
        for chain in proxy._stale.get("n", {}):
            proxy._stale["n"][chain] = 0.0  # as if upstream's one second had passed: delete them now
        cleanup = sync(proxy, mode, node, after)
        assert (cleanup is None) == (mode == "iptables") and not proxy._stale.get("n")
        assert cleanup is None or cleanup.via == via  # the stale chains were deleted the same way
        incremental = kernel_rules(mode, node_ns)
        assert set(who_answers(node_ns, changed.cluster_ip, 30)) == {BACKENDS[1]}
        assert set(who_answers(node_ns, other.cluster_ip, 30)) == set(BACKENDS)
    with bench_namespaces("kpincb") as (node_ns, _):
        proxy, node = KubeProxy(_Spec(mode), lambda: []), BenchNode("n", node_ns)  # type: ignore[arg-type]
        assert sync(proxy, mode, node, after).kind == "full"
        assert kernel_rules(mode, node_ns) == incremental


def test_a_partial_sync_of_many_services_goes_over_netlink_in_one_batch():
    """600 new services in one partial sync (thousands of messages): the send buffer is raised to
    the batch, one ack is read, and the kernel then holds what a full sync writes."""
    before, after = synthetic_input(12), synthetic_input(600)
    with bench_namespaces("kpincc") as (node_ns, _):
        proxy, node = KubeProxy(_Spec("nftables"), lambda: []), BenchNode("n", node_ns)  # type: ignore[arg-type]
        assert sync(proxy, "nftables", node, before).kind == "full"
        record = sync(proxy, "nftables", node, after)
        assert record.kind == "partial" and record.via == "netlink" and record.chains_written >= 588 * 3
        incremental = kernel_rules("nftables", node_ns)
        last = after.sorted_services()[-1]
        assert set(who_answers(node_ns, last.cluster_ip, 20)) == set(BACKENDS)
    with bench_namespaces("kpincd") as (node_ns, _):
        proxy, node = KubeProxy(_Spec("nftables"), lambda: []), BenchNode("n", node_ns)  # type: ignore[arg-type]
        assert sync(proxy, "nftables", node, after).kind == "full"
        assert kernel_rules("nftables", node_ns) == incremental
