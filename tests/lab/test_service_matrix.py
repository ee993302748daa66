"""The Service reachability matrix: predicted from EndpointSlices, traffic policies, affinity and
NetworkPolicies, then probed with real packets from every pod, every node and the host.

One lab (kindnet, iptables) routed from the host on ranges of its own (so that it never meets
another lab's host routes), with externalTrafficPolicy Local, internalTrafficPolicy Local, an empty
Service, a policy-protected backend and hairpin.
"""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.service_probe import service_reachability

from .helpers import labkit as labkit_cli

NAME = "tsvcm"        # + the first letter of the flavor
MANIFEST = Path(__file__).parent / "manifests" / "service-matrix.yaml"


@pytest.fixture(scope="module", params=[("kindnet", "iptables"), ("flannel", "nftables")], ids=lambda p: "-".join(p))
def lab(request, tmp_path_factory):
    cni, mode = request.param
    name = NAME + cni[:1]
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, cni=cni, proxy_mode=mode, node_cidr="10.240.0.0/24", pod_cidr="10.241.0.0/16",
                         service_cidr="10.242.0.0/16"))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp("h")), KUBECONFIG=str(kubeconfig_file(name)))
    run = lambda *a, input=None: subprocess.run([shutil.which("kubectl"), *a], env=env, check=True,
                                                capture_output=True, text=True, input=input)
    run("create", "namespace", "svc")
    run("apply", "-f", "-", input=MANIFEST.read_text().replace("NODE-", f"{name}-"))
    deadline = time.monotonic() + 30
    while not _settled(name):
        assert time.monotonic() < deadline, "pods and EndpointSlices did not settle"
        time.sleep(0.2)
    yield name
    lifecycle.down(name)


def _settled(name: str) -> bool:
    snap = labkit.connect(lab=name).snapshot()
    ready = [p for p in snap.pods if (p.get("status") or {}).get("podIP") and p["metadata"]["namespace"] == "svc"]
    eps = sum(len(s.get("endpoints") or []) for s in snap.endpointslices if s["metadata"]["namespace"] == "svc")
    return len(ready) == 5 and eps == 5          # web ×2, local ×2, db ×1


@pytest.fixture(scope="module")
def matrix(lab):
    return service_reachability(lab, namespaces="svc")


def test_predicted_equals_probed(matrix):
    assert matrix.ok, matrix.to_text()
    assert {s.kind for s in matrix.sources} == {"pod", "node", "host"}
    assert all(c.observed is not None for c in matrix.cells.values())


def _cell(matrix, src, service, door="cluster_ip", node=None):
    return matrix.cell(src, matrix.find(service, door, node))


def test_each_reason_is_named_in_the_cell_that_it_decides(lab, matrix):
    def check(src, service, door, node, state, key, text):
        cell = _cell(matrix, src, service, door, node)
        assert cell.predicted == state and cell.observed == (state == "open"), (src, service, node, cell.explain())
        assert key in [k for k, _ in cell.reasons] and text in cell.explain("en"), cell.explain()

    check("host", "svc/web", "node_port", "control-plane", "closed", "etp_local_none", "externalTrafficPolicy Local")
    check("host", "svc/web", "node_port", "worker", "open", "etp_local", "svc/web-1")
    check("svc/other", "svc/web", "node_port", "control-plane", "open", "etp_short_circuit", "does not apply")
    check("svc/frontend", "svc/web", "node_port", "control-plane", "closed", "cni_masquerade", "masquerades")
    check("svc/other", "svc/local", "cluster_ip", None, "closed", "itp_local_none", "internalTrafficPolicy Local")
    check("svc/frontend", "svc/local", "cluster_ip", None, "open", "itp_local", "svc/web-1")
    check(f"node/{lab}-worker", "svc/empty", "cluster_ip", None, "closed", "no_endpoints", "no ready endpoint")
    check("svc/other", "svc/db", "cluster_ip", None, "closed", "ingress_denied", "policies of svc/db")
    check("svc/frontend", "svc/db", "cluster_ip", None, "open", "allowed", "svc/db")
    check(f"node/{lab}-worker2", "svc/db", "cluster_ip", None, "open", "allowed", "svc/db")   # node to its own pod
    check("svc/db", "svc/db", "cluster_ip", None, "open", "hairpin", "hairpin")
    assert "sessionAffinity ClientIP" in _cell(matrix, "svc/frontend", "svc/web").explain()
    assert "politiques de svc/db" in _cell(matrix, "svc/other", "svc/db").explain("fr")


def test_a_cell_that_contradicts_the_kernel_is_reported(matrix):
    index = matrix.find("svc/db")
    cell = matrix.cell("svc/other", index)
    cell.predicted, saved = "open", cell.predicted
    try:
        assert ("svc/other", index) in matrix.differences and "observed no connection" in matrix.to_text()
    finally:
        cell.predicted = saved


def test_cli_probe_services(lab):
    out = labkit_cli("probe", "--services", "--name", lab, "--namespaces", "svc")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all 63 cells agree" in out.stdout and f"NodePort@{lab}-worker2" in out.stdout
