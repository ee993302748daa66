"""A Deployment at the lab's pod cap, through the real kubectl (root): every pod it gets answers
with its own name, its Service's EndpointSlice lists them all, and kube-proxy's rules in every
node send the ClusterIP to exactly them; the pods the cap refuses are reported, not lost.

The cap counts every pod, CoreDNS's two included (as a kubelet's max-pods counts every pod on its
node): last session's 1,000-pod benchmark sized the cap to its replicas, got 998 pods, waited for
the other two until its timeout and reported "2 pods never answered".
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

from .helpers import eventually, labkit

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "t20many"
CAP = 26
SYSTEM_PODS = 2          # CoreDNS
REPLICAS = CAP - SYSTEM_PODS + 1     # one more than fits


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME, max_pods=CAP))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp("home")), KUBECONFIG=str(kubeconfig_file(NAME)))

    def run(*args: str) -> str:
        proc = subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    yield run
    lifecycle.down(NAME)


def test_a_deployment_at_the_cap_answers_everywhere(kubectl):
    kubectl("create", "deployment", "many", "--image=jpetazzo/color", f"--replicas={REPLICAS}")
    kubectl("expose", "deployment", "many", "--port=80")

    def pods() -> list[dict]:
        return json.loads(kubectl("get", "pods", "-l", "app=many", "-o", "json"))["items"]
    fit = CAP - SYSTEM_PODS
    running = eventually(pods, lambda items: len(items) == fit and all(
        p["status"].get("phase") == "Running" and p["status"].get("podIP") for p in items),
        "pods Running")
    ips = {p["status"]["podIP"]: p["metadata"]["name"] for p in running}
    assert len(ips) == fit

    # the one pod beyond the cap is refused, and the ReplicaSet says so
    failed = eventually(lambda: json.loads(kubectl("get", "events", "--field-selector=reason=FailedCreate",
                                                   "-o", "json"))["items"], bool, "FailedCreate")
    assert "403" in failed[0]["message"] or "forbidden" in failed[0]["message"].lower()

    # every pod answers with its own name (curl from a worker node)
    worker = EmbeddedLab(NAME).spec.node_plans()[1]
    for ip, name in ips.items():
        out = subprocess.run(["nsenter", f"--net=/run/netns/{worker.netns}", "curl", "-s", "-m", "3",
                              f"http://{ip}/"], capture_output=True, text=True)
        assert out.returncode == 0 and json.loads(out.stdout)["pod"] == name, (ip, out)

    # the Service's EndpointSlice lists every pod, ready
    def slice_ips() -> set[str]:
        items = json.loads(kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=many",
                                   "-o", "json"))["items"]
        return {a for s in items for e in s.get("endpoints") or [] if e["conditions"]["ready"]
                for a in e["addresses"]}
    eventually(slice_ips, lambda got: got == set(ips), "EndpointSlice endpoints")

    # kube-proxy in every node sends the ClusterIP to exactly these pods
    cluster_ip = json.loads(kubectl("get", "service", "many", "-o", "json"))["spec"]["clusterIP"]
    for node in ("control-plane", "worker", "worker2"):
        def proxied(node: str = node) -> set[str]:
            out = labkit("inspect", "kube-proxy", "--node", node, "--name", NAME, "--json", check=True).stdout
            return {ep["ip"] for svc in json.loads(out)["services"]
                    if svc.get("cluster_ip") == cluster_ip for ep in svc["endpoints"]}
        eventually(proxied, lambda got: got == set(ips), f"kube-proxy endpoints on {node}")
