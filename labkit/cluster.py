"""``labkit.connect()``: one cluster (the embedded lab, a kind cluster, any cluster) behind one face.

Every public entry point (``labkit.reachability``, ``explain``, ``probe``, ``trace``, ``capture``,
``service_reachability``, ``show``) takes one *handle*: a :class:`Cluster` (``labkit.connect()``),
a :class:`ClusterSnapshot` (a recorded fixture, a cluster read earlier) or the name of a running
embedded lab. :func:`snapshot` is the one way from a handle to a snapshot, :func:`as_cluster` from
a handle to a live cluster, and :func:`api_client` the one factory of Kubernetes API clients.

A :class:`Cluster` has the official client's ``ApiClient`` (``.api``), a node seam per node
(``.node(name)``: local network namespaces for the embedded lab, ``docker exec`` for kind, a probe
pod elsewhere) and ``.snapshot()``, which reads the Kubernetes objects through the API and each
node's interfaces, routes and rules through the seam, recognises the CNI and returns the
:class:`ClusterSnapshot` every diagram takes.

:func:`build_snapshot` is the pure half: API objects + the text each node printed -> snapshot. The
tests feed it the recorded CNI fixture sets; ``Cluster.snapshot()`` feeds it live output.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from . import nodes as seam
from .embedded.control import running_labs
from .errors import BadInput, LabkitError
from .inspect.batch import BATCH_ADDR_ROUTE, addr_and_routes
from .inspect.bird import parse_protocols
from .inspect.cni import Recognition, ipvs_service_map, parse_ipvsadm, recognize, recognize_cluster
from .inspect.iproute import parse_addr, parse_routes
from .inspect.servicemap import ServiceMap
from .kubeproxy import read_service_map
from .snapshot import ClusterSnapshot, NodeNetwork, PodNetwork

# What is read on each node, and with which read-only command. addr and route are required.
NODE_COMMANDS: dict[str, list[str]] = {
    "addr": ["ip", "-j", "-d", "addr", "show"],
    "route": ["ip", "-j", "route", "show"],
    "iptables": ["iptables-save"],
    "nft": ["nft", "-j", "list", "ruleset"],
    "ipvsadm": ["ipvsadm", "-Ln"],
}
REQUIRED = ("addr", "route")
# Read only on a node whose routes show BIRD's (``proto bird``: Calico, the calico flavor).
BIRD_COMMAND = ["birdc", "show", "protocols"]
# The API lists a snapshot holds: (snapshot field, client class, list method, apiVersion, kind).
API_LISTS = (
    ("namespaces", "CoreV1Api", "list_namespace", "v1", "Namespace"),
    ("nodes", "CoreV1Api", "list_node", "v1", "Node"),
    ("pods", "CoreV1Api", "list_pod_for_all_namespaces", "v1", "Pod"),
    ("services", "CoreV1Api", "list_service_for_all_namespaces", "v1", "Service"),
    ("endpointslices", "DiscoveryV1Api", "list_endpoint_slice_for_all_namespaces", "discovery.k8s.io/v1",
     "EndpointSlice"),
    ("networkpolicies", "NetworkingV1Api", "list_network_policy_for_all_namespaces", "networking.k8s.io/v1",
     "NetworkPolicy"),
)

MESSAGES = {
    "cluster.no_kubeconfig": {
        "en": "no kubeconfig at {path} and no embedded lab running: start one with `labkit up`, or set KUBECONFIG",
        "fr": "pas de kubeconfig dans {path} et aucun lab embarqué en marche : lancez-en un avec `labkit up`, "
              "ou définissez KUBECONFIG"},
    "cluster.unknown_context": {
        "en": "context {context} is not in {path} (contexts: {contexts})",
        "fr": "le contexte {context} n'est pas dans {path} (contextes : {contexts})"},
    "cluster.unknown_node": {
        "en": "no node {node} in cluster {name} (nodes: {nodes})",
        "fr": "pas de nœud {node} dans le cluster {name} (nœuds : {nodes})"},
    "cluster.lab_kubeconfig_unreadable": {
        "en": "lab {name} runs, but its kubeconfig {path} is root's: start the lab with sudo from your account "
              "(it copies one to {copy}), or set KUBECONFIG to a copy you can read",
        "fr": "le lab {name} tourne, mais son kubeconfig {path} appartient à root : démarrez le lab avec sudo "
              "depuis votre compte (il en copie un dans {copy}), ou pointez KUBECONFIG vers une copie lisible"},
    "cluster.api_failed": {
        "en": "the Kubernetes API of {name} did not answer `{what}`: {error}",
        "fr": "l'API Kubernetes de {name} n'a pas répondu à `{what}` : {error}"},
    "cluster.api_unreachable": {
        "en": "cannot reach the Kubernetes API of {name} ({error}); if it is an embedded lab, is its "
              "daemon running? (`labkit status --name {name}`)",
        "fr": "impossible de joindre l'API Kubernetes de {name} ({error}) ; si c'est un lab embarqué, son "
              "démon tourne-t-il ? (`labkit status --name {name}`)"},
    "cluster.bad_handle": {
        "en": "expected a cluster (labkit.connect()), a ClusterSnapshot or the name of a running lab, not {kind}",
        "fr": "attendu : un cluster (labkit.connect()), un ClusterSnapshot ou le nom d'un lab en marche, "
              "pas {kind}"},
    "cluster.embedded_only": {
        "en": "{what} needs the embedded lab (its pods' namespaces on this machine), not {kind}",
        "fr": "{what} demande le lab embarqué (les namespaces de ses pods sur cette machine), pas {kind}"},
    "cluster.needs_live": {
        "en": "{what} needs a live cluster (labkit.connect() or a lab name), not a snapshot",
        "fr": "{what} a besoin d'un cluster en marche (labkit.connect() ou un nom de lab), pas d'un instantané"},
}

Handle = Any    # a Cluster, a ClusterSnapshot, a lab name (or an EmbeddedLab)


def api_client(kubeconfig: str | os.PathLike[str], context: str | None = None) -> Any:
    """The Kubernetes ``ApiClient`` for a kubeconfig (its current context, or ``context``): every
    reader of a cluster's API gets its client here."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig), context=context)


