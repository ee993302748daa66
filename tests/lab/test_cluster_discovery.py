"""Every command finds its cluster as ``labkit.connect()`` does, and works without root through the
lab daemon's API: ``KUBECONFIG`` of a second lab draws that lab, as root and as ``nobody``."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

from .helpers import ROOT

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
FIRST, SECOND = "tdisca", "tdiscb"


def run_labkit(*args: str, env: dict, user: str | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "labkit", *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *argv]
    env = dict(env, PYTHONPATH=str(ROOT), LABKIT_LANG="en")
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd="/")


def kubectl(name: str, home, *args: str) -> str:
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(name)))
    proc = subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, timeout=90)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    for name in (FIRST, SECOND):
        lifecycle.down(name)
        lifecycle.up(LabSpec(name=name, nodes=2))
    kubectl(SECOND, home, "run", "second-web", "--image=jpetazzo/color", "--port=80")
    for _ in range(300):
        pod = json.loads(kubectl(SECOND, home, "get", "pod", "second-web", "-o", "json"))
        if pod["status"].get("podIP") and pod["status"].get("phase") == "Running":
            break
        time.sleep(0.1)
    yield home
    for name in (FIRST, SECOND):
        lifecycle.down(name)


@pytest.fixture
def nobody_kubeconfig(labs):
    """A copy of the second lab's kubeconfig that ``nobody`` owns (0600), as ``sudo labkit up`` makes."""
    user = pwd.getpwnam("nobody")
    usable = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
                             "-c", "import labkit, kubernetes"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd="/")
    if usable.returncode != 0:       # e.g. a checkout under /root: an ordinary user cannot read it
        pytest.skip(f"nobody cannot run {sys.executable} with labkit here: {usable.stderr.strip()[-120:]}")
    home = Path(tempfile.mkdtemp(prefix="labkit-nobody-"))     # pytest's tmp_path is root's (0700)
    copy = home / ".kube" / f"labkit-{SECOND}.yaml"        # where `sudo labkit up` puts it
    copy.parent.mkdir()
    shutil.copyfile(kubeconfig_file(SECOND), copy)
    os.chmod(copy, 0o600)
    for path in (home, copy.parent, copy):
        os.chown(path, user.pw_uid, user.pw_gid)
    yield {"HOME": str(home), "KUBECONFIG": str(copy), "PATH": os.environ["PATH"]}
    shutil.rmtree(home)


def test_kubeconfig_of_a_second_lab_draws_that_lab(labs):
    env = dict(os.environ, HOME=str(labs), KUBECONFIG=str(kubeconfig_file(SECOND)))
    proc = run_labkit("draw", "pods", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"{SECOND}-control-plane" in proc.stdout and "second-web" in proc.stdout
    assert f"{FIRST}-" not in proc.stdout
    named = run_labkit("draw", "pods", "--name", FIRST, env=env)        # --name wins over KUBECONFIG
    assert named.returncode == 0 and f"{FIRST}-control-plane" in named.stdout and "second-web" not in named.stdout


def test_an_ordinary_user_draws_inspects_and_traces_through_the_daemon(nobody_kubeconfig):
    env = nobody_kubeconfig
    drawn = run_labkit("draw", "pods", env=env, user="nobody")
    assert drawn.returncode == 0, drawn.stderr
    assert f"{SECOND}-worker" in drawn.stdout and "second-web" in drawn.stdout
    rules = run_labkit("inspect", "kube-proxy", "--node", "worker", env=env, user="nobody")
    assert rules.returncode == 0, rules.stderr
    assert "default/kubernetes" in rules.stdout
    traced = run_labkit("trace", "default/second-web", "default/kubernetes", env=env, user="nobody")
    assert traced.returncode == 0 and "kube-proxy" in traced.stdout, traced.stderr
    status = run_labkit("status", env=env, user="nobody")
    assert status.returncode == 0 and "second-web" in status.stdout, status.stderr
    assert "CNI kindnet" in status.stdout, status.stdout        # the lab's shape, from its API
    probed = run_labkit("probe", "--namespaces", "default", "--json", env=env, user="nobody")   # kubectl exec
    assert probed.returncode == 0, probed.stderr
    assert "default/second-web" in probed.stdout


def test_the_daemon_hands_out_only_its_read_only_commands(nobody_kubeconfig):
    env = dict(os.environ, **nobody_kubeconfig)
    base = f"/api/v1/nodes/{SECOND}-worker/proxy/labkit/run"
    ok = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", KUBECTL, "get",
                         "--raw", f"{base}?command=ip&command=-j&command=route&command=show"],
                        capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(json.loads(ok.stdout)["stdout"])                  # the node's routes, as JSON
    for bad in ("command=ip&command=route&command=flush&command=all", "command=sh&command=-c&command=id",
                "command=iptables-restore"):
        refused = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", KUBECTL,
                                  "get", "--raw", f"{base}?{bad}"], capture_output=True, text=True, env=env, timeout=60)
        assert refused.returncode != 0 and "Forbidden" in refused.stderr, refused.stderr


def test_one_request_hands_every_pods_view_and_the_same_as_root(nobody_kubeconfig):
    """GET /labkit/v1/podnetworks: every pod's interfaces and routes in one answer, equal to what root
    reads in the pods' namespaces; a bad query is a 400 Status, an unknown node a 404."""
    from labkit import cluster as clusters
    from labkit.cluster import api_client

    env = dict(os.environ, **nobody_kubeconfig)
    as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", KUBECTL, "get", "--raw"]
    got = subprocess.run([*as_user, "/labkit/v1/podnetworks"], capture_output=True, text=True, env=env, timeout=60)
    assert got.returncode == 0, got.stderr
    items = {i["pod"]: i for i in json.loads(got.stdout)["items"]}
    web = items["default/second-web"]
    assert web["node"].startswith(f"{SECOND}-")
    eth0 = next(i for i in web["addr"] if i["ifname"] == "eth0")
    assert any(a["family"] == "inet" and a["local"].startswith("10.") for a in eth0["addr_info"])
    assert any(r["dst"] == "default" for r in web["route"])
    other = next(n for n in (f"{SECOND}-control-plane", f"{SECOND}-worker") if n != web["node"])
    only = json.loads(subprocess.run([*as_user, f"/labkit/v1/podnetworks?node={other}"], capture_output=True,
                                     text=True, env=env, timeout=60).stdout)["items"]
    assert "default/second-web" not in {i["pod"] for i in only}
    for bad, code in (("?node=nope-worker", "NotFound"), ("?pod=default/second-web", "BadRequest"),
                      ("?node=" + "A" * 300, "BadRequest")):
        refused = subprocess.run([*as_user, f"/labkit/v1/podnetworks{bad}"], capture_output=True, text=True,
                                 env=env, timeout=60)
        assert refused.returncode != 0 and code in refused.stderr, (bad, refused.stderr)
    root = clusters.connect(lab=SECOND).snapshot()
    via_api = clusters._through_api(SECOND, api_client(kubeconfig_file(SECOND))).snapshot()
    assert "default/second-web" in root.pod_networks
    assert {k: v.to_json() for k, v in via_api.pod_networks.items()} == \
        {k: v.to_json() for k, v in root.pod_networks.items()}
