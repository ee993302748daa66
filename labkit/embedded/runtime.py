"""The embedded lab's ``PodRuntime``: what the API server's kubelet calls to run pods for real.

A Pod object becomes a network namespace wired by the node's CNI plugins (``PodManager``); its
declared container ports (or its web image's usual port) are served by the echo responder;
``exec`` runs the command in the pod's namespace with the host's tools.
"""
from __future__ import annotations

import asyncio
import shutil

from ..apiserver.runtime import ExecProcess, NodeInfo, SubprocessExec
from .pods import PodManager
from .topology import LabSpec

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def pod_request(pod: dict, node: str) -> dict:
    """The data plane's view of a Pod object: where it runs, what it serves, who it is."""
    meta, spec = pod["metadata"], pod.get("spec", {})
    containers = spec.get("containers") or [{}]
    ports = [[p["containerPort"], p.get("protocol", "TCP")]
             for c in containers for p in c.get("ports") or [] if p.get("protocol", "TCP") in ("TCP", "UDP")]
    return {"namespace": meta.get("namespace", "default"), "name": meta["name"], "node": node,
            "ports": ports or None, "image": containers[0].get("image"),
            "labels": dict(meta.get("labels") or {}), "uid": meta.get("uid")}


class EmbeddedRuntime:
    def __init__(self, spec: LabSpec, pods: PodManager) -> None:
        self.spec = spec
        self.pods = pods

    def nodes(self) -> list[NodeInfo]:
        plans = self.spec.node_plans()
        tainted = len(plans) > 1   # kind removes the control plane's taint in a one-node cluster
        return [NodeInfo(name=p.name, internal_ip=p.ip, pod_cidr=p.pod_cidr,
                         roles=("control-plane",) if p.role == "control-plane" else (),
                         taints=(CONTROL_PLANE_TAINT,) if tainted and p.role == "control-plane" else ())
                for p in plans]

    def _key(self, pod: dict) -> str:
        return f"{pod['metadata'].get('namespace', 'default')}/{pod['metadata']['name']}"

    async def start_pod(self, pod: dict, node: str) -> str:
        key = self._key(pod)
        existing = self.pods.state.pods.get(key)
        if existing is not None:
            if existing.uid == pod["metadata"].get("uid") and existing.node == node:
                return existing.ip
            await self.pods.delete_pods([key])          # a stale pod of the same name
        created = await self.pods.add_pods([pod_request(pod, node)])
        return created[0].ip

    async def stop_pod(self, pod: dict) -> None:
        key = self._key(pod)
        existing = self.pods.state.pods.get(key)
        if existing is None or (existing.uid and existing.uid != pod["metadata"].get("uid")):
            return
        await self.pods.delete_pods([key])

    async def exec(self, pod: dict, command: list[str], stdin: bool, tty: bool) -> ExecProcess:
        record = self.pods.state.pods.get(self._key(pod))
        if record is None or not command or shutil.which(command[0]) is None:
            raise FileNotFoundError(command[0] if command else "")
        proc = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", record.netns, *command,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if tty else asyncio.subprocess.PIPE)
        return SubprocessExec(proc)

    async def logs(self, pod: dict, container: str) -> str:
        lines = self.pods.echo.access_logs.get(self._key(pod), [])
        return "".join(line + "\n" for line in lines)