# --- pure: objects + node outputs -> snapshot ------------------------------------------------------
def _internal_ip(node: dict) -> str | None:
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return a.get("address")
    return None


def _roles(node: dict) -> list[str]:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))


def recognize_node(node: dict, outputs: dict[str, str | None]) -> Recognition:
    rec = _recognize_node(node, outputs)
    if outputs.get("bpf_services") is not None:   # ClusterIPs in the socket LB's maps (NodePorts may be nft's)
        from dataclasses import replace

        return replace(rec, service_proxy="ebpf")     # the lab's socket-level load balancer
    return rec


def _recognize_node(node: dict, outputs: dict[str, str | None]) -> Recognition:
    return recognize(parse_addr(outputs.get("addr") or "[]"), parse_routes(outputs.get("route") or "[]"),
                     outputs.get("iptables"), outputs.get("nft"), outputs.get("ipvsadm"),
                     internal_ip=_internal_ip(node), pod_cidr=(node.get("spec") or {}).get("podCIDR"))


def node_service_map(name: str, outputs: dict[str, str | None], rec: Recognition,
                     services: list[dict]) -> ServiceMap | None:
    """The node's kube-proxy (or IPVS) rules as a service map, from whichever backend holds them."""
    nft, iptables, ipvsadm = outputs.get("nft"), outputs.get("iptables"), outputs.get("ipvsadm")
    if rec.service_proxy == "nftables" and nft:
        return read_service_map(nft, f"{name}: nft -j list ruleset")
    if rec.service_proxy == "iptables" and iptables:
        return read_service_map(iptables, f"{name}: iptables-save")
    if rec.service_proxy in ("ipvs", "kube-router-ipvs") and ipvsadm:
        return ipvs_service_map(parse_ipvsadm(ipvsadm), services)
    if rec.service_proxy == "ebpf" and outputs.get("bpf_services") is not None:
        from .bpf.maps import service_map
        from .bpf.nodeports import with_node_ports

        bpf = service_map(outputs["bpf_services"] or "[]", outputs.get("bpf_backends") or "[]", services)
        return with_node_ports(bpf, _node_port_rules(name, outputs.get("nft")))   # NodePorts: nftables
    return None


def _node_port_rules(name: str, nft: str | None) -> ServiceMap | None:
    """kube-proxy's NodePort-only table beside the socket LB (``labkit.bpf.nodeports``), if any."""
    try:
        return read_service_map(nft, f"{name}: nft -j list ruleset") if nft else None
    except BadInput:
        return None


