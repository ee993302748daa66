"""``--service-proxy ebpf``: kube-proxy replaced by a socket-level load balancer in every node.

As Cilium's kube-proxy replacement does with its socket LB (cilium/cilium bpf/bpf_sock.c), each
node gets BPF programs on the ``connect4``, ``sendmsg4``, ``recvmsg4`` and ``getpeername4``
hooks of the cgroup v2 tree (``labkit/bpf/sock_lb.c``) and maps that say which backends stand
behind each ClusterIP:port. A connection to a ClusterIP is given a backend's address by
``connect()`` itself: no packet ever carries the ClusterIP, so ``iptables-save`` and
``nft list ruleset`` show no service rule, and the maps (``bpftool map dump``) are the truth.

The controller here plays the agent: it keeps each node's maps in step with Services and
EndpointSlices (and with the node's pods, whose network namespaces are the ones the node's
programs act on). Programs and maps are pinned under ``/sys/fs/bpf/labkit/<lab>/<node>/``, so
they outlive the daemon as Cilium's datapath outlives a restarting agent; ``sweep`` (called by
``labkit down`` and the crash sweep) detaches and unpins them.

The host: Cilium's socket LB translates the host's own sockets too (a ``curl <ClusterIP>`` on a
node). The lab's host is outside the cluster, as a client on a node would be; with host routes on
(the default), the control plane's programs also translate the sockets of the daemon's network
namespace (the host's), so ``curl <ClusterIP>`` from this machine reaches a backend directly,
through the host route of the backend's pod CIDR: where the kube-proxy modes route the ClusterIP
into the control plane, whose rules DNAT and masquerade it. With ``--no-host-routes`` nothing is
translated there and the service CIDR stays refused (``EHOSTUNREACH`` at once).

NodePorts (and ExternalIPs, LoadBalancer IPs) stay with kube-proxy's nftables rules, ClusterIPs
left out (:class:`NodePortProxy`, ``labkit.bpf.nodeports``): Cilium's documented hybrid split.

A node's agent can be stopped (``stop_node``): its programs and maps stay pinned and keep
translating, and nothing updates them until it starts again (it then reads the maps back, as
cilium-agent restores its state from the pinned maps).

Tools: ``clang`` compiles the program when a daemon starts (a quarter of a second), ``bpftool``
loads, pins, attaches and writes the maps (one ``bpftool batch`` per node and sync).
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from pathlib import Path

from ..bpf import maps as m
from ..bpf.nodeports import external_only, without_cluster_ips
from ..errors import LabkitError
from ..kubeproxy.model import ProxyInput
from ..kubeproxy.nft_sync import NftUpdate
from ..kubeproxy.nftables import NftRuleset
from ..kubeproxy.render_cache import Shared
from . import netns as ns
from .controller import DebouncedSync
from .paths import lab_dir
from .proxy import KubeProxy, ParsedObjects, SyncRecord, _ignore
from .sock_lb import (
    compile_program,
    dump,
    ensure_bpffs,
    load_node,
    map_pins,
    netns_cookie,
    own_netns_cookie,
    tool,
)
from .topology import LabSpec, NodePlan


class EbpfProxy(DebouncedSync):
    """Keeps every node's service maps in step with the API objects and the node's pods."""
    what = "ebpf service proxy sync"

    def __init__(self, spec: LabSpec, objects, netns_of, report=_ignore) -> None:
        """``objects()``: Services and EndpointSlices (dicts with ``kind``); ``netns_of(node)``:
        the network namespaces whose sockets the node's programs translate."""
        super().__init__()
        self.spec, self.objects, self.netns_of, self.report = spec, objects, netns_of, report
        self.host_node = spec.node_plans()[0].name if spec.host_routes else None
        self.host_cookie: int | None = None
        self.parsed = ParsedObjects()
        self.ids: dict[str, m.Ids] = {}
        self._applied: dict[str, dict[str, dict[bytes, bytes]]] = {}
        # (netns, inode, inode ctime) -> cookie: a namespace's inode number is reused at once by
        # the next one created (the kernel hands out the lowest free number), and a pod deleted
        # and created again has the same netns name: the ctime of the nsfs inode (set when the
        # namespace is first pinned) tells the two apart. Without it, a recreated pod kept the old
        # cookie and its connect() went untranslated (notebook 05's second run: 0/5 answers).
        self._cookies: dict[tuple[str, int, int], int] = {}
        self._obj: Path | None = None
        self.records: dict[str, SyncRecord] = {}
        self.last_sync: dict[str, float] = {}

    def load(self) -> None:
        """Compile and load the programs of every node (blocking: called once at start)."""
        ensure_bpffs()
        self._obj = compile_program(lab_dir(self.spec.name) / "sock_lb.o")
        for node in self.spec.node_plans():
            load_node(self.spec.name, node.name, self._obj)
        if self.host_node is not None:
            self.host_cookie = own_netns_cookie()

    def forget(self, node: str) -> None:
        """Read the node's maps back before its next sync (a restarted agent)."""
        self._applied.pop(node, None)

    async def sync(self) -> None:
        nodes = [n for n in self.spec.node_plans() if n.name not in self.stopped]   # a stopped agent writes nothing
        inputs = self.parsed.inputs(self.objects(), [n.name for n in nodes], self.report)
        for node in nodes:
            await self._sync_node(node, m.service_table(inputs[node.name]))
        alive = {n for node in self.spec.node_plans() for n in self.netns_of(node.name)}
        for key in [k for k in self._cookies if k[0] not in alive]:
            del self._cookies[key]               # a pod gone: forget its namespace's cookie
        self.sync_count += 1

    def _cookie(self, netns: str) -> int | None:
        try:
            st = os.stat(ns.netns_path(netns))
        except OSError:
            return None
        key = (netns, st.st_ino, st.st_ctime_ns)
        if key not in self._cookies:
            try:
                self._cookies[key] = netns_cookie(netns)
            except (OSError, LabkitError):
                return None
        return self._cookies[key]

    async def _sync_node(self, node: NodePlan, table: dict[m.Frontend, list[m.Backend]]) -> None:
        start = time.perf_counter()
        names = self.netns_of(node.name)
        cookies = await asyncio.to_thread(lambda: {c for n in names if (c := self._cookie(n))})
        if node.name == self.host_node and self.host_cookie is not None:
            cookies.add(self.host_cookie)        # the host's sockets: see the module docstring
        ids = self.ids.setdefault(node.name, m.Ids())
        ids.assign(table)
        wanted = m.entries(table, ids, cookies)
        pins = map_pins(self.spec.name, node.name)
        if node.name not in self._applied:      # first sync (or a restarted daemon): read the maps
            self._applied[node.name] = await asyncio.to_thread(
                lambda: {mp: dump(self.spec.name, node.name, mp) for mp in m.WRITTEN_MAPS})
        lines = m.batch_lines(pins, self._applied[node.name], wanted)
        if not lines:
            return
        t0 = time.perf_counter()
        try:
            await ns.arun([tool("bpftool", "bpftool"), "batch", "file", "-"],
                          input=("\n".join(lines) + "\n").encode())
        except Exception:
            del self._applied[node.name]          # unknown now: read again next time
            raise
        self._applied[node.name] = wanted
        self.records[node.name] = SyncRecord("partial", time.perf_counter() - start,
                                             time.perf_counter() - t0, len(lines))
        self.last_sync[node.name] = time.time()


class NodePortProxy(KubeProxy):
    """kube-proxy in ebpf mode: nftables rules for NodePorts, ExternalIPs and LoadBalancer IPs only,
    no ClusterIP anywhere (``labkit.bpf.nodeports``); the socket LB has the ClusterIPs."""
    what = "kube-proxy (NodePorts only) sync"
    incremental = False  # its rules are a filtered full render (below): compared whole each sync

    def __init__(self, spec: LabSpec, objects, report=_ignore) -> None:
        super().__init__(replace(spec, proxy_mode="nftables"), objects, report)

    async def _sync_node(self, node: NodePlan, inp: ProxyInput | list, shared: Shared | None = None) -> SyncRecord | None:
        return await super()._sync_node(node, external_only(inp) if isinstance(inp, ProxyInput) else inp, shared)

    async def _sync_nft(self, node: NodePlan, rs: NftRuleset, update: NftUpdate | None = None) -> SyncRecord | None:
        return await super()._sync_nft(node, without_cluster_ips(rs), update)
