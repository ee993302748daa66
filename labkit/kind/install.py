"""What ``labkit kind up`` runs, as data: the command lines, in order, for one :class:`KindPlan`.

Building the list is pure (the tests compare it, a course author can print it); running it is
:mod:`labkit.kind.up`'s job. Each step names the message that announces it, so the learner sees
in their language what is happening and the exact command that does it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import versions as v
from .config import KindPlan, render
from .manifests import KUBE_ROUTER_KUBECONFIG, kubeconfig

WAIT_TIMEOUT = "300s"


@dataclass(frozen=True)
class Step:
    """One command line; ``stdin`` is fed to it (the kind config for ``kind create``), or the
    manifest at ``fetch`` once ``manifests.EDITS[edit]`` has pinned and adapted it."""

    message: str                         # catalog key announcing the step
    argv: tuple[str, ...]
    stdin: str | None = None
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    fetch: str | None = None             # a manifest URL, downloaded by ``kind up``
    edit: str | None = None              # the ``manifests`` edit applied to it


def kubectl(plan: KindPlan, *args: str) -> tuple[str, ...]:
    return ("kubectl", "--context", plan.context, *args)


def create_step(plan: KindPlan) -> Step:
    return Step("kind.step.create", ("kind", "create", "cluster", "--name", plan.name, "--config", "-"),
                stdin=render(plan), params={"name": plan.name, "cni": plan.cni, "proxy_mode": plan.proxy_mode})


def plugin_steps(plan: KindPlan) -> list[Step]:
    """flannel and kube-router delegate to the ``bridge`` plugin, absent from kind's node image."""
    if plan.cni not in ("flannel", "kube-router"):
        return []
    script = plugins_script()
    return [Step("kind.step.plugins", ("docker", "exec", node, "sh", "-c", script), params={"node": node})
            for node in plan.node_names()]


def plugins_script() -> str:
    """Inside a node: the plugins tarball of the node's own architecture."""
    cases = " ".join(f"{m}) a={g};;" for m, g in v.CNI_PLUGINS_ARCHES.items())
    url = v.CNI_PLUGINS_TARBALL.replace("{arch}", "$a")
    return (f'case "$(uname -m)" in {cases} *) echo "unsupported architecture $(uname -m)" >&2; exit 1;; esac; '
            f'curl -fsSL "{url}" | tar -xz -C /opt/cni/bin ./bridge ./host-local ./loopback')


def cni_steps(plan: KindPlan) -> list[Step]:
    """Install the CNI from its pinned manifest or Helm chart (kindnet comes with kind)."""
    if plan.cni == "kindnet":
        return []
    if plan.cni == "calico":
        params = {"cni": "Calico", "version": v.CALICO_VERSION}
        if plan.proxy_mode == "nftables":          # Felix in nftables mode (see ``manifests``)
            return [Step("kind.step.cni", kubectl(plan, "apply", "-f", "-"), params=params,
                         fetch=v.CALICO_MANIFEST, edit="calico")]
        return [Step("kind.step.cni", kubectl(plan, "apply", "-f", v.CALICO_MANIFEST), params=params)]
    if plan.cni == "flannel":
        return [Step("kind.step.cni", kubectl(plan, "apply", "-f", v.FLANNEL_MANIFEST),
                     params={"cni": "flannel", "version": v.FLANNEL_VERSION})]
    if plan.cni == "kube-router":
        return kube_router_steps(plan)
    return cilium_steps(plan)


def kube_router_steps(plan: KindPlan) -> list[Step]:
    """The pinned manifest; without kube-proxy, the kubeconfig kubeadm did not write (``manifests``)."""
    manifest = v.KUBE_ROUTER_ALL_FEATURES_MANIFEST if plan.cni_replaces_kube_proxy else v.KUBE_ROUTER_MANIFEST
    steps = []
    if plan.cni_replaces_kube_proxy:
        steps.append(Step("kind.step.kubeconfig", kubectl(
            plan, "-n", "kube-system", "create", "configmap", KUBE_ROUTER_KUBECONFIG,
            "--from-file=kubeconfig.conf=/dev/stdin"), stdin=kubeconfig(plan),
            params={"name": KUBE_ROUTER_KUBECONFIG}))
    steps.append(Step("kind.step.cni", kubectl(plan, "apply", "-f", "-"),
                      params={"cni": "kube-router", "version": v.KUBE_ROUTER_VERSION},
                      fetch=manifest, edit="kube-router"))
    return steps


def created_configmaps(plan: KindPlan) -> tuple[str, ...]:
    """ConfigMaps in kube-system that the plan creates itself (for ``manifests.problems``)."""
    return (KUBE_ROUTER_KUBECONFIG,) if plan.cni == "kube-router" and plan.cni_replaces_kube_proxy else ()


def cilium_values(plan: KindPlan) -> list[str]:
    """Helm ``--set`` values: Cilium's kind guide, plus its kube-proxy replacement when asked."""
    values = ["image.pullPolicy=IfNotPresent", "ipam.mode=kubernetes"]
    if plan.cni_replaces_kube_proxy:
        # Without kube-proxy, the agents cannot use the kubernetes Service VIP to find the API.
        # bpf.lbExternalClusterIP: ClusterIPs answer traffic from outside the cluster too, which
        # the host's route to the Service subnet through the control plane relies on (kube-proxy
        # does it by default; Cilium's replacement only with this, per its kube-proxy-free guide).
        values += ["kubeProxyReplacement=true", f"k8sServiceHost={plan.name}-control-plane",
                   "k8sServicePort=6443", "bpf.lbExternalClusterIP=true"]
    return values


def cilium_steps(plan: KindPlan) -> list[Step]:
    params = {"cni": "Cilium", "version": v.CILIUM_VERSION}
    install = ["helm", "--kube-context", plan.context, "upgrade", "--install", "cilium", v.CILIUM_CHART,
               "--version", v.CILIUM_VERSION, "--namespace", "kube-system"]
    for value in cilium_values(plan):
        install += ["--set", value]
    return [Step("kind.step.cni", ("helm", "repo", "add", "cilium", v.CILIUM_HELM_REPO, "--force-update"),
                 params=params),
            Step("kind.step.cni", tuple(install), params=params)]


def wait_step(plan: KindPlan) -> Step:
    return Step("kind.step.wait", kubectl(plan, "wait", "--for=condition=Ready", "nodes", "--all",
                                         f"--timeout={WAIT_TIMEOUT}"))


def plan_steps(plan: KindPlan) -> list[Step]:
    """Every command of ``kind up`` before the host routes (which need the node's IP first)."""
    return [create_step(plan), *plugin_steps(plan), *cni_steps(plan), wait_step(plan)]


def node_ip_argv(node: str) -> tuple[str, ...]:
    return ("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", node)


def route_argvs(plan: KindPlan, node_ip: str) -> list[tuple[str, ...]]:
    """Host routes to the pod and Service subnets through the control-plane node.

    Pods: the node forwards to the right node (its routes, or the CNI's tunnel). Services: the
    node's kube-proxy (or the CNI's replacement) translates the ClusterIP. ``replace`` keeps a
    second ``kind up`` idempotent.
    """
    return [("ip", "route", "replace", cidr, "via", node_ip)
            for cidr in (plan.pod_subnet, plan.service_subnet)]