def _pod_cidr(node: dict, net: NodeNetwork, rec: Recognition) -> str | None:
    """Calico allocates its own blocks (the blackholed /26), not the node's podCIDR: draw those."""
    if rec.cni == "calico":
        block = next((r.dst for r in net.routes if r.type == "blackhole" and "/" in r.dst), None)
        if block:
            return block
    return (node.get("spec") or {}).get("podCIDR")


def build_snapshot(name: str, source: str, objects: dict[str, list[dict]],
                   outputs: dict[str, dict[str, str | None]],
                   pod_networks: dict[str, PodNetwork] | None = None) -> tuple[ClusterSnapshot, Recognition]:
    """A snapshot and the cluster's CNI recognition from API objects and what each node printed.

    ``outputs[node]`` maps the keys of :data:`NODE_COMMANDS` to the text the command printed
    (None when it could not run: no nft on the node, no IPVS...).
    """
    nets, recs = [], []
    for node in objects.get("nodes", []):
        node_name = node["metadata"]["name"]
        out = outputs.get(node_name)
        if out is None:
            continue
        rec = recognize_node(node, out)
        net = NodeNetwork(name=node_name, internal_ip=_internal_ip(node), roles=_roles(node),
                          interfaces=parse_addr(out.get("addr") or "[]"), routes=parse_routes(out.get("route") or "[]"),
                          kube_proxy=node_service_map(node_name, out, rec, objects.get("services", [])),
                          bgp=parse_protocols(out.get("bird") or ""), bird_down="bird" in out and out["bird"] is None)
        net.pod_cidr = _pod_cidr(node, net, rec)
        nets.append(net)
        recs.append(rec)
    cluster_rec = recognize_cluster(recs)
    snap = ClusterSnapshot(
        name=name, source=source, cni=cluster_rec.cni, proxy_mode=cluster_rec.proxy_mode,
        taken_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        namespaces=list(objects.get("namespaces", [])), nodes=nets, pods=list(objects.get("pods", [])),
        services=list(objects.get("services", [])), endpointslices=list(objects.get("endpointslices", [])),
        networkpolicies=list(objects.get("networkpolicies", [])), pod_networks=dict(pod_networks or {}))
    return snap, cluster_rec


def read_node_outputs(access: seam.NodeAccess, pool: ThreadPoolExecutor | None = None) -> dict[str, str | None]:
    """Run :data:`NODE_COMMANDS` on a node (at once when given a ``pool`` whose workers are free to
    take them); optional ones that fail (tool absent) give None."""
    jobs = {key: (pool.submit(_try_run, access, argv) if pool else None) for key, argv in NODE_COMMANDS.items()}
    out: dict[str, str | None] = {}
    for key, argv in NODE_COMMANDS.items():
        job = jobs[key]
        text, error = job.result() if job is not None else _try_run(access, argv)
        if error is not None and key in REQUIRED:
            raise error
        out[key] = text
    if '"protocol":"bird"' in (out.get("route") or "").replace(" ", ""):
        out["bird"] = _try_run(access, BIRD_COMMAND)[0]
    from .bpf.nodeports import MARK
    kube_proxy = any(o and ("KUBE-SERVICES" in o or "kube-proxy" in o) for o in (out.get("iptables"), out.get("nft")))
    if not kube_proxy or MARK in (out.get("nft") or ""):   # no kube-proxy, or for NodePorts only: the socket LB
        from .bpf.maps import BACKENDS, SERVICES, dump_argv

        for key, name in (("bpf_services", SERVICES), ("bpf_backends", BACKENDS)):
            out[key] = _try_run(access, dump_argv(access.name, name))[0]
    return out


def _try_run(access: seam.NodeAccess, argv: list[str]) -> tuple[str | None, LabkitError | None]:
    try:
        return access.run(argv), None
    except LabkitError as exc:
        return None, exc


# bench/snapshot_speed.py turns these off for its "before" figure (the reads as they were)
BATCHED_POD_READS = True      # one `ip -batch` per pod instead of `ip addr` + `ip route`
NETLINK_POD_READS = True      # as root: the pods read over netlink in-process (labkit.inspect.rtnl), no process
PARALLEL_READS = True         # the six API lists at once, every node command at once


