"""``labkit.connect()`` against a real embedded lab (root): the snapshot comes through the API and
the nodes' namespaces, and a new deployment + service show up in every node's kube-proxy map."""
from __future__ import annotations

import time

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

NAME = "tconn"


@pytest.fixture(scope="module")
def lab():
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME, cni="kindnet"))
    yield NAME
    lifecycle.down(NAME)


def _wait(what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_snapshot_of_a_running_lab(lab):
    from kubernetes import client

    cluster = labkit.connect(lab=lab)
    assert (cluster.name, cluster.kind) == (lab, "embedded")
    spec_nodes = [n.name for n in EmbeddedLab(lab).spec.node_plans()]
    assert cluster.node("worker").name == f"{lab}-worker"

    apps, core = client.AppsV1Api(cluster.api), client.CoreV1Api(cluster.api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    apps.create_namespaced_deployment("demo", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "blue"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "blue"}},
                 "template": {"metadata": {"labels": {"app": "blue"}},
                              "spec": {"containers": [{"name": "blue", "image": "jpetazzo/color",
                                                       "ports": [{"containerPort": 80}]}]}}}})
    core.create_namespaced_service("demo", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "blue"},
                                            "spec": {"selector": {"app": "blue"}, "ports": [{"port": 80}]}})

    def ready_snapshot():
        snap = cluster.snapshot()
        ips = sorted(p["status"].get("podIP") or "" for p in snap.pods
                     if p["metadata"].get("namespace") == "demo" and p["status"].get("phase") == "Running")
        if len(ips) != 3 or "" in ips:
            return None
        for node in snap.nodes:
            entry = node.kube_proxy.get("demo/blue") if node.kube_proxy else None
            if entry is None or sorted(e.ip for e in entry.endpoints) != ips:
                return None
        return snap

    snap = _wait(ready_snapshot)
    assert snap.source == "embedded" and snap.cni == "kindnet" and snap.proxy_mode == "iptables"
    assert cluster.recognition.mode == "ptp" and cluster.recognition.gateway_kind == "ptp"
    assert [n.name for n in snap.nodes] == spec_nodes
    for node in snap.nodes:
        shares = [e.share for e in node.kube_proxy.get("demo/blue").endpoints]
        assert sum(shares) == pytest.approx(1.0) and len(shares) == 3
    assert any(s["metadata"]["name"] == "blue" for s in snap.services)
    assert any(es["metadata"].get("labels", {}).get("kubernetes.io/service-name") == "blue"
               for es in snap.endpointslices)
    blue = [p for p in snap.pods if p["metadata"]["namespace"] == "demo"]
    assert all(f"demo/{p['metadata']['name']}" in snap.pod_networks for p in blue)
    from labkit import diagrams
    assert "kindnet" in diagrams.to_svg(diagrams.pod_network(snap))


def test_connect_by_kubeconfig_finds_the_lab(lab, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_file(lab)))
    cluster = labkit.connect()
    assert (cluster.name, cluster.kind) == (lab, "embedded")


def test_policies_read_the_connected_cluster_and_the_lab_name_alike(lab):
    """``labkit.reachability(labkit.connect())`` reads the API objects of the connected cluster, as
    the lab's name does; a policy created through the API changes both alike."""
    from kubernetes import client

    cluster = labkit.connect(lab=lab)
    before = labkit.reachability(cluster, namespaces="demo")
    assert len(before.pods) == 3 and before.combined == labkit.reachability(lab, namespaces="demo").combined
    client.NetworkingV1Api(cluster.api).create_namespaced_network_policy("demo", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    after = labkit.reachability(cluster, namespaces="demo")
    src, dst = before.pods[0], before.pods[1]
    assert before.allowed(src, dst) and not after.allowed(src, dst)
    assert not labkit.reachability(lab, namespaces="demo").allowed(src, dst)
    assert labkit.explain(cluster, src, dst).allowed is False
