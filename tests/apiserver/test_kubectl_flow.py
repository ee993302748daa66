"""The workshop's kubectl flow against the lab API server, with the real /usr/bin/kubectl.

The tests of this module run in order on one server, like a learner typing commands.
"""
from __future__ import annotations

import ipaddress
import json
import re

import pytest

from .conftest import need_kubectl

pytestmark = pytest.mark.usefixtures("kubectl_available")


@pytest.fixture(scope="module")
def kubectl_available():
    need_kubectl()


def pods_json(lab, namespace="demo", selector=None):
    args = ["-n", namespace, "get", "pods", "-o", "json"]
    if selector:
        args += ["-l", selector]
    return json.loads(lab.kubectl(*args, check=True).stdout)["items"]


def test_get_nodes_wide_shows_kind_like_columns(shared_lab):
    out = shared_lab.kubectl("get", "nodes", "-o", "wide", check=True).stdout.splitlines()
    assert out[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP",
                              "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == {"lab-control-plane", "lab-worker", "lab-worker2"}
    assert rows["lab-control-plane"][1:3] == ["Ready", "control-plane"]
    assert rows["lab-worker"][2] == "<none>" and rows["lab-worker"][4] == "v1.32.0"
    assert rows["lab-worker2"][5] == "172.18.0.4"


def test_create_namespace_and_deployment_protobuf_bodies(shared_lab):
    assert shared_lab.kubectl("create", "namespace", "demo", check=True).stdout.strip() == \
        "namespace/demo created"
    out = shared_lab.kubectl("-n", "demo", "create", "deployment", "blue",
                             "--image=jpetazzo/color", "--replicas=3", check=True)
    assert out.stdout.strip() == "deployment.apps/blue created"
    again = shared_lab.kubectl("-n", "demo", "create", "deployment", "blue", "--image=x")
    assert again.returncode == 1
    assert 'deployments.apps "blue" already exists' in again.stderr


def test_pods_get_ips_in_their_node_pod_cidr(shared_lab):
    shared_lab.wait_for(lambda: len([p for p in pods_json(shared_lab, selector="app=blue")
                                     if p["status"].get("podIP")]) == 3, what="3 running pods")
    out = shared_lab.kubectl("-n", "demo", "get", "pods", "-o", "wide", check=True).stdout
    header, *rows = out.splitlines()
    assert header.split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NOMINATED NODE" in header and "READINESS GATES" in header
    cidrs = {"lab-worker": "10.244.1.0/24", "lab-worker2": "10.244.2.0/24"}
    assert len(rows) == 3
    for row in rows:
        name, ready, status, restarts, age, ip, node = row.split()[:7]
        assert name.startswith("blue-") and ready == "1/1" and status == "Running"
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidrs[node])
    nodes = {row.split()[6] for row in rows}
    assert nodes == {"lab-worker", "lab-worker2"}     # spread, never on the tainted control plane


def test_scale_to_five(shared_lab):
    out = shared_lab.kubectl("-n", "demo", "scale", "deployment", "blue", "--replicas=5",
                             check=True)
    assert out.stdout.strip() == "deployment.apps/blue scaled"
    shared_lab.wait_for(lambda: len(pods_json(shared_lab, selector="app=blue")) == 5,
                        what="5 pods")
    status = shared_lab.kubectl("-n", "demo", "rollout", "status", "deployment/blue",
                                "--timeout=20s", check=True)
    assert 'deployment "blue" successfully rolled out' in status.stdout
    deploy = shared_lab.kubectl("-n", "demo", "get", "deploy", "blue", check=True).stdout
    assert deploy.splitlines()[1].split()[1:4] == ["5/5", "5", "5"]