def read_pod_network(access: seam.NodeAccess) -> PodNetwork | None:
    """A pod's interfaces and routes; None when the pod went away meanwhile. In a local namespace,
    one ``ip -n <netns> -batch -`` process reads both (:mod:`labkit.inspect.batch`): no nsenter, no
    second process."""
    try:
        if BATCHED_POD_READS and isinstance(access, seam.NetnsAccess):
            return _read_local_pod(access)
        return PodNetwork(access.name, seam.interfaces(access), seam.routes(access))
    except LabkitError:
        return None


def read_pods_over_netlink(accesses: list[seam.NetnsAccess]) -> list[PodNetwork]:
    """The pods' views read in-process (:func:`labkit.rtnl_read.read_many`: one netlink socket per
    pod namespace, no process); a pod the reader gives up on (a namespace gone meanwhile, a device
    it does not render) is read with ``ip`` (:func:`read_pod_network`)."""
    from . import rtnl_read

    found = rtnl_read.read_many([a.netns for a in accesses])
    out = []
    for access in accesses:
        got = found.get(access.netns)
        view = PodNetwork(access.name, parse_addr(got[0]), parse_routes(got[1])) if got is not None \
            else read_pod_network(access)
        if view is not None:
            out.append(view)
    return out


def _read_local_pod(access: seam.NetnsAccess) -> PodNetwork | None:
    import subprocess

    proc = subprocess.run(["ip", "-n", access.netns, "-j", "-d", "-batch", "-"], input=BATCH_ADDR_ROUTE,
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        return None
    try:
        addr, routes = addr_and_routes(proc.stdout)
    except ValueError:
        return None
    return PodNetwork(access.name, parse_addr(addr), parse_routes(routes))


def pod_networks_of(items: list[dict]) -> list[PodNetwork]:
    """The daemon's batch answer (``GET /labkit/v1/podnetworks``) as pod views."""
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("pod"), str):
            out.append(PodNetwork(item["pod"], parse_addr(item.get("addr") or []),
                                  parse_routes(item.get("route") or [])))
    return out


