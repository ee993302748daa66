"""The Calico-like flavor for real: BIRD in every node, a full iBGP mesh, pods wired as Calico does.

One lab for the module (``tbgp``, a name no other test uses). Waits poll the kernel's state with a
deadline; no assertion is about how long something took.
"""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import labkit
from labkit import bgp, nodes
from labkit.cluster import _through_api
from labkit.embedded import lifecycle
from labkit.embedded.calico_node import CalicoNode
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.inspect.iproute import parse_routes

from .helpers import echo, host_state
from .helpers import labkit as labkit_cli

NAME = "tbgp"
DEADLINE = 30.0


def poll(test, what: str):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if test():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {DEADLINE:g} s")


def bird_routes(node: str) -> list:
    return [r for r in parse_routes(nodes.embedded_node(NAME, node).run(["ip", "-j", "route", "show"]))
            if r.protocol == "bird"]


MANIFEST = "\n---\n".join(
    f"""apiVersion: v1
kind: Pod
metadata: {{name: {pod}}}
spec: {{nodeName: {NAME}-{node}, containers: [{{name: c, image: nginx, ports: [{{containerPort: 80}}]}}]}}"""
    for pod, node in (("a", "worker"), ("c", "worker2")))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lifecycle.down(NAME)
    before = host_state(NAME)
    lifecycle.up(LabSpec(name=NAME, cni="calico"))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp(NAME)), KUBECONFIG=str(kubeconfig_file(NAME)))
    kubectl = shutil.which("kubectl") or "/usr/bin/kubectl"
    subprocess.run([kubectl, "apply", "-f", "-"], input=MANIFEST, env=env, check=True, capture_output=True,
                   text=True, timeout=60)
    subprocess.run([kubectl, "wait", "--for=condition=Ready", "pod/a", "pod/c", "--timeout=60s"], env=env,
                   check=True, capture_output=True, timeout=90)
    lab = EmbeddedLab(NAME)
    yield lab
    lifecycle.down(NAME)
    after = host_state(NAME)
    assert after == before
    assert not [p for p in subprocess.run(["pgrep", "-a", "bird"], capture_output=True, text=True)
                .stdout.splitlines() if f"/{NAME}/" in p]
    assert not Path(f"/run/labkit/{NAME}").exists()


def test_pods_are_wired_as_calico_does(lab):
    a = lab.pod("a")
    inside = parse_routes(nodes.embedded_pod(NAME, "default/a").run(["ip", "-j", "route", "show"]))
    assert any(r.dst == "default" and r.gateway == "169.254.1.1" for r in inside)
    node = nodes.embedded_node(NAME, "worker")
    links = json.loads(node.run(["ip", "-j", "link", "show"]))
    cali = [l for l in links if l["ifname"].startswith("cali")]
    assert cali and all(l["address"] == "ee:ee:ee:ee:ee:ee" for l in cali)
    host = parse_routes(node.run(["ip", "-j", "route", "show"]))
    assert any(r.dst == a["ip"] and r.dev.startswith("cali") and r.scope == "link" for r in host)
    proxy_arp = node.run(["cat", f"/proc/sys/net/ipv4/conf/{cali[0]['ifname']}/proxy_arp"])
    assert proxy_arp.strip() == "1"


def test_cross_node_pod_to_pod_without_nat(lab):
    a, c = lab.pod("a"), lab.pod("c")
    answer = echo(lab, "a", c["ip"])
    assert answer["node"] == f"{NAME}-worker2" and answer["client_ip"] == a["ip"]


def test_remote_blocks_are_learned_proto_bird(lab):
    spec = lab.spec
    w2_block = CalicoNode(spec, spec.node("worker2")).blocks()[0]
    poll(lambda: any(r.dst == w2_block and r.gateway == spec.node("worker2").ip for r in bird_routes("worker")),
         f"{w2_block} via worker2 in worker")
    assert not any(r.dst.endswith("/32") or "/" not in r.dst for r in bird_routes("worker"))   # blocks, no /32
    assert any(r.type == "blackhole" for r in bird_routes("worker"))                            # its own block
    cluster = labkit.connect(lab=NAME)
    for reader in (cluster, _through_api(NAME, cluster.api)):     # as root, and through the lab's API
        sessions = bgp.sessions(reader, "worker")
        assert len(sessions) == 2 and all(s.established for s in sessions)
    printed = labkit_cli("inspect", "bgp", "--name", NAME, "--node", "worker", "--routes", check=True).stdout
    assert w2_block in printed and "Mesh_" in printed


def test_recogniser_says_calico_and_the_snapshot_has_the_sessions(lab):
    cluster = labkit.connect(lab=NAME)
    snap = cluster.snapshot()
    assert cluster.recognition.cni == "calico" and cluster.recognition.mode == "bgp"
    assert all(len(n.bgp) == 2 for n in snap.nodes)


def test_host_containment_holds_for_the_pool(lab):
    """An address of the pool that no node has a block for is refused on this machine, not routed out."""
    import ipaddress

    unused = str(list(ipaddress.ip_network(lab.spec.pod_cidr).subnets(new_prefix=24))[-1][1])
    out = subprocess.run(["ip", "-j", "route", "get", unused], capture_output=True, text=True)
    routes = json.loads(out.stdout or "[]")
    assert out.returncode != 0 or routes[0].get("dev") == lab.spec.host_link, (unused, out.stdout, out.stderr)


def test_a_dead_bird_withdraws_its_block_and_traffic_recovers(lab):
    """labkit.bgp.outage: kill worker2's BIRD, every other node drops its block (polled), a's
    connection to c fails, BIRD restarts, the block is back everywhere and the connection works."""
    spec, c = lab.spec, lab.pod("c")
    block = CalicoNode(spec, spec.node("worker2")).blocks()[0]
    poll(lambda: any(r.dst == block for r in bird_routes("worker")), "the block learned")
    cluster = labkit.connect(lab=NAME)
    report = bgp.outage(cluster, "default/a", c["ip"], "worker2", timeout=DEADLINE)
    assert report.watched_from == [f"{NAME}-control-plane", f"{NAME}-worker"]
    assert report.traffic_before and report.traffic_failed and report.traffic_back
    assert bgp.bird_running(cluster, "worker2")
    assert echo(lab, "a", c["ip"])["client_ip"] == lab.pod("a")["ip"]
