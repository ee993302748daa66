"""up / down / status as a user meets them: idempotent, side by side, clean after a crash."""
import json
import os
import signal
import subprocess

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import pid_file, state_file
from labkit.embedded.topology import LabSpec

from .helpers import echo, host_state, labkit, lab_process_count


@pytest.fixture
def clean():
    names = []

    def use(name):
        lifecycle.down(name)
        names.append(name)
        return name

    yield use
    for name in names:
        lifecycle.down(name)


def test_down_after_sigkill_and_lost_state_leaves_nothing(clean):
    name = clean("tcrash")
    before = host_state(name)
    labkit("up", "--name", name, "--cni", "flannel", check=True)
    lab = EmbeddedLab(name)
    lab.add_pods([{"name": f"p{i}", "ports": [80]} for i in range(4)])
    # a process living in a pod, as `kubectl exec` will leave behind
    sleeper = subprocess.Popen(["nsenter", f"--net=/run/netns/{lab.pod('p0')['netns']}", "sleep", "300"])
    assert lab_process_count(name) >= 2
    os.kill(int(pid_file(name).read_text()), signal.SIGKILL)
    state_file(name).unlink()
    assert host_state(name) != before
    proc = labkit("down", "--name", name)
    assert proc.returncode == 0, proc.stderr
    sleeper.wait(timeout=5)
    assert host_state(name) == before
    assert lab_process_count(name) == 0


def test_up_twice_is_harmless_and_a_dead_daemon_is_restarted_with_its_pods(clean):
    name = clean("ttwice")
    labkit("up", "--name", name, check=True)
    lab = EmbeddedLab(name)
    pod = lab.add_pod("web", ports=[80])
    lab.add_pod("client")
    second = labkit("up", "--name", name, check=True)
    assert "already" in second.stdout
    os.kill(int(pid_file(name).read_text()), signal.SIGKILL)
    labkit("up", "--name", name, check=True)
    again = EmbeddedLab(name).pod("web")
    assert again["ip"] == pod["ip"]
    assert echo(lab, "client", pod["ip"])["pod"] == "web"


def test_two_labs_side_by_side(clean):
    first, second = clean("tone"), clean("ttwo")
    labkit("up", "--name", first, "--nodes", "2", check=True)
    labkit("up", "--name", second, "--nodes", "2", check=True)
    a, b = EmbeddedLab(first), EmbeddedLab(second)
    assert a.spec.pod_cidr != b.spec.pod_cidr and a.spec.node_cidr != b.spec.node_cidr
    pa, pb = a.add_pod("x", ports=[80]), b.add_pod("x", ports=[80])
    a.add_pod("y")
    b.add_pod("y")
    assert echo(a, "y", pa["ip"])["client_ip"] == a.pod("y")["ip"]
    assert echo(b, "y", pb["ip"])["client_ip"] == b.pod("y")["ip"]
    labkit("down", "--name", first, check=True)
    assert echo(b, "y", pb["ip"])["pod"] == "x"          # the other lab is untouched


@pytest.mark.parametrize("args", [
    ["--cni", "weave"], ["--nodes", "0"], ["--nodes", "100"], ["--name", "a/b"],
    ["--name", "waytoolongname"], ["--pod-cidr", "10.244.0.0/99"],
])
def test_bad_input_one_line_exit_2_nothing_changed(args):
    before = host_state()
    proc = labkit("up", *args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert host_state() == before


def test_pod_cidr_overlapping_the_host_is_refused(clean):
    name = clean("tover")
    subprocess.run(["ip", "link", "add", "tover-x", "type", "veth", "peer", "name", "tover-y"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "10.250.3.1/24", "dev", "tover-x"], check=True)
        before = host_state(name)
        proc = labkit("up", "--name", name, "--pod-cidr", "10.250.0.0/16")
        assert proc.returncode == 2
        assert "10.250.3.0/24" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert host_state(name) == before
        fr = labkit("--lang", "fr", "up", "--name", name, "--pod-cidr", "10.250.0.0/16")
        assert "chevauche" in fr.stderr
    finally:
        subprocess.run(["ip", "link", "del", "tover-x"])


def test_failed_pod_creation_leaves_nothing(clean):
    name = clean("tfail")
    labkit("up", "--name", name, check=True)
    lab = EmbeddedLab(name)
    lab.add_pod("taken", ports=[80])
    netns_before = sorted(os.listdir("/run/netns"))
    from labkit.errors import LabkitError
    with pytest.raises(LabkitError):   # the second one already exists: the whole batch is refused
        lab.add_pods([{"name": "new1"}, {"name": "taken"}])
    with pytest.raises(LabkitError):   # a port that cannot be served: the created pods are unwound
        lab.add_pods([{"name": "new2", "ports": [80]}, {"name": "new3", "ports": [80, 80]}])
    assert sorted(os.listdir("/run/netns")) == netns_before
    assert [p["name"] for p in lab.pods() if p["namespace"] == "default"] == ["taken"]


def test_status_of_a_missing_lab_is_one_line():
    proc = labkit("status", "--name", "tnothere")
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1


def test_api_objects_and_pods_survive_a_daemon_restart(clean, tmp_path):
    import shutil as _shutil
    from labkit.embedded.paths import kubeconfig_file
    name = clean("trestart")
    labkit("up", "--name", name, check=True)
    env = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=str(kubeconfig_file(name)))
    kubectl = _shutil.which("kubectl")

    def k(*args):
        return subprocess.run([kubectl, *args], capture_output=True, text=True, env=env, check=True).stdout

    k("create", "deployment", "web", "--image=nginx", "--replicas=2")
    import time
    deadline = time.monotonic() + 60
    while True:
        pods = json.loads(k("get", "pods", "-l", "app=web", "-o", "json"))["items"]
        if len(pods) == 2 and all(p["status"].get("podIP") for p in pods):
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    before = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods}
    os.kill(int(pid_file(name).read_text()), signal.SIGKILL)
    labkit("up", "--name", name, check=True)
    after = {p["metadata"]["name"]: p["status"]["podIP"]
             for p in json.loads(k("get", "pods", "-l", "app=web", "-o", "json"))["items"]}
    assert after == before
    for ip in after.values():
        out = subprocess.run(["curl", "-s", "-m", "3", f"http://{ip}/"], capture_output=True, text=True).stdout
        assert json.loads(out)["pod_ip"] == ip


def test_reset_brings_a_fresh_lab_of_the_same_shape(clean):
    name = clean("treset")
    labkit("up", "--name", name, "--cni", "flannel", "--nodes", "2", check=True)
    lab = EmbeddedLab(name)
    lab.add_pod("junk", ports=[80])
    spec = lab.spec
    proc = labkit("reset", "--name", name)
    assert proc.returncode == 0, proc.stderr
    fresh = EmbeddedLab(name)
    assert fresh.spec == spec
    assert [p for p in fresh.pods() if p["namespace"] == "default"] == []
    assert fresh.add_pod("again", ports=[80])["ip"].startswith(spec.pod_cidr.split(".0.0/")[0])
    assert labkit("reset", "--name", "tnothere").returncode != 0