def list_objects(api: Any, name: str = "-") -> dict[str, list[dict]]:
    """The snapshot's API objects as plain dicts (the JSON the API sent, ``kind`` restored on items)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    def fetch(cls: str, method: str) -> Any:
        try:
            return getattr(getattr(client, cls)(api), method)(_preload_content=False, _request_timeout=30)
        except ApiException as exc:
            raise LabkitError("cluster.api_failed", name=name, what=f"{method}", error=exc.reason) from exc
        except (HTTPError, OSError) as exc:
            raise LabkitError("cluster.api_unreachable", name=name, error=getattr(exc, "reason", exc)) from exc

    with ThreadPoolExecutor(len(API_LISTS) if PARALLEL_READS else 1) as pool:          # the six lists at once
        answers = list(pool.map(lambda entry: fetch(entry[1], entry[2]), API_LISTS))
    objects: dict[str, list[dict]] = {}
    for (field, _cls, _method, api_version, kind), resp in zip(API_LISTS, answers):
        items = json.loads(resp.data).get("items") or []
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        objects[field] = items
    return objects


def pod_subnet_of_kubeadm_config(data: dict | None) -> str | None:
    """``networking.podSubnet`` of the ``kubeadm-config`` ConfigMap's ClusterConfiguration (kind
    writes it from its ``networking.podSubnet``, see labkit.kind.config); the first range when
    dual-stack lists two."""
    text = (data or {}).get("ClusterConfiguration") or ""
    try:
        conf = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return None
    subnet = ((conf.get("networking") or {}) if isinstance(conf, dict) else {}).get("podSubnet")
    return str(subnet).split(",")[0].strip() or None if subnet else None


def kubeadm_pod_subnet(api: Any) -> str | None:
    """The pod subnet kubeadm was given, read from ``kube-system/kubeadm-config`` (None if absent)."""
    from kubernetes import client

    try:
        cm = client.CoreV1Api(api).read_namespaced_config_map("kubeadm-config", "kube-system", _request_timeout=5)
    except Exception:  # noqa: BLE001 - not kubeadm, no right to read it: the diagram falls back
        return None
    return pod_subnet_of_kubeadm_config(cm.data)


# --- the live cluster ---------------------------------------------------------------------------------
class Cluster:
    """A connected cluster. ``kind`` is ``"embedded"``, ``"kind"`` or ``"cluster"``."""

    def __init__(self, name: str, kind: str, api: Any, access_factory: Callable[[str], seam.NodeAccess],
                 lab: str | None = None, via_api: bool = False) -> None:
        self.name = name
        self.via_api = via_api         # an embedded lab read through its daemon's API (no root)
        self.kind = kind
        self.api = api
        self.lab = lab
        self._factory = access_factory
        self._access: dict[str, seam.NodeAccess] = {}
        self.recognition: Recognition | None = None

    def __repr__(self) -> str:
        return f"Cluster({self.name!r}, kind={self.kind!r})"

    def node_names(self) -> list[str]:
        from kubernetes import client

        return [n.metadata.name for n in client.CoreV1Api(self.api).list_node().items]

    def node(self, name: str) -> seam.NodeAccess:
        """The seam to one node (``worker`` is accepted for ``<cluster>-worker``)."""
        names = self.node_names()
        full = name if name in names else next((n for n in names if n.endswith(f"-{name}")), None)
        if full is None:
            raise LabkitError("cluster.unknown_node", exit_code=2, node=name, name=self.name, nodes=", ".join(names))
        return self._access_of(full)

    def _access_of(self, full: str) -> seam.NodeAccess:
        if full not in self._access:
            self._access[full] = self._factory(full)
        return self._access[full]

    def close(self) -> None:
        """Remove what reading the nodes created (probe pods)."""
        for access in self._access.values():
            close = getattr(access, "close", None)
            if close:
                close()
        self._access.clear()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def objects_snapshot(self) -> ClusterSnapshot:
        """The API objects only (no node is read): what policies and tables need, fast."""
        objects = list_objects(self.api, self.name)
        return ClusterSnapshot(name=self.name, source=self.kind,
                               taken_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               namespaces=objects["namespaces"], pods=objects["pods"],
                               services=objects["services"], endpointslices=objects["endpointslices"],
                               networkpolicies=objects["networkpolicies"])

    def snapshot(self, with_pod_networks: bool = True) -> ClusterSnapshot:
        """Objects through the API, node state through the seam, the CNI recognised."""
        objects = list_objects(self.api, self.name)
        names = [n["metadata"]["name"] for n in objects["nodes"]]
        accesses = [self._access_of(n) for n in names]      # the list just read names them: no other list
        try:
            with ThreadPoolExecutor(8) as pool, ThreadPoolExecutor(len(names) or 1) as per_node:
                # every node's commands at once, the pods' reads in the same pool (it never idles)
                nodes_out = [per_node.submit(read_node_outputs, a, pool if PARALLEL_READS else None) for a in accesses]
                collect = self._pod_networks(objects["pods"], pool) if with_pod_networks and self.kind == "embedded" \
                    else list
                results = [f.result() for f in nodes_out]
                found = collect()
        finally:
            if self.kind == "cluster":
                self.close()                   # probe pods are created on demand and removed after
        pod_networks = {n.key: n for n in found}
        snap, self.recognition = build_snapshot(self.name, self.kind, objects, dict(zip(names, results)),
                                                pod_networks)
        snap.pod_cidr = self.pod_cidr()
        return snap

    def pod_cidr(self) -> str | None:
        """The cluster's pod network (not the union of the nodes' ranges): the embedded lab says it
        (its spec as root, ``GET /labkit/v1/lab`` otherwise); kind and kubeadm clusters keep it in
        the ``kubeadm-config`` ConfigMap (``networking.podSubnet``). None when nobody says."""
        if not hasattr(self, "_pod_cidr"):
            found: str | None = None
            if self.kind == "embedded" and not self.via_api:
                from .embedded.client import EmbeddedLab

                try:
                    found = EmbeddedLab(self.lab or self.name).spec.pod_cidr
                except (LabkitError, OSError, ValueError, KeyError):
                    found = None
            elif self.via_api:
                found = seam.lab_info(self.api).get("podCIDR")
            else:
                found = kubeadm_pod_subnet(self.api)
            if not found:
                return None                    # not remembered: asked again next snapshot
            self._pod_cidr = found
        return self._pod_cidr

    def _pod_networks(self, pods: list[dict], pool: ThreadPoolExecutor) -> Callable[[], list[PodNetwork]]:
        """The pods' own view (their eth0 names the host veth), read in ``pool``; returns the function
        that collects them. Only the embedded lab can enter pods: directly as root (one process per
        pod, :func:`read_pod_network`), or through its daemon's API, which reads them all for one
        request (``GET /labkit/v1/podnetworks``)."""
        if self.via_api and BATCHED_POD_READS:
            batch = pool.submit(seam.pod_networks_via_api, self.api)

            def collect_batch() -> list[PodNetwork]:
                items = batch.result()
                if items is None:                  # a daemon without the batch: pod by pod
                    return self._pod_by_pod(pods, pool)()
                return pod_networks_of(items)
            return collect_batch
        return self._pod_by_pod(pods, pool)

    def _pod_by_pod(self, pods: list[dict], pool: ThreadPoolExecutor) -> Callable[[], list[PodNetwork]]:
        running = [p for p in pods if (p.get("spec") or {}).get("nodeName") and (p.get("status") or {}).get("podIP")
                   and not p["spec"].get("hostNetwork")]
        keys = [(p["metadata"]["namespace"], p["metadata"]["name"], p["spec"]["nodeName"]) for p in running]
        accesses: list[seam.NodeAccess]
        if self.via_api:
            accesses = [seam.LabApiAccess(self.api, node, f"{ns}/{name}") for ns, name, node in keys]
        else:
            spec = self._lab_spec()                # the pods' namespaces are named after them: no call to the daemon
            local = [seam.NetnsAccess(f"{ns}/{name}", spec.pod_netns(ns, name)) for ns, name, _node in keys]
            accesses = list(local)
            if NETLINK_POD_READS and BATCHED_POD_READS:
                read = pool.submit(read_pods_over_netlink, local)
                return read.result
        futures = [pool.submit(read_pod_network, a) for a in accesses]
        return lambda: [n for n in (f.result() for f in futures) if n is not None]

    def _lab_spec(self) -> Any:
        if not hasattr(self, "_spec"):
            from .embedded.client import EmbeddedLab

            self._spec = EmbeddedLab(self.lab or self.name).spec
        return self._spec


# --- connect ---------------------------------------------------------------------------------------
def _explain_root_only_labs() -> None:
    """An ordinary user with no kubeconfig while a lab runs: say how to get one, not just "none"."""
    from .embedded.paths import RUN_ROOT, kubeconfig_file
    from .embedded.userconfig import user_kubeconfig

    if os.geteuid() == 0 or not RUN_ROOT.is_dir():
        return
    labs = sorted(d.name for d in RUN_ROOT.iterdir() if (d / "state.json").exists())
    if labs:
        lab = "kubenet" if "kubenet" in labs else labs[0]
        raise LabkitError("cluster.lab_kubeconfig_unreadable", exit_code=2, name=lab,
                          path=kubeconfig_file(lab), copy=user_kubeconfig(lab))


def _through_api(lab: str, api: Any) -> Cluster:
    """An embedded lab read through its daemon's API (node state included): what non-root uses."""
    return Cluster(lab, "embedded", api, lambda node: seam.LabApiAccess(api, node), lab=lab, via_api=True)


