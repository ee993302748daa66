"""NetworkPolicy enforcement in every node of the embedded lab: one nftables table per node.

The tables are compiled by ``labkit.netpol.nft`` (pure: what each node gets and why is told
there); the enforcer here reads the API server's store, compiles every node's table and loads it
with one ``nft -f`` transaction in the node's namespace when it changed.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..netpol.nft import NodeRules, PolicyObjects, Report, _ignore, node_rules, render
from . import netns as ns
from .controller import DebouncedSync
from .topology import LabSpec, NodePlan

__all__ = ["WATCHED_KINDS", "PolicyEnforcer", "store_objects"]


class PolicyEnforcer(DebouncedSync):
    """Keeps every node's ``labkit-netpol`` table in step with policies, pods and namespaces."""
    what = "network policy sync"

    def __init__(self, spec: LabSpec, objects: Callable[[], PolicyObjects],
                 report: Report = _ignore) -> None:
        """``report(obj, error)`` is told of each object it cannot read (a policy among them
        is enforced closed)."""
        super().__init__()
        self.spec = spec
        self.objects = objects
        self.report = report
        self._applied: dict[str, str] = {}
        self.last_sync: dict[str, float] = {}

    def filters_nothing(self) -> bool:
        """Whether no node's table filters anything: each one loaded is the empty table (a node
        not synced yet has none). Then a new pod's address changes no node's table while no
        NetworkPolicy exists (see ``admission.PolicyBarrier``)."""
        empty = render(NodeRules())
        return all(text == empty for text in self._applied.values())

    async def sync(self) -> None:
        objs = self.objects()
        if objs.policies:
            rules = node_rules(self.spec, objs, self.report)
        else:
            # No policy, no isolated pod: every table is the empty one, whatever the pods (which
            # are then not read, so a 1,000-pod Deployment costs no compile per sync; a malformed
            # pod is reported once a policy makes the enforcer read pods).
            rules = {node.name: NodeRules() for node in self.spec.node_plans()}
        await asyncio.gather(*(self._sync_node(node, rules[node.name], objs) for node in self.spec.node_plans()))
        self.sync_count += 1

    async def _sync_node(self, node: NodePlan, rules: NodeRules, objs: PolicyObjects) -> None:
        text = render(rules)
        if self._applied.get(node.name) == text:
            return
        await ns.arun(["nft", "-f", "-"], node.netns, input=text.encode())
        self._applied[node.name] = text
        self.last_sync[node.name] = time.time()


def store_objects(store: Any) -> Callable[[], PolicyObjects]:
    """The enforcer's reader over the API server's store."""
    from ..apiserver.resources import BY_KEY

    def read() -> PolicyObjects:
        return PolicyObjects(store.list(BY_KEY["core/namespaces"]), store.list(BY_KEY["core/pods"]),
                             store.list(BY_KEY["networking.k8s.io/networkpolicies"]))
    return read


WATCHED_KINDS = ("core/namespaces", "core/pods", "networking.k8s.io/networkpolicies")
