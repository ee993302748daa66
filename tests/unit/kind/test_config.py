"""``labkit kind config``: every CNI and kube-proxy mode gives a kind Cluster; bad combinations exit 2."""
from __future__ import annotations

import itertools

import pytest
import yaml

from labkit import i18n
from labkit.cli.main import main
from labkit.errors import BadInput
from labkit.kind import CNIS, PROXY_MODES, KindPlan, kind_config, versions
from labkit.kind.config import REPLACES_KUBE_PROXY

VALID = [(c, m) for c, m in itertools.product(CNIS, PROXY_MODES)
         if not (m == "none" and c not in REPLACES_KUBE_PROXY) and not (c == "cilium" and m == "ipvs")]
INVALID = [(c, m) for c, m in itertools.product(CNIS, PROXY_MODES) if (c, m) not in VALID]


@pytest.mark.parametrize("cni,mode", VALID)
def test_config_for_every_valid_combination(cni, mode, capsys):
    assert main(["kind", "config", "--cni", cni, "--proxy-mode", mode, "--workers", "2", "--name", "lab1"]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["kind"] == "Cluster" and doc["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert doc["name"] == "lab1"
    net = doc["networking"]
    assert net["kubeProxyMode"] == mode
    assert net.get("disableDefaultCNI", False) is (cni != "kindnet")
    assert net["podSubnet"] == ("192.168.0.0/16" if cni == "calico" else "10.244.0.0/16")
    assert net["serviceSubnet"] == "10.96.0.0/16"
    assert [n["role"] for n in doc["nodes"]] == ["control-plane", "worker", "worker"]
    assert {n["image"] for n in doc["nodes"]} == {versions.NODE_IMAGE}


def test_kindnet_does_not_disable_the_default_cni():
    assert "disableDefaultCNI" not in kind_config(KindPlan("kindnet"))["networking"]


def test_workers_count_and_node_names():
    plan = KindPlan("flannel", workers=0, name="solo")
    assert [n["role"] for n in kind_config(plan)["nodes"]] == ["control-plane"]
    assert KindPlan(workers=3, name="k").node_names() == ["k-control-plane", "k-worker", "k-worker2", "k-worker3"]
    assert KindPlan(name="k").context == "kind-k"


@pytest.mark.parametrize("cni,mode", INVALID)
def test_bad_combinations_exit_2_with_one_line(cni, mode, capsys):
    assert main(["kind", "config", "--cni", cni, "--proxy-mode", mode]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("labkit: ")
    assert f"--cni {cni}" in captured.err and f"--proxy-mode {mode}" in captured.err


def test_proxy_none_names_the_cnis_that_replace_kube_proxy(capsys):
    assert main(["kind", "config", "--cni", "calico", "--proxy-mode", "none"]) == 2
    err = capsys.readouterr().err
    assert "cilium" in err and "kube-router" in err


def test_french_message(capsys):
    try:
        assert main(["--lang", "fr", "kind", "config", "--cni", "cilium", "--proxy-mode", "ipvs"]) == 2
        assert "ne cohabite pas avec IPVS" in capsys.readouterr().err
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize("kwargs,key", [
    ({"cni": "weave"}, "kind.bad_cni"),
    ({"proxy_mode": "userspace"}, "kind.bad_proxy_mode"),
    ({"workers": -1}, "kind.bad_workers"),
    ({"workers": 11}, "kind.bad_workers"),
    ({"name": "Bad_Name"}, "kind.bad_name"),
    ({"name": "-x"}, "kind.bad_name"),
])
def test_bad_values(kwargs, key):
    with pytest.raises(BadInput) as err:
        KindPlan(**kwargs)
    assert err.value.key == key and err.value.exit_code == 2


def test_versions_command_lists_pinned_versions(capsys):
    import json

    assert main(["kind", "versions"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["calico"] == versions.CALICO_VERSION and "@sha256:" in data["node_image"]
    assert all("latest" not in str(v) for v in data.values())