def _embedded(lab: str) -> Cluster:
    from .embedded.client import EmbeddedLab
    from .embedded.paths import kubeconfig_file
    from .embedded.userconfig import user_kubeconfig

    if os.geteuid() != 0:
        path = kubeconfig_file(lab)
        if not os.access(path, os.R_OK):
            path = user_kubeconfig(lab)
        if not path.exists():
            from .embedded.paths import state_file

            if not state_file(lab).exists():           # no such lab (anyone may see that)
                raise LabkitError("lab.not_running", exit_code=1, name=lab)
            raise LabkitError("cluster.lab_kubeconfig_unreadable", exit_code=2, name=lab,
                              path=kubeconfig_file(lab), copy=user_kubeconfig(lab))
        return _through_api(lab, api_client(path))
    spec = EmbeddedLab(lab).spec
    api = api_client(kubeconfig_file(lab))

    def access(node: str) -> seam.NodeAccess:
        plan = spec.node(node)
        return seam.NetnsAccess(plan.name, plan.netns)
    return Cluster(lab, "embedded", api, access, lab=lab)


def _server(config: dict, context: str) -> str | None:
    ctx = next((c for c in config.get("contexts") or [] if c.get("name") == context), None)
    cluster = (ctx or {}).get("context", {}).get("cluster")
    entry = next((c for c in config.get("clusters") or [] if c.get("name") == cluster), None)
    return (entry or {}).get("cluster", {}).get("server")


