"""Every CNI x kube-proxy mode of ``kind up``: images pinned, each mode's prerequisites present.

The manifests below are shaped as upstream writes them at the pinned releases (kube-router
daemonset/kubeadm-kuberouter*.yaml v2.5.0: untagged image pulled Always, kubeconfig from the
kube-proxy ConfigMap in the all-features one; Calico manifests/calico.yaml v3.29.2: tagged
images, calico-node env list). They were written for the tests, not copied; ``problems`` gives
the same verdicts on the real files (checked against the upstream repositories when this landed).
"""
import textwrap

import pytest

from labkit.kind import KindPlan, plan_steps, versions
from labkit.kind.config import CNIS, PROXY_MODES, kind_config
from labkit.kind.install import created_configmaps
from labkit.kind.manifests import edited, load, problems

KUBE_ROUTER_ALL = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: kube-router, namespace: kube-system}
    spec:
      template:
        spec:
          initContainers:
          - {name: install-cni, image: docker.io/cloudnativelabs/kube-router, imagePullPolicy: Always}
          containers:
          - {name: kube-router, image: docker.io/cloudnativelabs/kube-router, imagePullPolicy: Always}
          volumes:
          - {name: kube-router-cfg, configMap: {name: kube-router-cfg}}
          - {name: kubeconfig, configMap: {name: kube-proxy}}
    ---
    {apiVersion: v1, kind: ConfigMap, metadata: {name: kube-router-cfg, namespace: kube-system}}
    """)
KUBE_ROUTER = KUBE_ROUTER_ALL.replace("configMap: {name: kube-proxy}",
                                      "hostPath: {path: /var/lib/kube-router/kubeconfig}")
CALICO = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: calico-node, namespace: kube-system}
    spec:
      template:
        spec:
          initContainers:
          - {name: install-cni, image: docker.io/calico/cni:v3.29.2}
          containers:
          - name: calico-node
            image: docker.io/calico/node:v3.29.2
            env: [{name: CALICO_NETWORKING_BACKEND, valueFrom: {configMapKeyRef: {name: calico-config, key: calico_backend}}}]
          volumes: [{name: cni-net-dir, hostPath: {path: /etc/cni/net.d}}]
    """)
UPSTREAM = {versions.KUBE_ROUTER_MANIFEST: KUBE_ROUTER, versions.KUBE_ROUTER_ALL_FEATURES_MANIFEST: KUBE_ROUTER_ALL,
            versions.CALICO_MANIFEST: CALICO}


def valid_plans():
    for cni in CNIS:
        for mode in PROXY_MODES:
            try:
                yield KindPlan(cni, mode)
            except Exception:      # noqa: BLE001 - combinations KindPlan refuses (tested elsewhere)
                continue


@pytest.mark.parametrize("plan", list(valid_plans()), ids=lambda p: f"{p.cni}-{p.proxy_mode}")
def test_every_stack_is_pinned_and_has_its_prerequisites(plan):
    steps = plan_steps(plan)
    argvs = [" ".join(s.argv) for s in steps]
    assert all("@sha256:" in n["image"] for n in kind_config(plan)["nodes"])
    for step in steps:
        if step.fetch:                                  # downloaded, edited, applied from stdin
            docs = load(edited(step.edit, UPSTREAM[step.fetch], plan))
            assert problems(docs, plan, created_configmaps(plan)) == [], step.fetch
            assert f"/{versions.KUBE_ROUTER_VERSION}/" in step.fetch or versions.CALICO_VERSION in step.fetch
        for word in step.argv:                          # no floating reference anywhere
            assert "latest" not in word and "/master/" not in word
    urls = [s.argv[-1] for s in steps if s.argv[-2:-1] == ("-f",) and s.argv[-1] != "-"]
    assert all(any(v in u for v in (versions.CALICO_VERSION, versions.FLANNEL_VERSION)) for u in urls)
    if plan.cni in ("flannel", "kube-router"):          # the bridge plugin, per node, per arch
        plugin = [s for s in steps if s.message == "kind.step.plugins"]
        assert len(plugin) == len(plan.node_names())
        assert all('case "$(uname -m)"' in s.argv[-1] and versions.CNI_PLUGINS_VERSION in s.argv[-1]
                   for s in plugin)
    if plan.cni == "cilium":
        helm = next(a for a in argvs if a.startswith("helm --kube-context"))
        assert f"--version {versions.CILIUM_VERSION}" in helm
        none = plan.proxy_mode == "none"
        assert ("--set kubeProxyReplacement=true" in helm) == none
        assert ("--set bpf.lbExternalClusterIP=true" in helm) == none
    if plan.cni == "kube-router" and plan.proxy_mode == "none":
        assert any("create configmap kube-router-kubeconfig" in a for a in argvs)
    if plan.cni == "calico" and plan.proxy_mode == "nftables":
        assert any(s.edit == "calico" for s in steps)


def test_the_check_fails_on_upstream_as_is():
    """Unedited, kube-router floats on "latest" and waits for a ConfigMap kubeadm never wrote."""
    plan = KindPlan("kube-router", "none")
    found = problems(load(KUBE_ROUTER_ALL), plan)
    assert any("unpinned image" in p for p in found)
    assert any("'kube-proxy' is neither" in p for p in found)
    nft = KindPlan("calico", "nftables")
    assert problems(load(CALICO), nft) == ["calico-node without FELIX_NFTABLESMODE=Enabled under "
                                           "nftables kube-proxy"]
