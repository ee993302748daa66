"""The real kubectl drives the embedded lab: API objects become real pods with real packets."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import ipaddress
from pathlib import Path

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.netns import list_netns
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "tkube"


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    home = tmp_path_factory.mktemp("kubectl-home")   # kubectl's discovery cache stays per lab
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(NAME)))

    def run(*args, input=None, check=True):
        proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True,
                              env=env, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc

    yield run
    lifecycle.down(NAME)


def wait_pods(kubectl, namespace, count, selector=None, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        args = ["-n", namespace, "get", "pods", "-o", "json"] + (["-l", selector] if selector else [])
        items = json.loads(kubectl(*args).stdout)["items"]
        running = [p for p in items if p["status"].get("phase") == "Running" and p["status"].get("podIP")]
        if len(running) == count and len(items) == count:
            return running
        assert time.monotonic() < deadline, f"{len(running)}/{count} running: {items}"
        time.sleep(0.2)


def test_nodes_are_the_lab_nodes(kubectl):
    out = kubectl("get", "nodes", "-o", "wide").stdout
    plans = EmbeddedLab(NAME).spec.node_plans()
    assert [p.name for p in plans] == [f"{NAME}-control-plane", f"{NAME}-worker", f"{NAME}-worker2"]
    for name, ip in [(p.name, p.ip) for p in plans]:
        line = next(l for l in out.splitlines() if l.startswith(name + " "))
        assert " Ready " in line and ip in line


def test_deployment_pods_are_real_namespaces_with_addresses_from_their_node(kubectl):
    lab = EmbeddedLab(NAME)
    kubectl("create", "namespace", "demo")
    kubectl("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
    pods = wait_pods(kubectl, "demo", 3)
    cidrs = {n.name: ipaddress.ip_network(n.pod_cidr) for n in lab.spec.node_plans()}
    for pod in pods:
        assert ipaddress.ip_address(pod["status"]["podIP"]) in cidrs[pod["spec"]["nodeName"]]
        assert lab.spec.pod_netns("demo", pod["metadata"]["name"]) in list_netns()
    kubectl("-n", "demo", "scale", "deployment", "blue", "--replicas=5")
    assert len(wait_pods(kubectl, "demo", 5)) == 5


def test_exec_curl_across_nodes_sees_the_client_pod_ip(kubectl):
    kubectl("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--", "sleep", "infinity")
    client = wait_pods(kubectl, "demo", 1, selector="run=client")[0]
    blues = wait_pods(kubectl, "demo", 5, selector="app=blue")
    other = next(p for p in blues if p["spec"]["nodeName"] != client["spec"]["nodeName"])
    out = kubectl("-n", "demo", "exec", "client", "--", "curl", "-s", "-m", "3",
                  f"http://{other['status']['podIP']}").stdout
    answer = json.loads(out)
    assert answer["pod"] == other["metadata"]["name"]
    assert answer["client_ip"] == client["status"]["podIP"]
    failed = kubectl("-n", "demo", "exec", "client", "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3


def test_apply_then_apply_again_with_a_new_label(kubectl, tmp_path):
    manifest = tmp_path / "web.yaml"
    doc = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: demo
  labels: {app: web, tier: %s}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 8080, name: http}]
"""
    manifest.write_text(doc % "front")
    kubectl("apply", "-f", str(manifest))
    pod = wait_pods(kubectl, "demo", 1, selector="app=web")[0]
    manifest.write_text(doc % "back")
    kubectl("apply", "-f", str(manifest))
    labels = json.loads(kubectl("-n", "demo", "get", "pod", "web", "-o", "json").stdout)["metadata"]["labels"]
    assert labels["tier"] == "back"
    out = subprocess.run(["curl", "-s", "-m", "3", f"http://{pod['status']['podIP']}:8080/"],
                         capture_output=True, text=True).stdout
    assert json.loads(out)["pod"] == "web"     # the declared containerPort is served


def test_invalid_manifest_creates_nothing(kubectl, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name, namespace: demo}\n"
                   "spec: {containers: [{name: c, image: nginx}]}\n")
    before = set(list_netns())
    proc = kubectl("apply", "-f", str(bad), check=False)
    assert proc.returncode != 0 and "Invalid" in proc.stderr
    assert set(list_netns()) == before