def _lab_serving(server: str | None) -> str | None:
    """The running embedded lab whose API is ``server`` (its own kubeconfig says so)."""
    from .embedded.paths import kubeconfig_file

    for lab in running_labs():
        try:
            config = yaml.safe_load(kubeconfig_file(lab).read_text())
        except OSError:
            continue
        if server and _server(config, config.get("current-context", lab)) == server:
            return lab
    return None


def connect(context: str | None = None, kubeconfig: str | os.PathLike | None = None,
            lab: str | None = None) -> Cluster:
    """Connect to a cluster and return a :class:`Cluster`.

    With no argument and no ``KUBECONFIG``, a running embedded lab wins (``kubenet`` first).
    Otherwise the kubeconfig's context decides: ``kind-*`` contexts are read with ``docker exec``,
    an embedded lab's API with its netns access, anything else with probe pods.
    """
    if lab:
        return _embedded(lab)
    if context is None and kubeconfig is None and not os.environ.get("KUBECONFIG"):
        labs = running_labs()
        if labs:
            return _embedded("kubenet" if "kubenet" in labs else labs[0])
    path = Path(kubeconfig or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
                or Path.home() / ".kube" / "config").expanduser()
    if not path.exists():
        _explain_root_only_labs()
        raise LabkitError("cluster.no_kubeconfig", exit_code=2, path=path)
    config = yaml.safe_load(path.read_text()) or {}
    names = [c.get("name") for c in config.get("contexts") or []]
    chosen = context or config.get("current-context")
    if not isinstance(chosen, str) or chosen not in names:
        raise LabkitError("cluster.unknown_context", exit_code=2, context=chosen, path=path,
                          contexts=", ".join(str(n) for n in names) or "-")
    served_by = _lab_serving(_server(config, chosen)) if os.geteuid() == 0 else None
    if served_by:
        return _embedded(served_by)
    api = api_client(path, context=chosen)
    if chosen.startswith("kind-"):
        return Cluster(chosen[len("kind-"):], "kind", api, seam.DockerExecAccess)
    behind = seam.lab_behind(api)
    if behind:
        return _through_api(behind, api)
    return Cluster(chosen, "cluster", api, lambda node: seam.ProbePodAccess(api, node))


# --- handles: what every public entry point accepts ------------------------------------------------
def _lab_of_object(handle: Any) -> str | None:
    """The lab name of an ``EmbeddedLab`` (it has ``name`` and ``exec``)."""
    name = getattr(handle, "name", None)
    return name if isinstance(name, str) and callable(getattr(handle, "exec", None)) else None


def lab_name(handle: Handle) -> str | None:
    """The embedded lab behind a handle (None for a snapshot of another kind of cluster)."""
    if isinstance(handle, str):
        return handle
    if isinstance(handle, Cluster):
        return (handle.lab or handle.name) if handle.kind == "embedded" else None
    if isinstance(handle, ClusterSnapshot):
        return handle.name if handle.source == "embedded" else None
    return _lab_of_object(handle)


def as_cluster(handle: Handle, what: str = "this") -> Cluster:
    """A live :class:`Cluster` for a handle: itself, or the running lab of that name."""
    if isinstance(handle, Cluster):
        return handle
    if isinstance(handle, ClusterSnapshot):
        raise BadInput("cluster.needs_live", what=what)
    lab = handle if isinstance(handle, str) else _lab_of_object(handle)
    if lab is None:
        raise BadInput("cluster.bad_handle", kind=type(handle).__name__)
    return connect(lab=lab)


def snapshot(handle: Handle, nodes: bool = True) -> ClusterSnapshot:
    """The one way from a handle to a :class:`ClusterSnapshot`: a snapshot is returned as is; a
    cluster or a lab name is read now, with each node's state (``nodes=False``: the API objects
    only, which is all policies need)."""
    if isinstance(handle, ClusterSnapshot):
        return handle
    cluster = as_cluster(handle)
    return cluster.snapshot() if nodes else cluster.objects_snapshot()