def test_run_and_exec(shared_lab):
    out = shared_lab.kubectl("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--",
                             "sleep", "infinity", check=True)
    assert out.stdout.strip() == "pod/client created"
    shared_lab.kubectl("-n", "demo", "wait", "--for=condition=Ready", "pod/client",
                       "--timeout=20s", check=True)
    pod = json.loads(shared_lab.kubectl("-n", "demo", "get", "pod", "client", "-o", "json",
                                        check=True).stdout)
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "infinity"]
    hi = shared_lab.kubectl("-n", "demo", "exec", "client", "--", "echo", "hi")
    assert (hi.returncode, hi.stdout) == (0, "hi\n")
    failing = shared_lab.kubectl("-n", "demo", "exec", "client", "--", "sh", "-c",
                                 "echo out; echo err >&2; exit 3")
    assert failing.returncode == 3
    assert failing.stdout == "out\n"
    assert "err" in failing.stderr and "command terminated with exit code 3" in failing.stderr
    piped = shared_lab.kubectl("-n", "demo", "exec", "-i", "client", "--", "cat",
                               input="hello stdin\n")
    assert (piped.returncode, piped.stdout) == (0, "hello stdin\n")
    missing = shared_lab.kubectl("-n", "demo", "exec", "client", "--", "no-such-command-x")
    assert missing.returncode == 1
    assert 'exec: "no-such-command-x": executable file not found in $PATH' in missing.stderr


POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: demo
  labels:
    app: web{extra}
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
"""


def test_apply_twice_then_unchanged(shared_lab, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.format(extra=""))
    assert shared_lab.kubectl("apply", "-f", str(manifest), check=True).stdout.strip() == \
        "pod/web created"
    manifest.write_text(POD.format(extra="\n    tier: front"))
    assert shared_lab.kubectl("apply", "-f", str(manifest), check=True).stdout.strip() == \
        "pod/web configured"
    assert shared_lab.kubectl("apply", "-f", str(manifest), check=True).stdout.strip() == \
        "pod/web unchanged"
    labels = shared_lab.kubectl("-n", "demo", "get", "pod", "web", "-o",
                                "jsonpath={.metadata.labels}", check=True).stdout
    assert json.loads(labels) == {"app": "web", "tier": "front"}
    manifest.write_text(POD.format(extra=""))
    shared_lab.kubectl("apply", "-f", str(manifest), check=True)
    labels = shared_lab.kubectl("-n", "demo", "get", "pod", "web", "-o",
                                "jsonpath={.metadata.labels}", check=True).stdout
    assert json.loads(labels) == {"app": "web"}      # apply removes what it no longer declares


def test_label_annotate_and_set_image(shared_lab):
    assert shared_lab.kubectl("-n", "demo", "label", "pod", "web", "color=blue",
                              check=True).stdout.strip() == "pod/web labeled"
    assert "color=blue" in shared_lab.kubectl("-n", "demo", "get", "pod", "web",
                                              "--show-labels", check=True).stdout
    shared_lab.kubectl("-n", "demo", "annotate", "pod", "web", "note=hello", check=True)
    before = {p["metadata"]["name"] for p in pods_json(shared_lab, selector="app=blue")}
    shared_lab.kubectl("-n", "demo", "set", "image", "deployment/blue",
                       "color=jpetazzo/color:v2", check=True)
    shared_lab.kubectl("-n", "demo", "rollout", "status", "deployment/blue", "--timeout=20s",
                       check=True)

    def replaced():
        pods = [p for p in pods_json(shared_lab, selector="app=blue")
                if not p["metadata"].get("deletionTimestamp")]
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        names = {p["metadata"]["name"] for p in pods}
        return len(pods) == 5 and images == {"jpetazzo/color:v2"} and not names & before
    shared_lab.wait_for(replaced, what="rolling replacement")
    rs = shared_lab.kubectl("-n", "demo", "get", "rs", check=True).stdout.splitlines()
    assert len(rs) == 3                                   # old one kept at 0, as upstream does
    assert sorted(r.split()[1] for r in rs[1:]) == ["0", "5"]


def test_describe_pod_shows_events(shared_lab):
    out = shared_lab.kubectl("-n", "demo", "describe", "pod", "web", check=True).stdout
    assert re.search(r"^Status:\s+Running$", out, re.M)
    assert re.search(r"^IP:\s+10\.244\.\d+\.\d+$", out, re.M)
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert re.search(rf"Normal\s+{reason}\s", out), reason
    assert "Successfully assigned demo/web to lab-worker" in out


def test_invalid_manifest_is_refused_and_nothing_created(shared_lab, tmp_path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\n  namespace: demo"
                        "\nspec:\n  containers:\n  - name: c\n")
    out = shared_lab.kubectl("apply", "-f", str(manifest))
    assert out.returncode == 1
    assert 'The Pod "Bad_Name" is invalid' in out.stderr
    assert "metadata.name: Invalid value" in out.stderr
    assert "spec.containers[0].image: Required value" in out.stderr
    assert "Bad_Name" not in shared_lab.kubectl("-n", "demo", "get", "pods", check=True).stdout


def test_errors_are_status_answers(shared_lab):
    missing = shared_lab.kubectl("-n", "demo", "get", "pod", "nosuch")
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nosuch" not found'
    deploy = shared_lab.kubectl("-n", "demo", "get", "deploy", "nosuch")
    assert 'deployments.apps "nosuch" not found' in deploy.stderr
    exists = shared_lab.kubectl("-n", "demo", "run", "web", "--image=x")
    assert 'Error from server (AlreadyExists): pods "web" already exists' in exists.stderr
    protected = shared_lab.kubectl("delete", "namespace", "default")
    assert protected.returncode == 1 and "Forbidden" in protected.stderr


def test_service_expose_and_endpoints(shared_lab):
    shared_lab.kubectl("-n", "demo", "expose", "deployment", "blue", "--port=80", check=True)
    out = shared_lab.kubectl("-n", "demo", "get", "svc", "blue", "-o", "wide", check=True)
    header, row = out.stdout.splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE",
                              "SELECTOR"]
    cells = row.split()
    assert cells[1] == "ClusterIP" and cells[3] == "<none>" and cells[4] == "80/TCP"
    assert ipaddress.ip_address(cells[2]) in ipaddress.ip_network("10.96.0.0/16")

    def endpoints():
        ep = json.loads(shared_lab.kubectl("-n", "demo", "get", "endpoints", "blue", "-o",
                                           "json").stdout or "{}")
        return sum(len(s.get("addresses", [])) for s in ep.get("subsets", [])) == 5
    shared_lab.wait_for(endpoints, what="5 endpoints")
    slices = json.loads(shared_lab.kubectl("-n", "demo", "get", "endpointslices", "-l",
                                           "kubernetes.io/service-name=blue", "-o", "json",
                                           check=True).stdout)["items"]
    assert len(slices) == 1 and len(slices[0]["endpoints"]) == 5
    create = shared_lab.kubectl("-n", "demo", "create", "service", "clusterip", "svc1",
                                "--tcp=80:8080", check=True)
    assert create.stdout.strip() == "service/svc1 created"
    svc = json.loads(shared_lab.kubectl("-n", "demo", "get", "svc", "svc1", "-o", "json",
                                        check=True).stdout)
    assert svc["spec"]["ports"] == [{"name": "80-8080", "protocol": "TCP", "port": 80,
                                     "targetPort": 8080}]
    assert svc["spec"]["selector"] == {"app": "svc1"}


def test_delete_pod_returns_promptly(shared_lab):
    out = shared_lab.kubectl("-n", "demo", "delete", "pod", "web", timeout=20)
    assert out.returncode == 0 and out.stdout.strip() == 'pod "web" deleted'
    assert "web" not in {p["metadata"]["name"] for p in pods_json(shared_lab)}


def test_delete_namespace_removes_everything(shared_lab):
    out = shared_lab.kubectl("delete", "namespace", "demo", timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == 'namespace "demo" deleted'
    assert "demo" not in shared_lab.kubectl("get", "ns", check=True).stdout
    everything = shared_lab.kubectl("get", "pods,deploy,rs,svc,endpoints,events", "-A",
                                    check=True).stdout
    assert "demo" not in everything
    assert shared_lab.runtime.started == {}             # every pod was stopped in the runtime
