"""``labkit.connect()``: which cluster and which node seam, from the kubeconfig; ``Cluster.snapshot()``
through a real API server (LocalRuntime) with node outputs replayed from a fixture set."""
from __future__ import annotations

import pytest
import yaml

import labkit
from labkit import cluster as cluster_mod
from labkit.errors import LabkitError
from labkit.nodes import DockerExecAccess, ProbePodAccess

from .conftest import load_set


@pytest.fixture(autouse=True)
def no_running_labs(monkeypatch):
    monkeypatch.setattr(cluster_mod, "running_labs", lambda: [])


def _kubeconfig(path, contexts, current):
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": current,
           "clusters": [{"name": c, "cluster": {"server": f"https://127.0.0.1:{6443 + i}"}}
                        for i, c in enumerate(contexts)],
           "users": [{"name": c, "user": {"token": "t"}} for c in contexts],
           "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts]}
    path.write_text(yaml.safe_dump(doc))
    return path


def test_kind_context_uses_docker_exec(tmp_path):
    path = _kubeconfig(tmp_path / "config", ["kind-lab1", "prod"], "kind-lab1")
    c = labkit.connect(kubeconfig=path)
    assert (c.name, c.kind) == ("lab1", "kind")
    assert isinstance(c._factory("lab1-worker"), DockerExecAccess)
    assert c.api.configuration.host == "https://127.0.0.1:6443"


def test_other_context_uses_probe_pods(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "config", ["kind-lab1", "prod"], "kind-lab1")))
    c = labkit.connect("prod")
    assert (c.name, c.kind) == ("prod", "cluster")
    assert isinstance(c._factory("node-1"), ProbePodAccess)


def test_unknown_context_and_missing_kubeconfig(tmp_path, monkeypatch):
    path = _kubeconfig(tmp_path / "config", ["kind-lab1"], "kind-lab1")
    with pytest.raises(LabkitError) as err:
        labkit.connect("staging", kubeconfig=path)
    assert err.value.exit_code == 2 and "kind-lab1" in str(err.value)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    # no lab on this machine, whatever other runs left up
    monkeypatch.setattr(cluster_mod, "running_labs", lambda: [])
    monkeypatch.setattr(cluster_mod, "_explain_root_only_labs", lambda: None)
    with pytest.raises(LabkitError, match="labkit up"):
        labkit.connect()


def test_embedded_lab_is_the_default_when_running(monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setattr(cluster_mod, "running_labs", lambda: ["other", "kubenet"])
    chosen = []
    monkeypatch.setattr(cluster_mod, "_embedded", lambda lab: chosen.append(lab) or lab)
    assert labkit.connect() == "kubenet"
    monkeypatch.setenv("KUBECONFIG", "/nonexistent")          # a KUBECONFIG given: the lab is not assumed
    with pytest.raises(LabkitError):
        labkit.connect()
    assert chosen == ["kubenet"]


class Replay:
    """STAND-IN node seam: replays a fixture set's recorded outputs for one node."""

    def __init__(self, outputs, node):
        self.name = node
        self.out = outputs[node.replace("lab-", "kind-")]

    def run(self, argv):
        key = {"addr": "addr", "route": "route", "iptables-save": "iptables", "nft": "nft", "ipvsadm": "ipvsadm"}
        k = "addr" if "addr" in argv else "route" if "route" in argv else key[argv[0]]
        if self.out.get(k) is None:
            raise LabkitError("nodes.exec_failed", command=argv[0], node=self.name, code=127, error="not found")
        return self.out[k]


def test_snapshot_through_the_api(tmp_path):
    from kubernetes import client, config

    from labkit.apiserver import ApiServer, LocalRuntime

    server = ApiServer(tmp_path / "state", LocalRuntime(), name="snap")
    server.start_in_thread()
    try:
        server.write_kubeconfig(tmp_path / "kubeconfig")
        api = config.new_client_from_config(config_file=str(tmp_path / "kubeconfig"))
        core = client.CoreV1Api(api)
        core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": "web", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        core.create_namespaced_service("default", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
        _, outputs = load_set("flannel-vxlan")
        c = cluster_mod.Cluster("snap", "cluster", api, lambda n: Replay(outputs, n))
        assert c.node("worker").name == "lab-worker"
        with pytest.raises(LabkitError, match="lab-worker2"):
            c.node("worker9")
        snap = c.snapshot()
    finally:
        server.stop_in_thread()
    assert snap.cni == "flannel" and c.recognition.mode == "vxlan" and snap.source == "cluster"
    assert [n.name for n in snap.nodes] == ["lab-control-plane", "lab-worker", "lab-worker2"]
    assert snap.node("lab-worker").pod_cidr == "10.244.1.0/24"
    assert {p["metadata"]["name"] for p in snap.pods} >= {"web"}
    assert all(p["kind"] == "Pod" for p in snap.pods)
    assert any(s["metadata"]["name"] == "web" for s in snap.services)
    assert {n["metadata"]["name"] for n in snap.namespaces} >= {"default", "kube-system"}
    assert snap.node("lab-worker").kube_proxy.get("demo/web") is not None   # the replayed rules


def test_public_api_exports():
    assert {"connect", "Cluster", "ClusterSnapshot"} <= set(labkit.__all__)
    assert labkit.connect is cluster_mod.connect
