"""The live proofs (``labkit.proofs``) assert the network model's facts on a kindnet lab, as root
(the lab's namespaces) and as ``nobody`` with only a copy of the kubeconfig (the lab daemon's
``peer`` flows and ``kubectl exec``), as a learner's JupyterLab kernel runs them."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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


def test_a_node_calling_a_pod_is_seen_with_its_own_address(lab):
    lab, _ = lab
    client = lab.pod("default/client")
    proof = proofs.node_to_pod(lab, f"{NAME}-control-plane", "default/client")
    assert proof.holds and proof.facts["seen"] == lab.spec.node(f"{NAME}-control-plane").ip != client["ip"]
    assert "le pod a vu" in proof.render("fr")


USER_SCRIPT = """
import json, os
from labkit import proofs
lab = os.environ["LAB"]
out = {"uid": os.getuid()}
for key, proof in (("n2n", proofs.node_to_node(lab, "worker", "control-plane")),
                   ("n2p", proofs.node_to_pod(lab, "worker2", "default/client")),
                   ("same", proofs.pod_to_node(lab, "default/client", "worker")),
                   ("other", proofs.pod_to_node(lab, "default/client", "worker2"))):
    out[key] = {"holds": proof.holds, "facts": proof.facts, "text": proof.render("en")}
print(json.dumps(out))
"""


def test_node_proofs_hold_for_an_ordinary_user_through_the_lab_api(lab):
    """``nobody`` (no namespace, no state file) gets the same facts through the daemon's peer flow."""
    lab, _ = lab
    python = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
    user = pwd.getpwnam("nobody")
    home = Path(tempfile.mkdtemp(prefix="labkit-proofs-"))        # not under root's pytest tmp (0700)
    request_cleanup = lambda: shutil.rmtree(home, ignore_errors=True)   # noqa: E731
    (home / ".kube").mkdir()
    copy = home / ".kube" / f"labkit-{NAME}.yaml"
    shutil.copyfile(kubeconfig_file(NAME), copy)
    for path in (home, home / ".kube", copy):
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(copy, 0o600)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", python, "-c", USER_SCRIPT],
                          capture_output=True, text=True, cwd="/", timeout=120,
                          env={"HOME": str(home), "KUBECONFIG": str(copy), "PATH": os.environ["PATH"], "LAB": NAME,
                               "PYTHONPATH": root, "LABKIT_LANG": "en"})
    request_cleanup()
    if proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr:
        pytest.skip(f"nobody cannot run {python} with labkit (set LABKIT_USER_PYTHON)")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    worker, worker2, cp = (lab.spec.node(f"{NAME}-{n}").ip for n in ("worker", "worker2", "control-plane"))
    client = lab.pod("default/client")["ip"]
    assert out["uid"] != 0
    assert out["n2n"]["holds"] and out["n2n"]["facts"]["seen"] == worker, out["n2n"]["text"]
    assert out["n2p"]["holds"] and out["n2p"]["facts"]["seen"] == worker2, out["n2p"]["text"]
    assert out["same"]["holds"] and out["same"]["facts"]["seen"] == client, out["same"]["text"]
    assert not out["other"]["holds"] and out["other"]["facts"]["seen"] == worker       # SNAT to the pod's node
    assert out["other"]["facts"]["how"] == "proof.snat" and "SNAT" in out["other"]["text"]
    assert cp not in {out[k]["facts"]["seen"] for k in ("n2n", "n2p", "same", "other")}


def test_a_peer_flow_to_an_address_nobody_holds_is_refused_by_the_api(lab):
    from labkit.cluster import connect
    from labkit.flowreq import FLOW_PATH
    from labkit.nodes import api_call

    cluster = connect(lab=NAME)
    path = FLOW_PATH.replace("{node}", f"{NAME}-worker").replace("{what}", "peer")
    code, body = api_call(cluster.api, "POST", path, [("ip", "10.244.99.99")])
    assert code == 422 and json.loads(body)["kind"] == "Status" and "10.244.99.99" in json.loads(body)["message"]
    code, body = api_call(cluster.api, "POST", path, [("ip", "1.1.1.1"), ("port", "22")])
    causes = {c["field"] for c in json.loads(body)["details"]["causes"]}
    assert code == 422 and causes == {"ip", "port"}


def test_services_are_l4(lab):
    lab, env = lab
    svc = json.loads(subprocess.run([KUBECTL, "get", "service", "web", "-o", "json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)
    web = next(p for p in lab.pods() if p["name"].startswith("web-"))
    proof = proofs.service_is_l4(lab, "default/client", svc["spec"]["clusterIP"], 80, web["ip"], other_port=81)
    assert proof.facts["ping_pod"] and not proof.facts["ping_service"]
    assert proof.facts["open_port"] and not proof.facts["other"]       # 81 served by the pods, not exposed
    assert proof.facts["pod_other"]                                      # ... answered by the pod itself
    assert proof.holds and "pas de réponse" in proof.render("fr")


def test_a_service_port_range_is_refused_by_the_api(lab):
    proof = proofs.service_port_range_refused(NAME, "default", "ranges", "8000-8100")
    assert proof.holds, proof.render("en")
    assert "BadRequest" in proof.facts["error"] and "int32" in proof.facts["error"], proof.facts
    assert "le serveur d'API l'a refusé" in proof.render("fr")


def test_service_ip_survives_its_pods(lab):
    lab, _ = lab
    proof = proofs.service_ip_survives(NAME, "web")
    assert proof.holds, proof.render("en")
    assert proof.facts["before"] == proof.facts["after"] and len(proof.facts["new"]) == 2
    assert not set(proof.facts["old"]) & set(proof.facts["new"])
