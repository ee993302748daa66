"""`labkit draw|inspect` find a kind cluster through KUBECONFIG, as labkit.connect() does (no root).

The kind cluster is the recorded (reconstructed) fixture set ``tests/fixtures/cni/kindnet``: its API
objects are served over plain HTTP on 127.0.0.1 by a tiny server, and a fake ``docker`` on PATH
answers ``docker exec <node> <command>`` with the node's recorded output.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.nodes import served_by_lab
from tests.apikit import json_api, write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "cni" / "kindnet"
LISTS = {"/api/v1/namespaces": "namespaces", "/api/v1/nodes": "nodes", "/api/v1/pods": "pods",
         "/api/v1/services": "services", "/apis/discovery.k8s.io/v1/endpointslices": "endpointslices",
         "/apis/networking.k8s.io/v1/networkpolicies": "networkpolicies"}

FAKE_DOCKER = r'''#!/usr/bin/env python3
import sys, pathlib
base = pathlib.Path(sys.argv[0]).resolve().parent / "nodes"
_, verb, node, *argv = sys.argv
files = {("ip", "-j", "-d", "addr", "show"): "ip-addr.json", ("ip", "-j", "route", "show"): "ip-route.json",
         ("iptables-save",): "iptables-save.txt", ("nft", "-j", "list", "ruleset"): "nft-ruleset.json",
         ("ipvsadm", "-Ln"): "ipvsadm.txt"}
path = base / node / files.get(tuple(argv), "-")
if verb != "exec" or not path.exists():
    sys.exit(f"Error: {' '.join(argv)}: not recorded")
sys.stdout.write(path.read_text())
'''


@pytest.fixture
def kind_cluster(tmp_path):
    objects = json.loads((FIXTURE / "cluster.json").read_text())["objects"]

    def answer(path: str) -> tuple[int, object]:
        field = LISTS.get(path.split("?")[0])
        return (200, {"items": objects[field]}) if field else (404, {"kind": "Status", "code": 404})

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nodes").symlink_to(FIXTURE)
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    with json_api(answer) as url:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "kind-kind", url)
        yield dict(os.environ, KUBECONFIG=str(kubeconfig), PATH=f"{bin_dir}:{os.environ['PATH']}",
                   PYTHONPATH=str(ROOT), LABKIT_LANG="en", HOME=str(tmp_path))


def labkit(env, *args):
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_draw_follows_kubeconfig_to_the_kind_cluster(kind_cluster):
    proc = labkit(kind_cluster, "draw", "pods")
    assert proc.returncode == 0, proc.stderr
    for name in ("kind-control-plane", "kind-worker2", "web-7d4b9c8f6d-qv5rt", "10.244.2.2"):
        assert name in proc.stdout, name


def test_inspect_node_reads_the_kind_node_through_docker_exec(kind_cluster):
    proc = labkit(kind_cluster, "inspect", "kube-proxy", "--node", "worker")
    assert proc.returncode == 0, proc.stderr
    assert "demo/web" in proc.stdout and "10.96.200.80" in proc.stdout


def test_an_unknown_context_is_one_line_exit_2(kind_cluster):
    proc = labkit(kind_cluster, "draw", "pods", "--context", "nope")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("argv", [
    ["ip", "-j", "-d", "addr", "show"], ["ip", "-j", "route", "show"], ["ip", "-j", "link"],
    ["ip", "-j", "neigh", "show", "dev", "eth0"], ["ip", "-j", "route", "show", "table", "all"],
    ["iptables-save"], ["nft", "-j", "list", "ruleset"], ["nft", "list", "table", "ip", "kube-proxy"],
    ["conntrack", "-L"], ["conntrack", "-L", "-o", "extended"], ["ip", "-br", "-d", "link"],
    ["ip", "-d", "link", "show", "flannel.1"], ["bridge", "fdb", "show", "dev", "flannel.1"], ["bridge", "link"],
    ["ip", "route", "get", "10.244.1.2"], ["ip", "-o", "link"]])
def test_the_lab_daemon_serves_read_only_state(argv):
    assert served_by_lab(argv)


@pytest.mark.parametrize("argv", [
    [], ["sh", "-c", "id"], ["ip", "route", "flush", "all"], ["ip", "-batch", "-"], ["ip", "netns", "exec", "x", "sh"],
    ["ip", "link", "set", "eth0", "down"], ["ip", "-j", "route", "show", "dev", "eth0;id"], ["iptables-restore"],
    ["iptables-save", "-M", "/bin/sh"], ["nft", "flush", "ruleset"], ["nft", "-f", "/etc/passwd"],
    ["conntrack", "-F"], ["conntrack", "-D"], ["cat", "/etc/shadow"], ["ipvsadm", "-C"],
    ["bridge", "fdb", "add", "00:11:22:33:44:55", "dev", "flannel.1"], ["bridge", "fdb", "del", "x", "dev", "y"],
    ["bridge", "-batch", "-"], ["bridge", "monitor"], ["ip", "link", "show", "eth0;id"], ["ip", "link", "set", "eth0"],
    ["ip", "-br", "link", "show", "dev", "eth0", "up"],
    ["ip", "route", "get", "10.0.0.1;id"], ["ip", "route", "get", "10.0.0.1", "from", "x"], ["ip", "route", "get"]])
def test_the_lab_daemon_refuses_anything_else(argv):
    assert not served_by_lab(argv)