def test_describe_service_lists_the_endpoints(kubectl):
    kubectl("-n", "demo", "expose", "deployment", "blue", "--port=80")
    ips = sorted(p["status"]["podIP"] for p in wait_pods(kubectl, "demo", 5, selector="app=blue"))
    deadline = time.monotonic() + 60
    while True:
        out = kubectl("-n", "demo", "describe", "service", "blue").stdout
        line = next(l for l in out.splitlines() if l.startswith("Endpoints:"))
        shown = line.split()[1].split(",")           # kubectl shows three, then "+ N more..."
        if set(shown) <= {f"{ip}:80" for ip in ips} and len(shown) == 3 and \
                line.endswith("+ 2 more..."):
            break
        assert time.monotonic() < deadline, out
        time.sleep(0.2)


def test_service_variables_reach_pods_started_after_the_service(kubectl):
    kubectl("-n", "demo", "run", "envcheck", "--image=busybox", "--", "sleep", "infinity")
    wait_pods(kubectl, "demo", 1, selector="run=envcheck")
    ip = kubectl("-n", "demo", "get", "svc", "blue", "-o", "jsonpath={.spec.clusterIP}").stdout
    after = kubectl("-n", "demo", "exec", "envcheck", "--", "env").stdout.splitlines()
    assert f"BLUE_SERVICE_HOST={ip}" in after and f"BLUE_PORT=tcp://{ip}:80" in after
    before = kubectl("-n", "demo", "exec", "client", "--", "env").stdout   # started earlier
    assert "BLUE_SERVICE_HOST" not in before and "KUBERNETES_SERVICE_HOST=" in before


def test_debug_it_gives_a_shell_in_the_pod_network_namespace(kubectl, tmp_path):
    client = wait_pods(kubectl, "demo", 1, selector="run=client")[0]
    env = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=str(kubeconfig_file(NAME)))
    command = f"{KUBECTL} -n demo debug -it client --image=busybox --container=dbg"
    proc = subprocess.run(["script", "-qec", command, "/dev/null"], env=env, text=True,
                          input="ip -4 -o addr show; exit\n", capture_output=True, timeout=60)
    assert f"inet {client['status']['podIP']}/" in proc.stdout, proc.stdout + proc.stderr
    pod = json.loads(kubectl("-n", "demo", "get", "pod", "client", "-o", "json").stdout)
    assert pod["status"]["ephemeralContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_cp_copies_a_file_into_and_out_of_a_pod(kubectl, tmp_path):
    shared = Path(tempfile.mkdtemp(prefix="tkube-cp-"))   # pods run as nobody on host files
    shared.chmod(0o777)
    try:
        source = tmp_path / "note.txt"
        source.write_text("de l'hôte au pod\n")
        kubectl("-n", "demo", "cp", str(source), f"client:{shared}/note.txt")
        assert kubectl("-n", "demo", "exec", "client", "--", "cat",
                       f"{shared}/note.txt").stdout == "de l'hôte au pod\n"
        kubectl("-n", "demo", "exec", "client", "--", "sh", "-c",
                f"echo du pod > {shared}/out.txt")
        kubectl("-n", "demo", "cp", f"client:{shared}/out.txt", str(tmp_path / "back.txt"))
        assert (tmp_path / "back.txt").read_text() == "du pod\n"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_describe_shows_events(kubectl):
    out = kubectl("-n", "demo", "describe", "pod", "client").stdout
    assert "Scheduled" in out and f"{NAME}-worker" in out


def test_deleting_the_namespace_removes_every_pod_namespace(kubectl):
    kubectl("delete", "namespace", "demo", "--timeout=30s")
    deadline = time.monotonic() + 60
    prefix = f"{NAME}-pod-demo-"
    while any(n.startswith(prefix) for n in list_netns()):
        assert time.monotonic() < deadline, [n for n in list_netns() if n.startswith(prefix)]
        time.sleep(0.2)
    assert kubectl("get", "namespace", "demo", check=False).returncode != 0
