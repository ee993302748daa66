"""The kind cluster config for one network stack: pure description, no Docker.

*Describe first, build second*: :class:`KindPlan` holds the choices (CNI, kube-proxy mode, number
of workers, name) and checks that they make sense together before anything runs; :func:`kind_config`
turns it into the ``kind.x-k8s.io/v1alpha4`` Cluster that ``kind create cluster --config -`` reads.
Each CNI brings the pod subnet it expects (Calico's manifest pool is 192.168.0.0/16; the others
take the node's ``podCIDR`` from kind's default 10.244.0.0/16), so routes, diagrams and kube-proxy's
``clusterCIDR`` agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import BadInput
from .versions import NODE_IMAGE

CNIS = ("kindnet", "calico", "cilium", "flannel", "kube-router")
PROXY_MODES = ("iptables", "nftables", "ipvs", "none")
DEFAULT_NAME = "kubenet"
SERVICE_SUBNET = "10.96.0.0/16"
POD_SUBNETS = {"kindnet": "10.244.0.0/16", "flannel": "10.244.0.0/16", "cilium": "10.244.0.0/16",
               "kube-router": "10.244.0.0/16", "calico": "192.168.0.0/16"}
# CNIs that can take over Services when kube-proxy is not installed (--proxy-mode none).
REPLACES_KUBE_PROXY = ("cilium", "kube-router")
MAX_WORKERS = 10
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class KindPlan:
    """One kind cluster: which CNI, which kube-proxy mode, how many workers, which name."""

    cni: str = "kindnet"
    proxy_mode: str = "iptables"
    workers: int = 2
    name: str = DEFAULT_NAME

    def __post_init__(self) -> None:
        if self.cni not in CNIS:
            raise BadInput("kind.bad_cni", value=self.cni, choices=", ".join(CNIS))
        if self.proxy_mode not in PROXY_MODES:
            raise BadInput("kind.bad_proxy_mode", value=self.proxy_mode, choices=", ".join(PROXY_MODES))
        if not isinstance(self.workers, int) or not 0 <= self.workers <= MAX_WORKERS:
            raise BadInput("kind.bad_workers", value=self.workers, max=MAX_WORKERS)
        if not _NAME.match(self.name):
            raise BadInput("kind.bad_name", value=self.name)
        if self.proxy_mode == "none" and self.cni not in REPLACES_KUBE_PROXY:
            raise BadInput("kind.proxy_none_needs_replacement", cni=self.cni,
                           choices=", ".join(REPLACES_KUBE_PROXY))
        if self.cni == "cilium" and self.proxy_mode == "ipvs":
            raise BadInput("kind.cilium_ipvs")

    # --- what the choices imply ----------------------------------------------------------------
    @property
    def context(self) -> str:
        """The kubeconfig context kind writes: ``kind-<name>``."""
        return f"kind-{self.name}"

    @property
    def pod_subnet(self) -> str:
        return POD_SUBNETS[self.cni]

    @property
    def service_subnet(self) -> str:
        return SERVICE_SUBNET

    @property
    def default_cni(self) -> bool:
        """kindnet is kind's own CNI: everything else needs ``disableDefaultCNI``."""
        return self.cni == "kindnet"

    @property
    def cni_replaces_kube_proxy(self) -> bool:
        return self.proxy_mode == "none"

    def node_names(self) -> list[str]:
        """The node (and container) names kind gives: ``<name>-control-plane``, ``-worker``, ``-worker2``."""
        return [f"{self.name}-control-plane"] + [
            f"{self.name}-worker" + (str(i + 1) if i else "") for i in range(self.workers)]


def kind_config(plan: KindPlan) -> dict[str, Any]:
    """The kind Cluster object for ``plan`` (a dict; :func:`render` writes it as YAML)."""
    networking: dict[str, Any] = {}
    if not plan.default_cni:
        networking["disableDefaultCNI"] = True
    networking["kubeProxyMode"] = plan.proxy_mode
    networking["podSubnet"] = plan.pod_subnet
    networking["serviceSubnet"] = plan.service_subnet
    nodes = [{"role": "control-plane", "image": NODE_IMAGE}]
    nodes += [{"role": "worker", "image": NODE_IMAGE} for _ in range(plan.workers)]
    return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": plan.name,
            "networking": networking, "nodes": nodes}


def render(plan: KindPlan) -> str:
    """The YAML text to feed ``kind create cluster --config -`` (with a header saying what it is)."""
    header = (f"# kind cluster for kubenet-lab: CNI {plan.cni}, kube-proxy {plan.proxy_mode}, "
              f"{plan.workers} worker(s)\n# labkit kind up --cni {plan.cni} --proxy-mode {plan.proxy_mode} "
              f"--workers {plan.workers} --name {plan.name}\n")
    return header + yaml.safe_dump(kind_config(plan), sort_keys=False)
