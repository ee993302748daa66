"""The live proofs (``labkit.proofs``) assert the network model's facts on a kindnet lab."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from labkit import proofs
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "pf17"
MANIFEST = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: nginx, ports: [{{containerPort: 80}}, {{containerPort: 81}}]}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec: {{nodeName: {NAME}-worker, containers: [{{name: c, image: nginx}}]}}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp(NAME)), KUBECONFIG=str(kubeconfig_file(NAME)))
    subprocess.run([KUBECTL, "apply", "-f", "-"], input=MANIFEST, env=env, check=True, capture_output=True,
                   text=True, timeout=60)
    subprocess.run([KUBECTL, "rollout", "status", "deployment/web", "--timeout=60s"], env=env, check=True,
                   capture_output=True, timeout=90)
    subprocess.run([KUBECTL, "wait", "--for=condition=Ready", "pod/client", "--timeout=60s"], env=env,
                   check=True, capture_output=True, timeout=90)
    yield EmbeddedLab(NAME), env
    lifecycle.down(NAME)


def test_nodes_see_each_other_without_nat(lab):
    lab, _ = lab
    proof = proofs.node_to_node(lab, f"{NAME}-worker", f"{NAME}-control-plane")
    assert proof.holds and proof.facts["seen"] == lab.spec.node(f"{NAME}-worker").ip
    assert "a vu la connexion venir de" in proof.render("fr")


def test_pod_to_node_same_node_keeps_the_pod_ip_other_node_is_snatted(lab):
    lab, _ = lab
    client = lab.pod("default/client")
    same = proofs.pod_to_node(lab, "default/client", f"{NAME}-worker")
    assert same.holds and same.facts["seen"] == client["ip"]
    other = proofs.pod_to_node(lab, "default/client", f"{NAME}-worker2")
    assert not other.holds and other.facts["seen"] == lab.spec.node(f"{NAME}-worker").ip   # kindnetd's masquerade
    assert "SNAT" in other.render("en")


def test_services_are_l4(lab):
    lab, env = lab
    svc = json.loads(subprocess.run([KUBECTL, "get", "service", "web", "-o", "json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)
    web = next(p for p in lab.pods() if p["name"].startswith("web-"))
    proof = proofs.service_is_l4(lab, "default/client", svc["spec"]["clusterIP"], 80, web["ip"], other_port=81)
    assert proof.facts["ping_pod"] and not proof.facts["ping_service"]
    assert proof.facts["open_port"] and not proof.facts["other"]       # 81 served by the pods, not exposed
    assert proof.holds and "pas de réponse" in proof.render("fr")


def test_service_ip_survives_its_pods(lab):
    lab, _ = lab
    proof = proofs.service_ip_survives(NAME, "web")
    assert proof.holds, proof.render("en")
    assert proof.facts["before"] == proof.facts["after"] and len(proof.facts["new"]) == 2
    assert not set(proof.facts["old"]) & set(proof.facts["new"])
