"""Pods of the embedded lab: a network namespace each, wired by the node's CNI plugins.

This is the kubelet's share of the data plane: schedule (if no node is given), create the pod's
namespace, run the CNI ADD in the node, serve the declared ports. Creation is all or nothing:
a pod whose wiring fails is unwound (CNI DEL, namespace removed) before the error is raised.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path

from ..errors import BadInput, LabkitError
from . import netns as ns
from .cni import CniResult, CniRunner
from .dataplane import cni_runner
from .dns import resolv_conf
from .echo import EchoResponder, PodIdentity
from .images import default_ports, image_repository
from .state import LabState, PodRecord
from .topology import LabSpec, NodePlan

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Pods wired at once: each wiring is a kernel-bound namespace + CNI ADD (``bench/pod_floor.py``:
# about 38 ms alone, and more pods at once than cores only queue on the kernel's locks).
PARALLEL_WIRING = int(os.environ.get("LABKIT_PARALLEL_WIRING", "0")) or max(2, os.cpu_count() or 2) * 2


def validate_pod_request(req: dict) -> None:
    """Reject what Kubernetes would reject before touching anything."""
    key = f"{req.get('namespace')}/{req.get('name')}"
    namespace, name = req.get("namespace", "default"), req.get("name")
    if not isinstance(namespace, str) or len(namespace) > 63 or not DNS_LABEL.match(namespace):
        raise BadInput("lab.bad_pod", pod=key, reason="namespace must be a DNS label")
    if not isinstance(name, str) or len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise BadInput("lab.bad_pod", pod=key, reason="name must be a DNS subdomain")
    for port in req.get("ports") or []:
        number, protocol = (port, "TCP") if isinstance(port, int) else tuple(port)
        if not isinstance(number, int) or not 1 <= number <= 65535 or protocol not in ("TCP", "UDP"):
            raise BadInput("lab.bad_pod", pod=key, reason=f"bad port {port!r}")


def write_resolv_conf(netns: str, namespace: str, nameserver: str) -> None:
    """``ip netns exec`` bind-mounts ``/etc/netns/<netns>/resolv.conf`` over ``/etc/resolv.conf``."""
    folder = Path("/etc/netns") / netns
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resolv.conf").write_text(resolv_conf(namespace, nameserver))


def container_id(spec: LabSpec, namespace: str, name: str, uid: str | None = None) -> str:
    """The sandbox's ID, as CNI plugins see it: one per pod object (its uid), as a container
    runtime makes a new sandbox ID for every sandbox. A pod deleted and created again under the same
    name gets a new ID: host-local refuses to hand an address to an ID that still holds one (a
    Multus attachment whose definition went with its namespace cannot be released)."""
    return hashlib.sha256(f"{spec.name}/{namespace}/{name}/{uid or ''}".encode()).hexdigest()[:32]


class PodManager:
    """Creates and removes pods; owns the lab's state and the echo responder."""

    def __init__(self, state: LabState, echo: EchoResponder) -> None:
        self.state = state
        self.spec = state.spec
        self.echo = echo
        self._runners: dict[str, CniRunner] = {}
        self._nodes: dict[str, NodePlan] = {}     # spec.node() computes every node's plan
        self._lock = asyncio.Lock()
        self._wiring = asyncio.Semaphore(PARALLEL_WIRING)

    def runner(self, node: NodePlan) -> CniRunner:
        if node.name not in self._runners:
            self._runners[node.name] = cni_runner(self.spec, node)
        return self._runners[node.name]

    def node(self, name: str) -> NodePlan:
        """``spec.node``, kept (a lab's nodes never change while it runs)."""
        if name not in self._nodes:
            self._nodes[name] = self.spec.node(name)
        return self._nodes[name]

    def schedule(self, pending: list[str]) -> NodePlan:
        """Fewest pods first; the control plane only when it is the only node (kind taints it)."""
        plans = self.spec.node_plans()
        candidates = plans[1:] if len(plans) > 1 else plans
        load = {p.name: 0 for p in candidates}
        for pod in self.state.pods.values():
            if pod.node in load:
                load[pod.node] += 1
        for node in pending:
            if node in load:
                load[node] += 1
        return min(candidates, key=lambda p: (load[p.name], plans.index(p)))

    async def add_pods(self, requests: list[dict]) -> list[PodRecord]:
        """Create pods in parallel; if any fails, the ones created by this call are removed."""
        for req in requests:
            validate_pod_request(req)
        async with self._lock:
            keys = [f"{r.get('namespace', 'default')}/{r['name']}" for r in requests]
            for key in keys:
                if key in self.state.pods or keys.count(key) > 1:
                    raise BadInput("lab.pod_exists", pod=key, name=self.spec.name)
            nodes: list[NodePlan] = []
            for req in requests:
                node = self.node(req["node"]) if req.get("node") else self.schedule(
                    [n.name for n in nodes])
                nodes.append(node)
        results = await asyncio.gather(*(self._create(r, n) for r, n in zip(requests, nodes)),
                                       return_exceptions=True)
        created = [r for r in results if isinstance(r, PodRecord)]
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            await asyncio.gather(*(self._destroy(p) for p in created), return_exceptions=True)
            for pod in created:
                self.state.forget_pod(pod)
            raise failure
        async with self._lock:
            for pod in created:
                pod.wiring = False
                self.state.pods[pod.key] = pod
                await asyncio.to_thread(self.state.save_pod, pod)
        return created

    async def _create(self, req: dict, node: NodePlan) -> PodRecord:
        namespace, name = req.get("namespace", "default"), req["name"]
        netns = self.spec.pod_netns(namespace, name)
        cid = container_id(self.spec, namespace, name, req.get("uid"))
        ports = [tuple(p) if not isinstance(p, int) else (p, "TCP") for p in (req.get("ports") or [])]
        if not ports:
            ports = default_ports(req.get("image"))
        pod = PodRecord(namespace=namespace, name=name, node=node.name, ip="", netns=netns,
                        container_id=cid, ports=[(int(p), str(proto)) for p, proto in ports],
                        image=req.get("image"), labels=dict(req.get("labels") or {}),
                        uid=req.get("uid"), answers=str(req.get("answers") or "echo"))
        async with self._wiring:
            # Write-ahead: a daemon killed from here on leaves a record marked ``wiring``, which
            # the next daemon rolls back (``restore``); a namespace left by such a crash (or one
            # whose record was lost) is rolled back here first, so wiring is idempotent.
            pod.wiring = True
            await asyncio.to_thread(self.state.save_pod, pod)
            if os.path.exists(ns.netns_path(netns)):
                await self._destroy(pod)
            try:
                await asyncio.to_thread(ns.add_netns, netns)    # and lo up; no process started
            except BaseException:
                self.state.forget_pod(pod)
                raise
            try:
                write_resolv_conf(netns, namespace, self.spec.dns_ip)
                result = await self.runner(node).add(cid, netns, pod.key)
                pod.ip, pod.cni_result = result.ip, result.raw
                pod.host_veth = CniResult(result.raw).host_interface
                await self.echo.serve(self._identity(pod), pod.ports)
            except BaseException:
                await self._destroy(pod)
                self.state.forget_pod(pod)
                raise
        return pod

    def _identity(self, pod: PodRecord) -> PodIdentity:
        serves_dns = image_repository(pod.image or "").endswith("coredns/coredns")
        return PodIdentity(pod.namespace, pod.name, pod.node, pod.ip, pod.netns, serves_dns,
                           pod.answers)

    async def _destroy(self, pod: PodRecord) -> None:
        await self.echo.stop(pod.key)
        node = self.node(pod.node)
        try:
            await self.runner(node).delete(pod.container_id, pod.netns, pod.key, pod.cni_result or None)
        except LabkitError:
            pass  # DEL is best effort: the namespace goes below and host-local is swept with the lab
        await asyncio.to_thread(ns.del_netns, pod.netns)
        shutil.rmtree(Path("/etc/netns") / pod.netns, ignore_errors=True)

    async def delete_pods(self, keys: list[str]) -> list[str]:
        async with self._lock:
            missing = [k for k in keys if k not in self.state.pods]
            if missing:
                raise BadInput("lab.unknown_pod", pod=missing[0], name=self.spec.name)
            pods = [self.state.pods[k] for k in keys]
        await asyncio.gather(*(self._destroy(p) for p in pods))
        async with self._lock:
            for pod in pods:
                self.state.pods.pop(pod.key, None)
                self.state.forget_pod(pod)
        return keys

    async def restore(self) -> None:
        """After a daemon restart: serve the pods whose namespace survived, forget the others,
        roll back those it was wiring when it died (their API objects get wired again)."""
        present = set(ns.list_netns())
        for key, pod in list(self.state.pods.items()):
            if pod.wiring:          # the previous daemon died while wiring it: roll it back
                await self._destroy(pod)
                del self.state.pods[key]
                self.state.forget_pod(pod)
            elif pod.netns in present:
                await self.echo.serve(self._identity(pod), pod.ports)
            else:
                del self.state.pods[key]
                self.state.forget_pod(pod)
