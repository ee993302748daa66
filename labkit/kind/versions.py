"""Every version the kind path installs, in ONE place.

A workshop must build the same cluster next month as today: nothing here says "latest". When a
version moves, change it here and nowhere else (the config, the install plan, the probe pod and
the tests read these names). The kind node image carries its digest, as kind's release notes
publish it (v0.27.0: default image ``kindest/node:v1.32.2@sha256:f226...142f``); the manifests
are pinned by their release tag in the URL.
"""
from __future__ import annotations

KIND_VERSION = "v0.27.0"
KUBERNETES_VERSION = "v1.32.2"
NODE_IMAGE = ("kindest/node:v1.32.2"
              "@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f")

CALICO_VERSION = "v3.29.2"
CALICO_MANIFEST = f"https://raw.githubusercontent.com/projectcalico/calico/{CALICO_VERSION}/manifests/calico.yaml"

FLANNEL_VERSION = "v0.26.4"
FLANNEL_MANIFEST = f"https://github.com/flannel-io/flannel/releases/download/{FLANNEL_VERSION}/kube-flannel.yml"

CILIUM_VERSION = "1.17.1"
CILIUM_HELM_REPO = "https://helm.cilium.io/"
CILIUM_CHART = "cilium/cilium"

KUBE_ROUTER_VERSION = "v2.5.0"
_KR = f"https://raw.githubusercontent.com/cloudnativelabs/kube-router/{KUBE_ROUTER_VERSION}/daemonset"
# The manifests leave the image untagged (pulled "Always"): ``manifests.kube_router`` pins it to
# this same release.
KUBE_ROUTER_MANIFEST = f"{_KR}/kubeadm-kuberouter.yaml"                    # routing + policy
KUBE_ROUTER_ALL_FEATURES_MANIFEST = f"{_KR}/kubeadm-kuberouter-all-features.yaml"  # + IPVS service proxy

# kind node images ship only ptp/host-local/portmap/loopback: flannel and kube-router delegate
# to the reference ``bridge`` plugin, which must be copied into every node first.
CNI_PLUGINS_VERSION = "v1.6.2"
# One tarball per architecture (the release ships linux-amd64, -arm64, ...): ``{arch}`` is the
# node's, as Go names it (``uname -m`` x86_64 -> amd64, aarch64 -> arm64).
CNI_PLUGINS_TARBALL = (f"https://github.com/containernetworking/plugins/releases/download/"
                       f"{CNI_PLUGINS_VERSION}/cni-plugins-linux-{{arch}}-{CNI_PLUGINS_VERSION}.tgz")
CNI_PLUGINS_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                      "s390x": "s390x", "riscv64": "riscv64"}

# The probe pod (labkit.nodes.ProbePodAccess): ip, iptables(-save), nft, conntrack, ipvsadm.
PROBE_IMAGE = "nicolaka/netshoot:v0.13"


def all_versions() -> dict[str, str]:
    """What ``labkit kind versions`` prints (and what a report of a class should record)."""
    return {"kind": KIND_VERSION, "kubernetes": KUBERNETES_VERSION, "node_image": NODE_IMAGE,
            "calico": CALICO_VERSION, "flannel": FLANNEL_VERSION, "cilium": CILIUM_VERSION,
            "kube-router": KUBE_ROUTER_VERSION, "cni-plugins": CNI_PLUGINS_VERSION,
            "probe_image": PROBE_IMAGE}
