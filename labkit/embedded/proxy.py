"""kube-proxy in every node of the embedded lab: the rules kube-proxy writes, written for real.

The daemon listens to the API store; any change of a Service, an EndpointSlice or a Node
schedules a sync (debounced, so a burst of changes is one sync). A sync renders each node's rules
with ``labkit.kubeproxy`` (the same generator checked against upstream's expectations) and loads
them in the node's namespace: ``iptables-restore --noflush`` in iptables mode (stale service
chains deleted with ``-X``, as kube-proxy does), or one ``nft -f`` transaction that replaces the
``ip kube-proxy`` table in nftables mode. A node whose rules did not change is not touched.
"""
from __future__ import annotations

import asyncio
import re
import time

from ..kubeproxy.iptables import jump_rules, render_iptables
from ..kubeproxy.manifests import from_objects
from ..kubeproxy.model import NodeContext
from ..kubeproxy.nftables import render_nftables
from . import netns as ns
from .controller import DebouncedSync
from .topology import LabSpec, NodePlan

SERVICE_CHAIN = re.compile(r"^:(KUBE-(?:SVC|SVL|EXT|FW|SEP)-[A-Z0-9]+) ", re.M)


def node_context(spec: LabSpec, node: NodePlan) -> NodeContext:
    return NodeContext(node_name=node.name, node_ips=(node.ip,), cluster_cidr=spec.pod_cidr,
                       service_cidrs=(spec.service_cidr,))


def with_stale_chains_deleted(rules: str, existing: set[str]) -> str:
    """Delete service chains that exist on the node but are no longer written (nat table).

    As kube-proxy does: a stale chain is declared (which flushes it: a chain with rules cannot
    be deleted) and then removed with ``-X`` in the same transaction.
    """
    wanted = set(SERVICE_CHAIN.findall(rules))
    stale = sorted(existing - wanted)
    if not stale:
        return rules
    head, sep, tail = rules.partition("*nat\n")
    body, commit, rest = tail.partition("COMMIT\n")
    declared = "".join(f":{c} - [0:0]\n" for c in stale)
    return head + sep + declared + body + "".join(f"-X {c}\n" for c in stale) + commit + rest


def usable(objects: list[dict], report) -> list[dict]:
    """The objects kube-proxy can read, each on its own; ``report(obj, error)`` for the others.

    One malformed Service or EndpointSlice must not stop the rules of all the others (kube-proxy
    itself skips what it cannot use: pkg/proxy/servicechangetracker.go logs and moves on).
    """
    out = []
    for obj in objects:
        try:
            from_objects([("api", 0, obj)])
        except Exception as exc:  # noqa: BLE001 - one object's failure stays its own
            report(obj, exc)
            continue
        out.append(obj)
    return out


def _ignore(_obj: dict, _exc: BaseException) -> None:
    return None


class KubeProxy(DebouncedSync):
    """Keeps every node's service rules in step with the API objects."""
    what = "kube-proxy sync"

    def __init__(self, spec: LabSpec, objects, report=_ignore) -> None:
        """``objects()`` returns the current Services, EndpointSlices (dicts with ``kind``);
        ``report(obj, error)`` is told of each one it cannot read (and skips)."""
        super().__init__()
        self.spec = spec
        self.objects = objects
        self.report = report
        self._applied: dict[str, str] = {}
        self._jumps_done: set[str] = set()
        self.last_sync: dict[str, float] = {}

    async def sync(self) -> None:
        triples = [("api", i, o) for i, o in enumerate(usable(self.objects(), self.report))]
        await asyncio.gather(*(self._sync_node(node, triples) for node in self.spec.node_plans()))
        self.sync_count += 1

    async def _sync_node(self, node: NodePlan, triples: list) -> None:
        inp = from_objects(triples, node_name=node.name)
        ctx = node_context(self.spec, node)
        if self.spec.proxy_mode == "nftables":
            rendered = render_nftables(inp, ctx).transaction()
        else:
            rendered = render_iptables(inp, ctx)
        if self._applied.get(node.name) == rendered:
            return
        if self.spec.proxy_mode == "nftables":
            await ns.arun(["nft", "-f", "-"], node.netns, input=rendered.encode())
        else:
            if node.name not in self._jumps_done:
                await self._ensure_jumps(node, ctx)
            existing = await ns.arun(["iptables-save", "-t", "nat"], node.netns)
            rules = with_stale_chains_deleted(rendered, set(SERVICE_CHAIN.findall(existing)))
            await ns.arun(["iptables-restore", "--noflush", "-w"], node.netns, input=rules.encode())
        self._applied[node.name] = rendered
        self.last_sync[node.name] = time.time()

    async def _ensure_jumps(self, node: NodePlan, ctx: NodeContext) -> None:
        """kube-proxy's jumps from the built-in chains; its own chains must exist first."""
        chains = "*filter\n" + "".join(f":{c} - [0:0]\n" for c in (
            "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-SERVICES", "KUBE-FORWARD",
            "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL")) + "COMMIT\n*nat\n" + "".join(
            f":{c} - [0:0]\n" for c in ("KUBE-SERVICES", "KUBE-POSTROUTING")) + "COMMIT\n"
        # kubelet's own rule in KUBE-FIREWALL: no martian packets to 127.0.0.0/8 from outside
        chains = chains.replace("COMMIT\n", '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment '
                                '--comment "block incoming localnet connections" -m conntrack ! '
                                '--ctstate RELATED,ESTABLISHED,DNAT -j DROP\nCOMMIT\n', 1)
        await ns.arun(["iptables-restore", "--noflush", "-w"], node.netns, input=chains.encode())
        for rule in jump_rules(ctx):
            proc = await asyncio.create_subprocess_exec(
                *ns.in_netns(rule.check_command(), node.netns),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            if await proc.wait() != 0:
                await ns.arun(rule.insert_command(), node.netns)
        self._jumps_done.add(node.name)
