"""A second pod network as Multus gives it: a NetworkAttachmentDefinition (macvlan on the nodes'
eth1), two pods on two nodes that name it in k8s.v1.cni.cncf.io/networks get net1, report it in
k8s.v1.cni.cncf.io/network-status, and ping each other over it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "mv17"
MANIFEST = """apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: {name: macvlan-conf}
spec:
  config: '{"cniVersion": "0.3.1", "type": "macvlan", "master": "eth1", "mode": "bridge",
            "ipam": {"type": "host-local", "subnet": "192.168.100.0/24"}}'
---
apiVersion: v1
kind: Pod
metadata: {name: m1, annotations: {k8s.v1.cni.cncf.io/networks: macvlan-conf}}
spec: {nodeName: mv17-worker, containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: m2, annotations: {k8s.v1.cni.cncf.io/networks: macvlan-conf}}
spec: {nodeName: mv17-worker2, containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec: {nodeName: mv17-worker, containers: [{name: c, image: nginx}]}
"""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp(NAME)), KUBECONFIG=str(kubeconfig_file(NAME)))

    def run(*args, input=None, check=True):
        return subprocess.run([KUBECTL, *args], input=input, env=env, check=check, capture_output=True,
                              text=True, timeout=60)

    run("apply", "-f", "-", input=MANIFEST)
    run("wait", "--for=condition=Ready", "pod/m1", "pod/m2", "pod/plain", "--timeout=60s")
    yield run
    lifecycle.down(NAME)


def links(kubectl, pod):
    return {l["ifname"]: l for l in json.loads(kubectl("exec", pod, "--", "ip", "-j", "addr").stdout)}


def test_two_interfaces_and_a_ping_over_the_second_network(kubectl):
    m1, m2 = links(kubectl, "m1"), links(kubectl, "m2")
    assert set(m1) == set(m2) == {"lo", "eth0", "net1"}
    assert set(links(kubectl, "plain")) == {"lo", "eth0"}
    ip2 = next(a["local"] for a in m2["net1"]["addr_info"] if a["family"] == "inet")
    assert ip2.startswith("192.168.100.")
    ping = kubectl("exec", "m1", "--", "ping", "-c", "1", "-W", "2", "-I", "net1", ip2, check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr

    pod = json.loads(kubectl("get", "pod", "m1", "-o", "json").stdout)
    status = json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
    assert [s["interface"] for s in status] == ["eth0", "net1"]
    assert status[0]["default"] is True and status[0]["ips"] == [pod["status"]["podIP"]]
    assert status[1]["name"] == "default/macvlan-conf" and status[1]["mac"] == m1["net1"]["address"]
    assert "default" not in status[1]


def test_the_pod_network_diagram_draws_the_second_network(kubectl):
    """What the learner sees: the live lab's pod layer has the net1 bar, a row per attached pod, tabs."""
    import labkit
    from labkit import diagrams

    m2 = links(kubectl, "m2")
    ip2 = next(a["local"] for a in m2["net1"]["addr_info"] if a["family"] == "inet")
    svg = diagrams.pod_network(labkit.connect(lab=NAME).snapshot(), lang="en").svg
    assert "second network default/macvlan-conf (Multus): 2 pods, interface net1" in svg
    assert f"net1 {ip2}" in svg
    assert 'id="multus/default/m1"' in svg and 'id="multus/default/m2"' in svg
    assert 'id="multus/default/plain"' not in svg
