"""Take a ``ClusterSnapshot`` of a running embedded lab, straight from its state and namespaces.

Until the lab serves the Kubernetes API, pods come from the lab's own records, shaped as the API
would return them (``metadata``, ``spec.nodeName``, ``status.podIP``...), so that everything
downstream already reads the real form.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from .. import nodes as node_seam
from ..inspect.iptables_save import (
    has_kube_proxy_rules,
    iptables_service_map,
    parse_iptables_save,
)
from ..snapshot import ClusterSnapshot, NodeNetwork, PodNetwork
from .client import EmbeddedLab


def pod_object(p: dict, host_ip: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": p["name"], "namespace": p["namespace"], "labels": p.get("labels") or {}},
        "spec": {"nodeName": p["node"], "containers": [{
            "name": "main", "image": p.get("image") or "emulated",
            "ports": [{"containerPort": port, "protocol": proto} for port, proto in p.get("ports", [])]}]},
        "status": {"phase": "Running", "podIP": p["ip"], "podIPs": [{"ip": p["ip"]}], "hostIP": host_ip},
    }


def _read_node(name: str, plan) -> NodeNetwork:
    access = node_seam.NetnsAccess(plan.name, plan.netns)
    rules = access.run(["iptables-save"])
    dump = parse_iptables_save(rules)
    return NodeNetwork(
        name=plan.name, internal_ip=plan.ip, pod_cidr=plan.pod_cidr,
        roles=["control-plane"] if plan.role == "control-plane" else [],
        interfaces=node_seam.interfaces(access), routes=node_seam.routes(access),
        kube_proxy=iptables_service_map(dump) if has_kube_proxy_rules(dump) else None)


def _read_pod(p: dict) -> PodNetwork:
    access = node_seam.NetnsAccess(f"{p['namespace']}/{p['name']}", p["netns"])
    return PodNetwork(f"{p['namespace']}/{p['name']}", node_seam.interfaces(access), node_seam.routes(access))


def take(lab_name: str = "kubenet", with_pod_networks: bool = True) -> ClusterSnapshot:
    """A snapshot of a running lab through its Kubernetes API (pods, services, policies, labels).

    Same as ``labkit.connect(lab=name).snapshot()``; ``take_from_records`` reads only the lab's
    own pod records (what the data plane knows, without the API).
    """
    from ..cluster import connect

    return connect(lab=lab_name).snapshot(with_pod_networks=with_pod_networks)


def take_from_records(lab_name: str = "kubenet", with_pod_networks: bool = True) -> ClusterSnapshot:
    lab = EmbeddedLab(lab_name)
    plans = lab.spec.node_plans()
    pods = lab.pods()
    ips = {plan.name: plan.ip for plan in plans}
    with ThreadPoolExecutor(8) as pool:
        node_states = list(pool.map(lambda pl: _read_node(lab_name, pl), plans))
        pod_states = list(pool.map(_read_pod, pods)) if with_pod_networks else []
    namespaces = sorted({p["namespace"] for p in pods} | {"default", "kube-system"})
    return ClusterSnapshot(
        name=lab_name, source="embedded", cni=lab.spec.cni, proxy_mode=lab.spec.proxy_mode,
        taken_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        namespaces=[{"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}}}
                    for n in namespaces],
        nodes=node_states, pods=[pod_object(p, ips[p["node"]]) for p in pods],
        pod_networks={s.key: s for s in pod_states}, pod_cidr=lab.spec.pod_cidr)
