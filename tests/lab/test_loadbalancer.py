"""LoadBalancer Services, as MetalLB's L2 mode on kind: an address from the node network's pool in
``status.loadBalancer.ingress``, answered from the host through the node that holds it, and moved
to another node when that node goes away (labelled ``exclude-from-external-load-balancers``, as
MetalLB's speakers honour, or its Node object deleted)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.loadbalancer import EXCLUDE_LABEL, pool
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "lb17"
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp(NAME)), KUBECONFIG=str(kubeconfig_file(NAME)))

    def kubectl(*args, input=None):
        return subprocess.run([KUBECTL, *args], input=input, env=env, check=True, capture_output=True, text=True,
                              timeout=60).stdout

    kubectl("apply", "-f", "-", input=MANIFEST)
    kubectl("rollout", "status", "deployment/web", "--timeout=60s")
    yield EmbeddedLab(NAME), kubectl
    lifecycle.down(NAME)


def wait_for(what, check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def holders(lab, ip):
    return [n.name for n in lab.spec.node_plans()
            if f" {ip}/32 " in lab.node_exec(n.name, ["ip", "-o", "addr", "show", "dev", "eth0"]).stdout]


def curl_from_host(ip):
    proc = subprocess.run(["curl", "-s", "-m", "3", f"http://{ip}/"], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def test_external_ip_answers_from_the_host_and_moves(lab):
    lab, kubectl = lab

    def ingress():
        svc = json.loads(kubectl("get", "service", "web", "-o", "json"))
        return ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")

    ip = wait_for("an external IP", ingress)[0]["ip"]
    assert ip == pool(lab.spec.node_cidr)[0]                        # kind's MetalLB pool (172.18.255.200-250)
    assert ip in kubectl("get", "service", "web")                   # EXTERNAL-IP column
    first = wait_for("one node holds it", lambda: holders(lab, ip))
    assert len(first) == 1
    answer = wait_for("the host's curl", lambda: curl_from_host(ip))
    assert answer["pod"].startswith("web-")

    assert host_neighbour(ip) == node_mac(lab, first[0])          # the host sends it to the holder
    time.sleep(1.2)   # the host ignores ARP updates to an entry younger than neigh locktime (1 s)
    kubectl("label", "node", first[0], f"{EXCLUDE_LABEL}=")
    second = wait_for("another node holds it", lambda: [h for h in holders(lab, ip) if h != first[0]])
    assert holders(lab, ip) == second and len(second) == 1
    # the new holder's gratuitous ARP moved the host's entry: the host now sends to the new node
    wait_for("the host's entry for the new holder", lambda: host_neighbour(ip) == node_mac(lab, second[0]))
    answer = wait_for("the host's curl after the move", lambda: curl_from_host(ip))
    assert answer["pod"].startswith("web-")
    assert host_neighbour(ip) == node_mac(lab, second[0])


def host_neighbour(ip):
    words = subprocess.run(["ip", "neigh", "show", ip], capture_output=True, text=True).stdout.split()
    return words[words.index("lladdr") + 1] if "lladdr" in words else None


def node_mac(lab, node):
    return json.loads(lab.node_exec(node, ["ip", "-j", "link", "show", "eth0"]).stdout)[0]["address"]
