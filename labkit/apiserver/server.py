"""``ApiServer``: the lab's Kubernetes-compatible API over HTTPS on 127.0.0.1.

It owns the store, the HTTP application and the controllers, and knows the runtime only
through ``PodRuntime``. ``start()``/``stop()`` run it on the caller's event loop; ``start_in_thread``
runs it on a private loop in a background thread, which is what tests and synchronous callers
(notebooks) use.
"""
from __future__ import annotations

import asyncio
import copy
import platform
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import LabkitError
from . import bodies, objects
from .api import NAMESPACES, SERVICES, Api
from .controllers import ControllerManager
from .discovery import openapi_index
from .ephemeral import EphemeralContainers
from .handlers import Handlers
from .resources import BY_KEY
from .runtime import NodeInfo, PodRuntime
from .store import Store, write_atomic
from .streams import Streams
from .tls import ensure_tls, ensure_token, kubeconfig, write_kubeconfig
from .validation import plug_netpol

if TYPE_CHECKING:
    from .companions import Companions
    from .nodeagent import Agent
    from .nodeevents import EventSource
    from .nodeflows import FlowSource
    from .noderoute import Writer
    from .nodestate import Reader

NODES = BY_KEY["core/nodes"]
KUBELET_VERSION = "v1.32.0"


