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


BACK_TO_BACK = """apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: {{name: nad{i}}}
spec:
  config: '{{"cniVersion": "0.3.1", "type": "macvlan", "master": "eth1", "mode": "bridge",
            "ipam": {{"type": "host-local", "subnet": "192.168.101.0/24"}}}}'
---
apiVersion: v1
kind: Pod
metadata: {{name: r{i}, annotations: {{k8s.v1.cni.cncf.io/networks: nad{i}}}}}
spec: {{nodeName: {node}, containers: [{{name: c, image: nginx}}]}}
"""
ROUNDS = 12


def test_a_definition_created_just_before_its_pod_gives_net1_every_time(kubectl):
    """The notebook's order, the definition 0 s old when its pod is wired: net1, every round.
    Pods of a round go to both workers and are created at once (the wiring of one pod runs while
    the next is being created); then the pods and definitions go, and the next round starts."""
    for start in range(0, ROUNDS, 3):
        rounds = range(start, start + 3)
        kubectl("apply", "-f", "-", input="---\n".join(
            BACK_TO_BACK.format(i=i, node=f"{NAME}-worker{'2' if i % 2 else ''}") for i in rounds))
        kubectl("wait", "--for=condition=Ready", *(f"pod/r{i}" for i in rounds), "--timeout=60s")
        for i in rounds:
            assert set(links(kubectl, f"r{i}")) == {"lo", "eth0", "net1"}, i
        kubectl("delete", "pod", *(f"r{i}" for i in rounds), "--wait=true")
        kubectl("delete", "net-attach-def", *(f"nad{i}" for i in rounds))


def test_a_pod_whose_definition_is_missing_waits_for_it_then_gets_net1(kubectl):
    """As Multus: a missing definition fails the pod's sandbox (a Warning event naming it), the
    kubelet retries, and once the definition exists the pod comes up with net1."""
    kubectl("apply", "-f", "-", input=BACK_TO_BACK.format(i=90, node=f"{NAME}-worker").split("---\n")[1])
    events = ""
    for _ in range(60):
        events = kubectl("get", "events", "--field-selector", "involvedObject.name=r90").stdout
        if "network-attachment-definition" in events:
            break
        subprocess.run(["sleep", "0.5"], check=True)
    assert "cannot find a network-attachment-definition (nad90) in namespace (default)" in events, events
    phase = kubectl("get", "pod", "r90", "-o", "jsonpath={.status.phase}").stdout
    assert phase == "Pending", phase
    kubectl("apply", "-f", "-", input=BACK_TO_BACK.format(i=90, node=f"{NAME}-worker").split("---\n")[0])
    kubectl("wait", "--for=condition=Ready", "pod/r90", "--timeout=60s")
    assert set(links(kubectl, "r90")) == {"lo", "eth0", "net1"}
    kubectl("delete", "pod", "r90", "--wait=true")
    kubectl("delete", "net-attach-def", "nad90")


def test_the_same_pod_made_again_after_its_namespace_went_gets_net1(kubectl):
    """Notebook 01 run twice: its clean-up deletes the namespace (the definition with it, before its
    pods), and the next run makes the same pod again. host-local still holds the first pod's
    second-network address; the new sandbox has an ID of its own, so it gets one too (before: a
    'duplicate allocation' error, and the pod never started)."""
    manifest = ("apiVersion: v1\nkind: Namespace\nmetadata: {name: again}\n---\n"
                + BACK_TO_BACK.format(i=77, node=f"{NAME}-worker").replace("metadata: {name: nad77}",
                                                                            "metadata: {name: nad77, namespace: again}")
                .replace("metadata: {name: r77,", "metadata: {name: r77, namespace: again,"))
    for _ in range(2):
        kubectl("apply", "-f", "-", input=manifest)
        kubectl("-n", "again", "wait", "--for=condition=Ready", "pod/r77", "--timeout=60s")
        got = {l["ifname"] for l in json.loads(kubectl("-n", "again", "exec", "r77", "--", "ip", "-j", "addr").stdout)}
        assert got == {"lo", "eth0", "net1"}, got
        kubectl("delete", "namespace", "again", "--wait=true", "--timeout=60s")
