"""The embedded lab's ``PodRuntime``: what the API server's kubelet calls to run pods for real.

A Pod object becomes a network namespace wired by the node's CNI plugins (``PodManager``); its
declared container ports (or its web image's usual port) are served by the echo responder; its
containers' commands run as processes in that namespace (``processes``). ``exec`` runs a command
there with the host's tools, ``attach`` joins a container's process, ``log_source`` is what the
container wrote plus the echo responder's access log, and ``port_connect`` opens a connection to
a port from inside the pod (``kubectl port-forward``).
"""
from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

from ..apiserver.logbuffer import LogBuffer
from ..apiserver.runtime import ExecProcess, NodeInfo
from .echo import PodIdentity
from .images import serving
from .netns import entered
from .paths import lab_dir
from .pods import PodManager
from .processes import Attachment, ProcessManager
from .topology import LabSpec

CONNECT_TIMEOUT = 5.0

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def pod_request(pod: dict, node: str) -> dict:
    """The data plane's view of a Pod object: where it runs, what it serves, who it is."""
    meta, spec = pod["metadata"], pod.get("spec", {})
    containers = spec.get("containers") or [{}]
    ports = [[p["containerPort"], p.get("protocol", "TCP")]
             for c in containers for p in c.get("ports") or []
             if p.get("protocol", "TCP") in ("TCP", "UDP")]
    answers, image_ports = serving(containers[0])
    return {"namespace": meta.get("namespace", "default"), "name": meta["name"], "node": node,
            "ports": ports or [list(p) for p in image_ports] or None, "answers": answers,
            "image": containers[0].get("image"),
            "labels": dict(meta.get("labels") or {}), "uid": meta.get("uid")}


class EmbeddedRuntime:
    def __init__(self, spec: LabSpec, pods: PodManager) -> None:
        self.spec = spec
        self.pods = pods
        self.processes = ProcessManager(spec.service_cidr, lab_dir(spec.name) / "images")
        self.processes.backoff_sink = self._keep_backoff
        # Awaited between the pod's network and its processes (``admission.PolicyBarrier``).
        self.before_containers: Callable[[dict, str], Awaitable[None]] | None = None
        self.after_network: Callable[[dict, object], Awaitable[None]] | None = None
        self._first_container: dict[str, tuple[str, str]] = {}   # "ns/name" -> (uid, container)
        # The echo responder's access log also goes to the pod's log (``kubectl logs -f``
        # shows each request as it arrives); the responder keeps its own copy for ``labkit``.
        pods.echo.also_log = self._access_log

    def _access_log(self, pod: PodIdentity, line: str) -> None:
        owner = self._first_container.get(f"{pod.namespace}/{pod.name}")
        if owner is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.processes.buffer(*owner).append(f"{stamp} {line}\n", "access")

    def nodes(self) -> list[NodeInfo]:
        plans = self.spec.node_plans()
        tainted = len(plans) > 1   # kind removes the control plane's taint in a one-node cluster
        return [NodeInfo(name=p.name, internal_ip=p.ip, pod_cidr=p.pod_cidr,
                         roles=("control-plane",) if p.role == "control-plane" else (),
                         taints=((CONTROL_PLANE_TAINT,) if tainted and p.role == "control-plane"
                                 else ()))
                for p in plans]

    def _key(self, pod: dict) -> str:
        return f"{pod['metadata'].get('namespace', 'default')}/{pod['metadata']['name']}"

    async def start_pod(self, pod: dict, node: str) -> str:
        key = self._key(pod)
        existing = self.pods.state.pods.get(key)
        if existing is not None and (existing.uid != pod["metadata"].get("uid")
                                     or existing.node != node):
            await self.processes.stop_pod(existing.uid or "", existing.netns)
            await self.pods.delete_pods([key])          # a stale pod of the same name
            existing = None
        record = existing or (await self.pods.add_pods([pod_request(pod, node)]))[0]
        if existing is None and self.after_network is not None:
            try:
                await self.after_network(pod, record)    # more networks (``multus``)
            except BaseException:
                # the sandbox failed as a whole (Multus's CmdAdd returns the error to the runtime):
                # no pod record is kept, so the kubelet's retry wires every network again
                await self.pods.delete_pods([key])
                raise
        containers = pod.get("spec", {}).get("containers") or []
        if containers:
            self._first_container[key] = (pod["metadata"]["uid"], containers[0]["name"])
        if self.before_containers is not None:
            await self.before_containers(pod, record.ip)
        await self.processes.start_pod(pod, record.netns, fresh=existing is None,
                                       backoff=record.backoff)
        return record.ip

    def _keep_backoff(self, namespace: str, name: str, uid: str, container: str, step: int,
                      until: float) -> None:
        """A container's back-off goes with its pod's record (a restarted daemon resumes it)."""
        record = self.pods.state.pods.get(f"{namespace}/{name}")
        if record is None or record.uid != uid:
            return
        record.backoff[container] = [step, until]
        self.pods.state.save_pod(record)

    async def stop_pod(self, pod: dict) -> None:
        key = self._key(pod)
        existing = self.pods.state.pods.get(key)
        if existing is None or (existing.uid and existing.uid != pod["metadata"].get("uid")):
            await self.processes.stop_pod(pod["metadata"].get("uid", ""), None)
            return
        self._first_container.pop(key, None)
        await self.processes.stop_pod(pod["metadata"].get("uid", ""), existing.netns)
        await self.pods.delete_pods([key])

    async def exec(self, pod: dict, command: list[str], stdin: bool, tty: bool,
                   container: str | None = None) -> ExecProcess:
        record = self.pods.state.pods.get(self._key(pod))
        if record is None:
            raise FileNotFoundError(command[0] if command else "")
        return await self.processes.exec(pod, record.netns, command, stdin, tty, container)

    async def attach(self, pod: dict, container: str, stdin: bool, tty: bool) -> Attachment:
        """The container's process (``LookupError`` when the container runs none)."""
        return self.processes.attach(pod["metadata"]["uid"], container, stdin, tty)

    def log_source(self, pod: dict, container: str) -> LogBuffer:
        return self.processes.buffer(pod["metadata"]["uid"], container)

    async def logs(self, pod: dict, container: str) -> str:
        return self.processes.logs_text(pod["metadata"]["uid"], container)

    async def port_connect(self, pod: dict, port: int) -> tuple[asyncio.StreamReader,
                                                                 asyncio.StreamWriter]:
        """A TCP connection to ``localhost:port`` made inside the pod, as the kubelet makes it."""
        record = self.pods.state.pods.get(self._key(pod))
        if record is None:
            raise ConnectionRefusedError(111, "pod has no network namespace")

        def connect() -> socket.socket:
            with entered(record.netns):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.settimeout(CONNECT_TIMEOUT)
                sock.connect(("127.0.0.1", port))
                sock.setblocking(False)
                return sock
            except BaseException:
                sock.close()
                raise

        loop = asyncio.get_running_loop()
        sock = await loop.run_in_executor(self.pods.echo._executor, connect)
        return await asyncio.open_connection(sock=sock)