class ApiServer:
    """A Kubernetes-compatible API server for one lab (see the package docstring)."""

    def __init__(self, state_dir: str | Path, runtime: PodRuntime, name: str = "kubenet",
                 port: int = 0, lang: str | None = None, service_cidr: str = "10.96.0.0/16",
                 bookmark_interval: float = 10.0, max_pods: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.runtime = runtime
        self.name = name
        self.host = "127.0.0.1"
        self.port = port
        self.lang = lang
        self.service_cidr = service_cidr
        self.bookmark_interval = bookmark_interval
        self.max_pods = max_pods
        self.token = ""
        # Set by the lab daemon before ``start``; the API server imports no data plane, so the two
        # objects from ``embedded`` are typed as what the routes call on them.
        self.node_state: Reader | None = None   # the lab daemon hands node state to clients
        self.node_route: Writer | None = None   # the exercises' `ip route add|del|replace` only
        self.node_agent: Agent | None = None    # stop/start a node's BIRD or service proxy
        self.node_events: EventSource | None = None   # the nodes' netlink events
        self.node_flows: FlowSource | None = None     # trace, capture or probe one flow
        self.companions: Companions | None = None   # start/stop a second lab from fixed presets
        self.store: Store | None = None
        self.api: Api | None = None
        self.controllers: ControllerManager | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.state_dir.chmod(0o700)          # every object lives here: the root's alone
        tls = ensure_tls(self.state_dir / "tls", self.name)
        self.token = ensure_token(self.state_dir / "token")
        plug_netpol()
        store = self.store = Store(self.state_dir)
        api = self.api = Api(store, objects.ServiceAddresses(self.service_cidr), self.max_pods)
        self._bootstrap(store, api)
        handlers = Handlers(self.api, self.lang, self.bookmark_interval)
        streams = Streams(self.api, self.runtime, self.lang)
        handlers.extra_subresources.update(streams.subresources())
        handlers.extra_subresources.update(EphemeralContainers(self.api).subresources())
        app = web.Application(middlewares=[handlers.error_middleware,
                                           handlers.auth_middleware(self.token)],
                              client_max_size=bodies.MAX_BODY_BYTES)
        add = app.router.add_route
        for path in ("/version", "/version/"):
            add("GET", path, handlers.version)
        for path in ("/healthz", "/livez", "/readyz"):
            add("GET", path, handlers.healthz)
        if self.node_state is not None:
            from .nodestate import routes as node_state_routes
            node_state_routes(app, self.name, self.node_state)
        if self.node_route is not None:
            from .noderoute import routes as node_route_routes
            node_route_routes(app, self.node_route)
        if self.node_agent is not None:
            from .nodeagent import routes as node_agent_routes
            node_agent_routes(app, self.node_agent)
        if self.node_events is not None:
            from .nodeevents import routes as node_events_routes
            node_events_routes(app, self.node_events)
        if (flows := self.node_flows) is not None:
            from .nodeflows import routes as node_flow_routes
            node_flow_routes(app, flows, lambda: flows.ranges)
        if self.companions is not None:
            from .companions import routes as companion_routes
            companion_routes(app, self.companions)
        add("GET", "/api", handlers.api_root)
        add("GET", "/apis", handlers.apis_root)
        add("*", "/api/{tail:.*}", handlers.core)
        add("*", "/apis/{tail:.*}", handlers.named)
        add("GET", "/openapi/v2", handlers.openapi_v2)
        add("GET", "/openapi/v3", handlers.openapi_v3)
        add("GET", "/openapi/v3/{tail:.*}", handlers.openapi_v3)
        add("*", "/{tail:.*}", handlers.not_found)
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(tls.cert, tls.key)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = await self._listen(ssl_context)
        self.port = site._server.sockets[0].getsockname()[1]
        write_atomic(self.state_dir / "port", f"{self.port}\n".encode())
        self.controllers = ControllerManager(self.api, self.runtime)
        self.controllers.start()
        # Build the OpenAPI schemas in the background, before kubectl first asks for them.
        asyncio.get_running_loop().run_in_executor(None, openapi_index)

    async def _listen(self, ssl_context: ssl.SSLContext) -> web.TCPSite:
        """Listen on the port asked for, else on the one of the previous run (so kubeconfigs
        copied elsewhere keep working across a daemon restart), else on a free one."""
        port_file = self.state_dir / "port"
        candidates = [self.port]
        if not self.port and port_file.exists():
            try:
                candidates.insert(0, int(port_file.read_text()))
            except ValueError:
                pass
        for index, port in enumerate(candidates):
            site = web.TCPSite(self._runner, self.host, port, ssl_context=ssl_context)
            try:
                await site.start()
                return site
            except OSError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")

    async def stop(self) -> None:
        if self.controllers:
            await self.controllers.stop()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None
        if self.node_events is not None:
            await self.node_events.stop()
        if self.store is not None:
            self.store.flush()

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        return (self.state_dir / "tls" / "ca.crt").read_bytes()

    def kubeconfig(self, namespace: str = "default") -> dict:
        if not self.token:
            raise LabkitError("apiserver.not_started", name=self.name)
        return kubeconfig(self.name, self.url, self.ca_pem, self.token, namespace)

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        """Write a kubeconfig (mode 0600) whose context, cluster and user are the lab's name."""
        return write_kubeconfig(Path(path), self.kubeconfig(namespace))

    # --- running in a background thread ------------------------------------------------------
    def start_in_thread(self, timeout: float = 30.0) -> ApiServer:
        """Run the server on its own event loop in a daemon thread; returns once it listens."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"apiserver-{self.name}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise LabkitError("apiserver.start_timeout", name=self.name, seconds=timeout)
        if failure:
            raise failure[0]
        return self

    def call(self, coro, timeout: float = 30.0):
        """Run a coroutine on the server's loop from another thread (tests, sync callers)."""
        if self._loop is None:
            raise LabkitError("apiserver.not_started", name=self.name)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop_in_thread(self, timeout: float = 30.0) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._thread = self._loop = None

    # --- objects every cluster has ---------------------------------------------------------
    def _bootstrap(self, store: Store, api: Api) -> None:
        for ns in objects.SYSTEM_NAMESPACES:
            if store.get(NAMESPACES, "", ns) is None:
                api.create(NAMESPACES, None, {"metadata": {"name": ns}})
        if store.get(SERVICES, "default", "kubernetes") is None:
            api.create(SERVICES, "default", {"metadata": {
                "name": "kubernetes", "labels": {"component": "apiserver",
                                                 "provider": "kubernetes"}},
                "spec": {"clusterIP": api.addresses.address(1), "ports": [
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
        for info in self.runtime.nodes():
            self._publish_node(store, api, info)

    def _publish_node(self, store: Store, api: Api, info: NodeInfo) -> None:
        current = store.get(NODES, "", info.name)
        labels = {"kubernetes.io/hostname": info.name, "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "beta.kubernetes.io/arch": "amd64", **info.labels}
        for role in info.roles:
            labels[f"node-role.kubernetes.io/{role}"] = ""
        stamp = objects.now()
        conditions = [
            {"type": kind, "status": "False", "reason": reason, "message": message,
             "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}
            for kind, reason, message in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))]
        conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                           "message": "kubelet is posting ready status", "lastHeartbeatTime": stamp,
                           "lastTransitionTime": stamp})
        spec: dict[str, Any] = {"podCIDR": info.pod_cidr, "podCIDRs": [info.pod_cidr],
                "providerID": f"labkit://{info.name}"}
        if info.taints:
            spec["taints"] = [dict(t) for t in info.taints]
        status = {
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": info.internal_ip},
                          {"type": "Hostname", "address": info.name}],
            "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "20Gi"},
            "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110",
                            "ephemeral-storage": "20Gi"},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "",
                         "kernelVersion": platform.release(),
                         "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "labkit://0.1.0",
                         "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                         "operatingSystem": "linux", "architecture": "amd64"}}
        if current is None:
            api.create(NODES, None, {"metadata": {"name": info.name, "labels": labels},
                                     "spec": spec})
            current = store.get(NODES, "", info.name)
            assert current is not None          # just created
        new = copy.deepcopy(current)
        new["metadata"].setdefault("labels", {}).update(labels)
        new["spec"] = {**new.get("spec", {}), **spec}
        new["status"] = status
        store.put(NODES, new)
