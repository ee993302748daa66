"""kubernetes.io task pages replayed unchanged against the embedded lab (non-interactive forms).

- "Declare Network Policy" (tasks/administer-cluster/declare-network-policy): nginx behind a
  Service, the ``access-nginx`` policy, then ``wget --spider --timeout=1 nginx`` from busybox
  pods with and without ``access=true``.
"""
import os
import shutil
import subprocess

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

from .helpers import pods_created

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "tpages"

ACCESS_NGINX = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: access-nginx
spec:
  podSelector:
    matchLabels:
      app: nginx
  ingress:
  - from:
    - podSelector:
        matchLabels:
          access: "true"
"""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp("home")),
               KUBECONFIG=str(kubeconfig_file(NAME)))

    def run(*args, input=None, check=True, timeout=90):
        proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True,
                              env=env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc

    yield run
    lifecycle.down(NAME)


def gone(kubectl, pod="busybox"):
    """``kubectl run --rm`` deletes the pod; the next run of the same name waits for it to go."""
    kubectl("wait", "--for=delete", f"pod/{pod}", "--timeout=30s", check=False)


def busybox_wget(kubectl, *labels):
    proc = kubectl("run", "busybox", "--rm", "-i", "--restart=Never", *labels,
                   "--image=busybox:1.28", "--", "wget", "--spider", "--timeout=1", "nginx",
                   check=False)
    gone(kubectl)
    return proc


def test_declare_network_policy(kubectl):
    kubectl("create", "deployment", "nginx", "--image=nginx")
    kubectl("expose", "deployment", "nginx", "--port=80")
    pods_created(kubectl, "app=nginx")
    kubectl("wait", "--for=condition=Ready", "pod", "-l", "app=nginx", "--timeout=30s")
    before = busybox_wget(kubectl)
    assert before.returncode == 0, before.stdout + before.stderr
    assert "remote file exists" in before.stderr, before.stderr           # busybox wget (stderr)
    kubectl("apply", "-f", "-", input=ACCESS_NGINX)
    denied = busybox_wget(kubectl)
    assert denied.returncode != 0, denied.stdout
    assert "wget: download timed out" in denied.stdout + denied.stderr, denied
    # five in a row: each new pod's first connection must already be allowed (no race)
    for attempt in range(5):
        allowed = busybox_wget(kubectl, "--labels=access=true")
        assert allowed.returncode == 0, (attempt, allowed.stdout, allowed.stderr)


def busybox(kubectl, *argv, ok=True):
    """``kubectl run -i --rm --restart=Never busybox --image=gcr.io/google-containers/busybox -- ...``"""
    proc = kubectl("run", "-i", "--rm", "--restart=Never", "busybox",
                   "--image=gcr.io/google-containers/busybox", "--", *argv, check=False)
    gone(kubectl)
    assert proc.returncode == 0 or not ok, proc.stdout + proc.stderr
    assert not proc.stdout.startswith("\0")
    return proc.stdout.replace('pod "busybox" deleted', "").strip()


def test_debug_services(kubectl):
    """tasks/debug/debug-application/debug-service: serve_hostname pods, then through a Service."""
    kubectl("create", "deployment", "hostnames", "--image=registry.k8s.io/serve_hostname")
    kubectl("scale", "deployment", "hostnames", "--replicas=3")
    pods_created(kubectl, "app=hostnames", 3)
    kubectl("wait", "--for=condition=Ready", "pod", "-l", "app=hostnames", "--timeout=30s")
    names = set(kubectl("get", "pods", "-l", "app=hostnames", "-o",
                        "jsonpath={.items[*].metadata.name}").stdout.split())
    ips = kubectl("get", "pods", "-l", "app=hostnames", "-o",
                  'go-template={{range .items}}{{.status.podIP}}{{"\\n"}}{{end}}').stdout.split()
    assert len(names) == len(ips) == 3
    loop = "; ".join(f"wget -qO- {ip}:9376; echo" for ip in ips)
    assert set(busybox(kubectl, "sh", "-c", loop).split()) == names     # each answers its name
    kubectl("expose", "deployment", "hostnames", "--port=80", "--target-port=9376")
    cluster_ip = kubectl("get", "svc", "hostnames", "-o", "jsonpath={.spec.clusterIP}").stdout
    # The lab's busybox is Debian's 1.35: its nslookup tries every search domain and reports the
    # ones that do not exist (exit 1), as busybox:1.35+ images do; the page's busybox:1.28 used libc.
    found = busybox(kubectl, "nslookup", "hostnames", ok=False)
    assert f"Name:\thostnames.default.svc.cluster.local\nAddress: {cluster_ip}" in found, found
    dns_ip = kubectl("-n", "kube-system", "get", "svc", "kube-dns", "-o", "jsonpath={.spec.clusterIP}").stdout
    assert f"Server:\t\t{dns_ip}" in found                     # kube-dns answered
    assert "** server can't find hostnames.svc.cluster.local: NXDOMAIN" in found   # no such namespace
    full = busybox(kubectl, "nslookup", "hostnames.default.svc.cluster.local")
    assert f"Address: {cluster_ip}" in full, full
    api_ip = kubectl("get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}").stdout
    assert f"Address: {api_ip}\n" in busybox(kubectl, "nslookup", "kubernetes.default.svc.cluster.local") + "\n"
    assert busybox(kubectl, "wget", "-qO-", f"{cluster_ip}:80") in names
    assert busybox(kubectl, "wget", "-qO-", "hostnames") in names      # by name, search path


def test_agnhost_netexec_answers_as_the_e2e_image(kubectl):
    """agnhost's netexec (the upstream e2e tests' server): /hostname, /clientip, /echo on 8080."""
    kubectl("run", "netexec", "--image=registry.k8s.io/e2e-test-images/agnhost:2.53", "--",
            "netexec", "--http-port=8080", "--udp-port=8081")
    kubectl("wait", "--for=condition=Ready", "pod/netexec", "--timeout=30s")
    ip = kubectl("get", "pod", "netexec", "-o", "jsonpath={.status.podIP}").stdout
    out = busybox(kubectl, "sh", "-c", f"wget -qO- {ip}:8080/hostname; echo; "
                  f"wget -qO- '{ip}:8080/echo?msg=bonjour'; echo; wget -qO- {ip}:8080/clientip")
    name, echoed, client = out.splitlines()[:3]
    assert (name, echoed) == ("netexec", "bonjour")
    assert client.split(":")[0] != ip and client.count(".") == 3          # the busybox pod's address
    kubectl("delete", "pod", "netexec", "--now")
