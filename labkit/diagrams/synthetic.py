"""A bigger cluster for tests, benchmarks and "what does it look like at scale" demos.

Built from a real reference snapshot (kindnet): the same 3 nodes, then ``pods`` pods spread over
the workers in a few deployments (each pod wired as the ptp plugin does: a host veth carrying the
gateway address and a ``/32`` route), ``services`` Services with their EndpointSlices and
kube-proxy rules generated and parsed back per node, and ``policies`` NetworkPolicies.
"""
from __future__ import annotations

import ipaddress
from dataclasses import replace

from ..inspect.iproute import Address, Interface, Route
from ..kubeproxy import NodeContext, from_objects, read_service_map, render_iptables
from ..snapshot import ClusterSnapshot, NodeNetwork

DEPLOYMENTS = (("web", 0.4), ("api", 0.3), ("cache", 0.2), ("job", 0.1))


def _pod(ns: str, name: str, app: str, node: str, ip: str, host_ip: str | None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
            "spec": {"nodeName": node, "containers": [{"name": "main", "image": "jpetazzo/color",
                                                        "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": host_ip}}


def _wire(node, ip: str, n: int) -> None:
    gateway = str(ipaddress.ip_network(node.pod_cidr).network_address + 1)
    index = max((i.index for i in node.interfaces), default=1) + 1
    name = f"veth{n:08x}"
    node.interfaces.append(Interface(name=name, index=index, kind="veth", state="UP", up=True,
                                     addresses=(Address(gateway, 32),), peer_index=2, peer_netnsid=n))
    node.routes.append(Route(dst=ip, dev=name, scope="host"))


def _slice(ns: str, name: str, pods: list[dict]) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{name}-xyz", "namespace": ns, "labels": {"kubernetes.io/service-name": name}},
            "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
            "endpoints": [{"addresses": [p["status"]["podIP"]], "conditions": {"ready": True},
                           "nodeName": p["spec"]["nodeName"]} for p in pods]}


def add_nodes(snap: ClusterSnapshot, count: int) -> None:
    """Grow ``snap`` (kindnet) to ``count`` nodes as kind names them (``worker3``, ``worker4``...): the
    next node IP and /24 each, and on every node a route to every other node's pod range."""
    template = next(n for n in snap.nodes if "control-plane" not in n.roles)
    prefix = template.name.rsplit("-worker", 1)[0]
    while len(snap.nodes) < count:
        i = len(snap.nodes)
        ip = str(ipaddress.ip_address(snap.nodes[-1].internal_ip) + 1)
        cidr = str(ipaddress.ip_network(snap.nodes[-1].pod_cidr).network_address + 256) + "/24"
        eth0 = next(x for x in template.interfaces if x.name == "eth0")
        lo = next(x for x in template.interfaces if x.name == "lo")
        node = NodeNetwork(name=f"{prefix}-worker{i}", internal_ip=ip, pod_cidr=cidr, roles=[],
                           interfaces=[lo, replace(eth0, addresses=(Address(ip, 16),), peer_index=4 + i)],
                           routes=[r for r in template.routes if r.dst in ("default",) or r.dst.startswith("172.")])
        for other in snap.nodes:
            node.routes.append(Route(dst=other.pod_cidr, dev="eth0", gateway=other.internal_ip))
            other.routes.append(Route(dst=cidr, dev="eth0", gateway=ip))
        snap.nodes.append(node)


def synthetic(base: ClusterSnapshot, pods: int = 100, services: int = 20, policies: int = 10,
              namespaces: int = 3, nodes: int | None = None) -> ClusterSnapshot:
    """``base`` (a reference snapshot, not modified) grown to the given sizes (``nodes``: see
    :func:`add_nodes`)."""
    snap = ClusterSnapshot.from_json(base.to_json())
    if nodes:
        add_nodes(snap, nodes)
    workers = [n for n in snap.nodes if "control-plane" not in n.roles and n.pod_cidr]
    used = {p["status"]["podIP"] for p in snap.pods}
    names = [f"team{i}" for i in range(namespaces)]
    snap.namespaces += [{"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}} for ns in names]
    counters = {n.name: 10 for n in workers}
    by_app: dict[tuple[str, str], list[dict]] = {}
    total = 0
    for d, (app, part) in enumerate(DEPLOYMENTS):
        count = round(pods * part) if d < len(DEPLOYMENTS) - 1 else pods - total
        for i in range(count):
            node = workers[(total + i) % len(workers)]
            while True:
                counters[node.name] += 1
                ip = str(ipaddress.ip_network(node.pod_cidr).network_address + counters[node.name])
                if ip not in used:
                    break
            used.add(ip)
            ns = names[d % len(names)]
            pod = _pod(ns, f"{app}-{i}", app, node.name, ip, node.internal_ip)
            snap.pods.append(pod)
            by_app.setdefault((ns, app), []).append(pod)
            _wire(node, ip, total + i)
        total += count
    keys = sorted(by_app)
    for s in range(services):
        ns, app = keys[s % len(keys)]
        name = f"{app}-svc{s}"
        snap.services.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                              "spec": {"type": "ClusterIP", "clusterIP": f"10.96.100.{s + 1}", "selector": {"app": app},
                                       "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}})
        snap.endpointslices.append(_slice(ns, name, by_app[(ns, app)]))
    for p in range(policies):
        ns, app = keys[p % len(keys)]
        snap.networkpolicies.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"allow-{p}", "namespace": ns},
            "spec": {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": keys[(p + 1) % len(keys)][1]}},
                                            "namespaceSelector": {}}],
                                  "ports": [{"protocol": "TCP", "port": 80 + p % 2}]}]}})
    objects = [("synthetic", i, o) for i, o in enumerate(snap.services + snap.endpointslices, start=1)]
    for node in snap.nodes:
        ctx = NodeContext(node_name=node.name, node_ips=(node.internal_ip,), cluster_cidr="10.244.0.0/16",
                          service_cidrs=("10.96.0.0/16",))
        node.kube_proxy = read_service_map(render_iptables(from_objects(objects, node.name), ctx), node.name)
    return snap
