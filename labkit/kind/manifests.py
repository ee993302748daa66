"""Upstream CNI manifests as ``kind up`` applies them: pinned, and edited where a mode needs it.

The install plan (:mod:`labkit.kind.install`) names a manifest URL and an edit; ``kind up``
downloads the manifest, applies the edit (pure functions below, tested on manifests shaped as
upstream writes them) and feeds the result to ``kubectl apply -f -``. :func:`problems` is the
check the tests run on every CNI x kube-proxy mode: every image pinned, every prerequisite there.

- kube-router (cloudnativelabs/kube-router daemonset/kubeadm-kuberouter*.yaml): the image is
  ``docker.io/cloudnativelabs/kube-router`` with no tag and ``imagePullPolicy: Always``, so a
  class would run whatever "latest" is that day: pinned to the release whose manifest we take.
  The all-features manifest (kube-router as the service proxy, ``--proxy-mode none``) mounts its
  kubeconfig from the ``kube-proxy`` ConfigMap, which kubeadm creates only when it installs
  kube-proxy: with kind's ``kubeProxyMode: none`` the pods would wait for it forever. ``kind up``
  creates a ``kube-router-kubeconfig`` ConfigMap with the kubeconfig kubeadm would have written
  (service-account token, the control plane's name as the server) and the volume points to it.
- Calico (projectcalico/calico manifests/calico.yaml) with kube-proxy in nftables mode: Felix
  must program nftables too (``NFTablesMode``, felix/config/config_params.go; env
  ``FELIX_NFTABLESMODE=Enabled`` on calico-node), or its iptables rules and kube-proxy's nftables
  rules would each see half of the traffic's story.
"""
from __future__ import annotations

from collections.abc import Callable

import yaml

from .config import KindPlan
from .versions import KUBE_ROUTER_VERSION

KUBE_ROUTER_IMAGE = "docker.io/cloudnativelabs/kube-router"
KUBE_ROUTER_KUBECONFIG = "kube-router-kubeconfig"
WORKLOADS = ("DaemonSet", "Deployment", "StatefulSet", "Job")


def load(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def dump(docs: list[dict]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def pod_specs(docs: list[dict]) -> list[dict]:
    return [d["spec"]["template"]["spec"] for d in docs
            if d.get("kind") in WORKLOADS and d.get("spec", {}).get("template")]


def containers(spec: dict) -> list[dict]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def kubeconfig(plan: KindPlan) -> str:
    """What kubeadm puts in the kube-proxy ConfigMap's ``kubeconfig.conf`` (kubernetes
    cmd/kubeadm/app/phases/addons/proxy/manifests.go ``KubeConfigMap``), for kube-router."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "default", "cluster": {
            "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
            "server": f"https://{plan.name}-control-plane:6443"}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "namespace": "default",
                                                     "user": "default"}}],
        "current-context": "default",
        "users": [{"name": "default", "user": {
            "tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}]}, sort_keys=False)


def kube_router(docs: list[dict], plan: KindPlan) -> list[dict]:
    for spec in pod_specs(docs):
        for c in containers(spec):
            if c.get("image") == KUBE_ROUTER_IMAGE:
                c["image"] = f"{KUBE_ROUTER_IMAGE}:{KUBE_ROUTER_VERSION}"
                c["imagePullPolicy"] = "IfNotPresent"
        if plan.cni_replaces_kube_proxy:
            for volume in spec.get("volumes") or []:
                if (volume.get("configMap") or {}).get("name") == "kube-proxy":
                    volume["configMap"]["name"] = KUBE_ROUTER_KUBECONFIG
    return docs


def calico(docs: list[dict], plan: KindPlan) -> list[dict]:
    if plan.proxy_mode != "nftables":
        return docs
    for spec in pod_specs(docs):
        for c in spec.get("containers") or []:
            if c.get("name") == "calico-node":
                env = [e for e in c.get("env") or [] if e.get("name") != "FELIX_NFTABLESMODE"]
                c["env"] = env + [{"name": "FELIX_NFTABLESMODE", "value": "Enabled"}]
    return docs


EDITS: dict[str, Callable[[list[dict], KindPlan], list[dict]]] = {
    "kube-router": kube_router, "calico": calico}


def edited(edit: str, text: str, plan: KindPlan) -> str:
    return dump(EDITS[edit](load(text), plan))


# --- the check -------------------------------------------------------------------------------
def pinned(image: str) -> bool:
    """A tag other than ``latest``, or a digest."""
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and not last.endswith(":latest")


def problems(docs: list[dict], plan: KindPlan, created: tuple[str, ...] = ()) -> list[str]:
    """What would break or drift: unpinned images, missing ConfigMaps, missing modes (pure).

    ``created``: ConfigMaps the plan creates itself (kube-system)."""
    found = []
    configmaps = {d["metadata"]["name"] for d in docs if d.get("kind") == "ConfigMap"} | set(created)
    for spec in pod_specs(docs):
        for c in containers(spec):
            if not pinned(c.get("image", "")):
                found.append(f"unpinned image {c.get('image')!r} in {c.get('name')}")
        for volume in spec.get("volumes") or []:
            name = (volume.get("configMap") or {}).get("name")
            if name and name not in configmaps and not volume["configMap"].get("optional"):
                found.append(f"ConfigMap {name!r} is neither in the manifest nor created")
        if plan.cni == "calico" and plan.proxy_mode == "nftables":
            node = [c for c in spec.get("containers") or [] if c.get("name") == "calico-node"]
            if node and {"name": "FELIX_NFTABLESMODE", "value": "Enabled"} not in (node[0].get("env") or []):
                found.append("calico-node without FELIX_NFTABLESMODE=Enabled under nftables kube-proxy")
    return found
