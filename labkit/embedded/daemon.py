"""The lab daemon: keeps a lab's pods alive and answers on the control socket.

Started by ``labkit up`` in its own session (``python -m labkit.embedded.daemon --name NAME``),
after the nodes were built. It reloads the state file, serves the pods whose namespaces still
exist (so a restarted daemon picks up where it was), and handles requests. The Kubernetes API
server, its controllers and the node agents (kube-proxy, the policy enforcer, DNS) run in it too.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import neighbours
from .control import MAX_MESSAGE, encode_error
from .echo import EchoResponder
from .paths import control_socket, kubeconfig_file, lab_dir, pid_file
from .permissions import restrict
from .pods import PodManager
from .state import LabState

if TYPE_CHECKING:     # imported where used: the daemon loads each agent when it starts it
    from ..apiserver import ApiServer
    from ..apiserver.api import Api
    from ..apiserver.store import Store
    from .apiproxy import ApiRelay
    from .controller import DebouncedSync
    from .ebpf_proxy import NodePortProxy
    from .loadbalancer import LoadBalancerSpeaker
    from .policy import PolicyEnforcer
    from .runtime import EmbeddedRuntime

MESSAGES = {
    "lab.no_service_proxy": {"en": "lab {name} runs no service proxy yet",
                             "fr": "le lab {name} ne fait encore tourner aucun proxy de services"},
    "lab.bad_agent_action": {"en": "unknown agent action {action!r}: choose stop, start or status",
                             "fr": "action d'agent inconnue {action!r} : choisissez stop, start "
                                   "ou status"},
}


class LabDaemon:
    def __init__(self, state: LabState) -> None:
        self.state = state
        self.echo = EchoResponder()
        self.pods = PodManager(state, self.echo)
        self._stop = asyncio.Event()
        self._companion_lock = asyncio.Lock()
        self.api: ApiServer | None = None
        self.runtime: EmbeddedRuntime | None = None
        self.proxy: DebouncedSync | None = None      # kube-proxy, or the socket LB's agent
        self.nodeports: NodePortProxy | None = None  # ebpf mode: kube-proxy for NodePorts only
        self.lb: LoadBalancerSpeaker | None = None
        self.relay: ApiRelay | None = None
        self.policy: PolicyEnforcer | None = None
        self._services_ready = False     # kube-dns's endpoints programmed in every node (ready())
        self._services_check: asyncio.Task | None = None

    # The API server's parts, for the node agents that ``start_api`` starts once it serves.
    @property
    def _store(self) -> Store:
        if self.api is None or self.api.store is None:
            raise RuntimeError("the lab's API server is not started")
        return self.api.store

    @property
    def _verbs(self) -> Api:
        if self.api is None or self.api.api is None:
            raise RuntimeError("the lab's API server is not started")
        return self.api.api

    @property
    def _runtime(self) -> EmbeddedRuntime:
        if self.runtime is None:
            raise RuntimeError("the lab's API server is not started")
        return self.runtime

    async def handle(self, op: str, args: dict):
        if op == "ping":
            return {"pid": os.getpid(), "name": self.state.spec.name, "ready": self.ready()}
        if op == "status":
            return {"spec": self.state.spec.to_dict(), "api": self.api.url if self.api else None,
                    "pods": [p.summary() for p in self.state.pods.values()]}
        if op == "add_pods":
            return [p.summary() for p in await self.pods.add_pods(args["pods"])]
        if op == "delete_pods":
            return await self.pods.delete_pods(args["pods"])
        if op == "logs":
            return list(self.echo.access_logs.get(args["pod"], []))
        if op == "bird":
            return await self.bird(args["node"], args.get("action", "status"))
        if op == "service-proxy":
            return await self.service_proxy_agent(args["node"], args.get("action", "status"))
        if op == "shutdown":
            self._stop.set()
            return True
        raise ValueError(f"unknown operation {op!r}")

    async def bird(self, node: str, action: str) -> dict:
        """Stop (kill), start or ask about a node's BIRD (the calico flavor's BGP agent)."""
        from ..errors import BadInput
        from .calico_node import CalicoNode

        plan = self.state.spec.node(node)               # BadInput for an unknown node
        if self.state.spec.cni != "calico":
            raise BadInput("lab.no_bird", name=self.state.spec.name, cni=self.state.spec.cni)
        agent = CalicoNode(self.state.spec, plan)
        if action == "stop":
            await asyncio.to_thread(agent.stop_bird)
        elif action == "start":
            await asyncio.to_thread(agent.start_bird)
        elif action != "status":
            raise BadInput("lab.bad_bird_action", action=action)
        return {"node": plan.name, "running": agent.bird_pid() is not None}

    async def node_agent(self, node: str, action: str, agent: str = "bird") -> dict:
        """The API's node agents (``apiserver.nodeagent``): BIRD, or the node's service proxy."""
        if agent == "service-proxy":
            return await self.service_proxy_agent(node, action)
        return await self.bird(node, action)

    async def service_proxy_agent(self, node: str, action: str) -> dict:
        """Stop, start or ask about a node's service proxy: kube-proxy, or the socket LB's agent.

        A stopped agent's node keeps what its kernel holds (rules, or pinned programs and maps)
        and gets no update: as when kube-proxy's or cilium-agent's pod dies on a real node. A
        restart syncs the node in full (kube-proxy) or from the maps it reads back (the agent)."""
        from ..errors import BadInput

        plan = self.state.spec.node(node)               # BadInput for an unknown node
        if self.proxy is None:
            raise BadInput("lab.no_service_proxy", name=self.state.spec.name)
        if action == "stop":
            self.proxy.stop_node(plan.name)
        elif action == "start":
            self.proxy.start_node(plan.name)
            await self.proxy.caught_up(10.0)
        elif action != "status":
            raise BadInput("lab.bad_agent_action", action=action)
        return {"node": plan.name, "running": plan.name not in self.proxy.stopped}

    async def companions(self, action: str, preset: str) -> object:
        """Start, stop or tell the companion labs of this lab (``companions``); one change at a
        time."""
        from . import companions

        name = self.state.spec.name
        if action == "list":
            return await asyncio.to_thread(companions.status, name)
        if action == "status":
            wanted = companions.companion_name(name, preset)      # BadInput for an unknown preset
            listed = await asyncio.to_thread(companions.status, name)
            return next(c for c in listed if c["name"] == wanted)
        async with self._companion_lock:
            if action == "stop":
                return await asyncio.to_thread(companions.stop, name, preset)
            info = await asyncio.to_thread(companions.start, name, preset)
        return dict(info, kubeconfig=companions.kubeconfig_text(info["name"]))

    def ready(self) -> bool:
        """The cluster is usable: the API serves and the system pods (CoreDNS) run."""
        if self.api is None or self.api.store is None:
            return False
        from ..apiserver.resources import BY_KEY

        system = [p for p in self.api.store.list(BY_KEY["core/pods"], "kube-system")]
        if not (system and all(p.get("status", {}).get("phase") == "Running" for p in system)):
            return False
        # Running CoreDNS pods are not yet a usable cluster: kube-dns's EndpointSlice must list them
        # and the service proxy must have programmed it, or a pod's first lookup is refused (kind's
        # `--wait` waits for the control plane to be Ready in the same spirit)
        if not self._services_ready and self._services_check is None:
            try:
                loop = asyncio.get_running_loop()
                self._services_check = loop.create_task(self._confirm_services())
            except RuntimeError:
                return False
        return self._services_ready

    async def _confirm_services(self) -> None:
        from ..apiserver.resources import BY_KEY

        store, deadline = self._store, time.monotonic() + 15.0
        try:
            while time.monotonic() < deadline:
                running = sum(1 for p in store.list(BY_KEY["core/pods"], "kube-system")
                              if p.get("status", {}).get("phase") == "Running")
                slices = store.list(BY_KEY["discovery.k8s.io/endpointslices"], "kube-system")
                listed = sum(len(s.get("endpoints") or []) for s in slices
                             if (s.get("metadata", {}).get("labels") or {})
                             .get("kubernetes.io/service-name") == "kube-dns")
                if listed >= running:
                    break
                await asyncio.sleep(0.05)
            for proxy in (self.proxy, self.nodeports):
                if proxy is not None:
                    await proxy.caught_up(max(1.0, deadline - time.monotonic()))
        finally:
            self._services_ready = True     # bounded: a lab without kube-dns still comes up

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            request = json.loads(line)
            try:
                result = await self.handle(request["op"], request.get("args", {}))
                reply = {"ok": True, "result": result}
            # every failure goes back to the caller, the daemon stays up
            except Exception as exc:  # noqa: BLE001
                reply = {"ok": False, "error": encode_error(exc)}
            writer.write((json.dumps(reply) + "\n").encode())
            await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def run(self) -> None:
        name = self.state.spec.name
        neighbours.fit(self.state.spec.max_pods)    # the kernel's ARP table holds every pod
        await self.pods.restore()
        await self.start_api()
        path = control_socket(name)
        if path.exists():
            path.unlink()
        server = await asyncio.start_unix_server(self._client, path=str(path), limit=MAX_MESSAGE)
        os.chmod(path, 0o600)
        pid_file(name).write_text(f"{os.getpid()}\n")
        restrict(lab_dir(name))             # the lab's files are root's (see ``permissions``)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        print(f"labkit daemon for {name!r} ready (pid {os.getpid()})", flush=True)
        await self._stop.wait()
        server.close()
        if self.relay:
            self.relay.close()
        if self.proxy:
            await self.proxy.stop()
        if self.nodeports:
            await self.nodeports.stop()
        if self.lb:
            await self.lb.stop()
        if self.api:
            await self.api.stop()
        await self.echo.stop_all()

    async def start_api(self) -> None:
        """The Kubernetes API on 127.0.0.1, its kubelet driving this lab's pods."""
        from ..apiserver import ApiServer
        from .runtime import EmbeddedRuntime

        spec = self.state.spec
        self.runtime = EmbeddedRuntime(spec, self.pods)
        self.api = api = ApiServer(lab_dir(spec.name) / "api", self.runtime, name=spec.name,
                                   service_cidr=spec.service_cidr, max_pods=spec.max_pods)
        from .nodestate import NodeStateReader
        api.node_state = NodeStateReader(self.state)     # node state for non-root clients
        from ..exercises.noderoute import NodeRouteWriter
        api.node_route = NodeRouteWriter(self.state)     # break-and-fix: `ip route add|del|replace`
        api.node_agent = self.node_agent                 # stop/start a node's BIRD or service proxy
        from .netwatch import NodeWatcher
        # node changes, watched
        api.node_events = events = NodeWatcher((p.name, p.netns) for p in spec.node_plans())
        await events.start()
        from .flows import FlowRunner
        api.node_flows = FlowRunner(self.state)          # trace, capture, probe one flow (non-root)
        api.companions = self.companions                 # a second small lab, from fixed presets
        await api.start()
        api.write_kubeconfig(kubeconfig_file(spec.name))
        await self.guard_host()
        self.start_kube_proxy()
        self.start_load_balancers()
        from .multus import Multus
        self.runtime.after_network = Multus(self.state.spec, self._store).attach   # second networks
        self.start_pod_processes()
        if self.state.spec.policy_controller:
            self.start_policy_enforcer()
        if self.state.spec.proxy_mode == "ebpf":
            self.gate_on_socket_lb()
        self.start_cluster_dns()
        await self.start_api_relay()

    async def start_api_relay(self) -> None:
        """Pods reach the API through the ``kubernetes`` Service, as on kind (see ``apiproxy``)."""
        from ..apiserver.resources import BY_KEY
        from .apiproxy import ApiRelay, kubernetes_endpoints

        control_plane = self.state.spec.node_plans()[0]
        assert self.api is not None
        self.relay = relay = ApiRelay(control_plane.netns, self.api.port)
        await relay.start()
        for key, obj in kubernetes_endpoints(control_plane.ip):
            if self._store.get(BY_KEY[key], "default", "kubernetes") is None:
                self._verbs.create(BY_KEY[key], "default", obj)

    def start_cluster_dns(self) -> None:
        """CoreDNS as kind has it (Deployment + ``kube-dns`` Service), answered by
        ``ClusterDNS``."""
        from ..apiserver.resources import BY_KEY
        from .dns import ClusterDNS, DnsObjects, coredns_objects

        store, api = self._store, self._verbs
        for key, obj in coredns_objects(self.state.spec.dns_ip):
            res = BY_KEY[key]
            if store.get(res, "kube-system", obj["metadata"]["name"]) is None:
                api.create(res, "kube-system", obj)

        def objects() -> DnsObjects:
            return DnsObjects(services=store.list(BY_KEY["core/services"]),
                              endpointslices=store.list(BY_KEY["discovery.k8s.io/endpointslices"]),
                              pods=store.list(BY_KEY["core/pods"]),
                              namespaces=store.list(BY_KEY["core/namespaces"]))

        self.echo.dns_resolver = ClusterDNS(objects).answer

    def start_pod_processes(self) -> None:
        """Containers' processes report their exits and restarts in their pods' status, and
        their restarts and back-off to the kubelet (its Events)."""
        from ..apiserver.container_status import StatusWriter
        from ..apiserver.resources import BY_KEY

        writer = StatusWriter(self._store, BY_KEY["core/pods"])
        self._runtime.processes.status_sink = writer
        if self.api is not None and self.api.controllers is not None:   # restarts, back-off
            self._runtime.processes.event_sink = self.api.controllers.kubelet.container_event

    def start_kube_proxy(self) -> None:
        """kube-proxy in every node, fed by the API store (Services and EndpointSlices)."""
        from ..apiserver.resources import BY_KEY
        from .proxy import KubeProxy

        if self.state.spec.proxy_mode == "ebpf":
            return self.start_ebpf_proxy()

        services, slices = BY_KEY["core/services"], BY_KEY["discovery.k8s.io/endpointslices"]
        store = self._store

        def objects() -> list[dict]:
            return ([{**o, "kind": "Service"} for o in store.list(services)]
                    + [{**o, "kind": "EndpointSlice"} for o in store.list(slices)])

        self.proxy = proxy = KubeProxy(self.state.spec, objects, self._reporter("kube-proxy"))
        proxy.fed = True  # told of each change below: a sync reads the changed Services only
        kinds = {services.key: "Service", slices.key: "EndpointSlice"}

        def on_change(change) -> None:
            if change.key in kinds:
                proxy.object_changed(kinds[change.key], change.type == "DELETED", change.obj)

        store.listeners.append(on_change)
        proxy.start()

    def start_ebpf_proxy(self) -> None:
        """No kube-proxy: a socket-level load balancer in every node (see ``ebpf_proxy``)."""
        from ..apiserver.resources import BY_KEY
        from .ebpf_proxy import EbpfProxy, NodePortProxy

        services, slices = BY_KEY["core/services"], BY_KEY["discovery.k8s.io/endpointslices"]
        pods, store, state = BY_KEY["core/pods"], self._store, self.state

        def objects() -> list[dict]:
            return ([{**o, "kind": "Service"} for o in store.list(services)]
                    + [{**o, "kind": "EndpointSlice"} for o in store.list(slices)])

        def netns_of(node: str) -> list[str]:
            plan = state.spec.node(node)
            return [plan.netns] + [p.netns for p in list(state.pods.values())
                                   if p.node == plan.name]

        self.proxy = proxy = EbpfProxy(state.spec, objects, netns_of,
                                       self._reporter("ebpf-service-proxy"))
        proxy.load()
        self.nodeports = nodeports = NodePortProxy(state.spec, objects,
                                                   self._reporter("kube-proxy"))

        def on_change(change) -> None:
            if change.key in (services.key, slices.key, pods.key):
                proxy.changed()
            if change.key in (services.key, slices.key):
                nodeports.changed()

        store.listeners.append(on_change)
        proxy.start()
        nodeports.start()

    def gate_on_socket_lb(self) -> None:
        """A pod's processes start once its node's socket LB knows the pod's network namespace
        (else a container connecting at once to a ClusterIP would not be translated)."""
        runtime, before, proxy = self._runtime, self._runtime.before_containers, self.proxy
        assert proxy is not None    # started before the gate (``start_api``)

        async def admit(pod: dict, ip: str) -> None:
            if before is not None:
                await before(pod, ip)
            await proxy.caught_up(5.0)

        runtime.before_containers = admit

    async def guard_host(self) -> None:
        """The nodes and pods may not open connections to this machine (see ``guard``)."""
        from . import guard

        await guard.apply(self.state.spec)

    def start_load_balancers(self) -> None:
        """LoadBalancer Services get an address on the node network, as MetalLB's L2 mode on
        kind."""
        from ..apiserver.resources import BY_KEY
        from .loadbalancer import LoadBalancerSpeaker

        watched = {BY_KEY[k].key
                   for k in ("core/services", "discovery.k8s.io/endpointslices", "core/nodes")}
        self.lb = lb = LoadBalancerSpeaker(self.state.spec, self.api)

        def on_change(change) -> None:
            if change.key in watched:
                lb.changed()

        self._store.listeners.append(on_change)
        lb.start()

    def _reporter(self, component: str) -> Callable[[object, BaseException], None]:
        """``report(obj, error)`` for a node controller: one log line and one Event per object
        version (see ``apiserver.isolation``)."""
        from ..apiserver.isolation import Isolation

        return Isolation(self._verbs, component).report

    def start_policy_enforcer(self) -> None:
        """NetworkPolicies enforced in every node (nftables), fed by the API store."""
        from ..apiserver.resources import BY_KEY
        from .admission import PolicyBarrier
        from .policy import WATCHED_KINDS, PolicyEnforcer, store_objects

        barrier, store = PolicyBarrier(), self._store
        self.policy = policy = PolicyEnforcer(self.state.spec, barrier.reader(store_objects(store)),
                                              self._reporter("network-policy-enforcer"))
        barrier.enforcer = policy
        policies = BY_KEY["networking.k8s.io/networkpolicies"]
        barrier.unfiltered = lambda: (not store.count(policies) and policy.filters_nothing())
        self._runtime.before_containers = barrier.admit   # see ``admission``

        def on_change(change) -> None:
            if change.key in WATCHED_KINDS:
                policy.changed()

        store.listeners.append(on_change)
        policy.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit-daemon")
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    state = LabState.load(args.name)
    if state is None:
        print(f"no state for lab {args.name!r}", file=sys.stderr)
        return 1
    asyncio.run(LabDaemon(state).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
