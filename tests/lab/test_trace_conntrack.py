"""The packet-path trace agrees with a real packet: conntrack shows a DNAT the trace predicted."""
import json
import os
import shutil
import subprocess

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.inspect.conntrack import parse_conntrack
from labkit.trace import trace

from .helpers import eventually


@pytest.fixture(scope="module", params=["kindnet", "flannel"])
def lab(request, tmp_path_factory):
    name = "ttr" + request.param[:4]
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, cni=request.param))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp("h")), KUBECONFIG=str(kubeconfig_file(name)))
    k = lambda *a: subprocess.run([shutil.which("kubectl"), *a], env=env, check=True, capture_output=True, text=True)
    k("create", "namespace", "demo")
    k("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
    k("-n", "demo", "expose", "deployment", "blue", "--port=80")
    k("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--", "sleep", "infinity")
    lab = EmbeddedLab(name)

    def endpoints() -> int:
        try:
            return len(trace(labkit.connect(lab=name).snapshot(), "demo/client", "demo/blue:80").candidates)
        except labkit.LabkitError:          # the client pod is not there yet
            return 0

    eventually(endpoints, lambda n: n == 3, "the Service's three endpoints")
    cluster_ip = k("-n", "demo", "get", "svc", "blue", "-o", "jsonpath={.spec.clusterIP}").stdout

    def answers() -> bool:                  # kube-proxy's rules land after the EndpointSlice
        try:
            return lab.exec("demo/client", ["curl", "-s", "-m", "3", f"http://{cluster_ip}/"]).returncode == 0
        except labkit.LabkitError:
            return False

    eventually(answers, bool, "the Service answering through its cluster IP")
    yield lab
    lifecycle.down(name)


def test_trace_candidates_include_the_dnat_conntrack_saw(lab):
    snapshot = labkit.connect(lab=lab.name).snapshot()
    result = trace(snapshot, "demo/client", "demo/blue:80")
    targets = {c.target for c in result.candidates}
    assert len(targets) == 3 and "KUBE-SERVICES" in result.chains
    cluster_ip = next(s for s in snapshot.services if s["metadata"]["name"] == "blue")["spec"]["clusterIP"]
    client = lab.pod("demo/client")
    for _ in range(5):
        answer = json.loads(lab.exec("demo/client", ["curl", "-s", "-m", "3", f"http://{cluster_ip}/"]).stdout)
        out = lab.node_exec(client["node"], ["conntrack", "-L", "-p", "tcp", "-s", client["ip"],
                                             "-d", cluster_ip]).stdout
        seen = {f"{e.dnat_target[0]}:{e.dnat_target[1]}" for e in parse_conntrack(out) if e.dnat_target}
        assert seen and seen <= targets
        assert f"{answer['pod_ip']}:80" in seen
