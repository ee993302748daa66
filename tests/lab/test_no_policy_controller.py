"""A cluster without a policy controller (``labkit up --no-policy-controller``): the API stores a
deny-all NetworkPolicy, nothing enforces it, the probe sees every pair connect and says why; the
same steps on a lab with the controller see the deny."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file

from .helpers import labkit as labkit_cli

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
PODS = "---\n".join(
    f"""apiVersion: v1
kind: Pod
metadata: {{{{name: {pod}, labels: {{{{app: {pod}}}}}}}}}
spec: {{{{nodeName: {{name}}-{node}, containers: [{{{{name: c, image: nginx, ports: [{{{{containerPort: 80}}}}]}}}}]}}}}
""" for pod, node in (("a", "worker"), ("b", "worker"), ("c", "control-plane")))
DENY_ALL = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: default}
spec: {podSelector: {}}
"""


@pytest.fixture(scope="module", params=[False, True], ids=["without", "with"])
def lab(request, tmp_path_factory):
    controller = request.param
    name = "np17on" if controller else "np17off"
    lifecycle.down(name)
    up = labkit_cli("up", "--name", name, "--nodes", "2", *([] if controller else ["--no-policy-controller"]),
                    check=True)
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp(name)), KUBECONFIG=str(kubeconfig_file(name)))
    subprocess.run([KUBECTL, "apply", "-f", "-"], input=PODS.format(name=name), env=env, check=True,
                   capture_output=True, text=True, timeout=60)
    subprocess.run([KUBECTL, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=60s"], env=env,
                   check=True, capture_output=True, text=True, timeout=90)
    subprocess.run([KUBECTL, "apply", "-f", "-"], input=DENY_ALL, env=env, check=True, capture_output=True,
                   text=True, timeout=60)
    stored = subprocess.run([KUBECTL, "get", "networkpolicy", "deny-all", "-o", "json"], env=env, check=True,
                            capture_output=True, text=True, timeout=60)
    assert json.loads(stored.stdout)["spec"]["podSelector"] == {}     # accepted by the API either way
    yield controller, name, up.stdout
    lifecycle.down(name)


def test_the_probe_sees_what_enforces_the_policy(lab):
    controller, name, up_output = lab
    result = labkit.probe(name, namespaces="default", timeout=1, retries=3)
    pairs = [(s, d) for s in result.pods for d in result.pods if s != d]
    assert len(pairs) == 6
    if controller:
        assert result.ok and not result.unenforced, result.to_table("en")
        assert not any(result.allowed(s, d) for s, d in pairs)
        assert "without a policy controller" not in up_output
    else:
        assert all(result.allowed(s, d) for s, d in pairs), result.to_table("en")
        assert result.unenforced
        assert "without a policy controller" in up_output


def test_cli_probe_and_status_say_so(lab):
    controller, name, _ = lab
    probe = labkit_cli("probe", "--name", name, "--namespaces", "default", "--timeout", "1")
    status = labkit_cli("status", "--name", name)
    if controller:
        assert probe.returncode == 0 and "Nothing seems to enforce" not in probe.stdout
        assert "without a policy controller" not in status.stdout
    else:
        assert probe.returncode == 1
        assert "Nothing seems to enforce NetworkPolicies" in probe.stdout, probe.stdout
        assert "without a policy controller" in status.stdout, status.stdout
