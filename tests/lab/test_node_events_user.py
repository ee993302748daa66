"""Node changes reach an ordinary user: the lab daemon's netlink watch, served as GET /labkit/v1/nodeevents.

A learner's kernel (JupyterLab as SUDO_USER) cannot enter a node; the daemon follows every node's
links, addresses and routes and streams the changes. The test creates an ordinary user, gives it
its kubeconfig copy (as ``sudo labkit up`` does), runs ``labkit.node_events.follow_nodes`` as that
user with Debian's own Python (root's interpreter may not be readable by others), deletes a pod
route inside a node as root, and checks the user's process saw the event, and the restoration too.
It prints the latency it measured (a figure, not an assert).
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.topology import LabSpec
from tests.userkit import as_user, ordinary_user

LAB = "tnevusr"
USER = "tkevents"
ROOT = Path(__file__).resolve().parents[2]
VENV = Path("/var/tmp/labkit-user-venv")      # Debian's python + what `import labkit` needs, reused

USER_SIDE = r"""
import json, sys, threading, time
import labkit
from labkit.node_events import follow_nodes
cluster = labkit.connect(lab=sys.argv[1])
assert cluster.via_api, cluster
changed, done = threading.Event(), threading.Event()
stop = follow_nodes(cluster, changed, done)
seen = []
def record():
    while not done.is_set():
        if changed.wait(0.5):
            changed.clear()
            seen.append(time.time())
threading.Thread(target=record, daemon=True).start()
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:                       # the test writes the time just before each change it makes
    since = float(line)
    deadline = time.time() + 10
    while time.time() < deadline and not any(t >= since for t in seen):
        time.sleep(0.005)
    print(json.dumps({"at": next((t for t in seen if t >= since), None)}), flush=True)
done.set()
stop()
"""


def _user_python() -> Path:
    if not (VENV / "bin" / "python").exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "kubernetes>=30.1", "pyyaml>=6.0",
                        "graphviz>=0.20"], check=True)
    return VENV / "bin" / "python"


@pytest.fixture(scope="module")
def learner():
    if not Path("/usr/bin/python3").exists():
        pytest.skip("needs Debian's /usr/bin/python3 for the ordinary user's side")
    with ordinary_user(USER) as user:
        yield user


@pytest.fixture(scope="module")
def lab(learner):
    from labkit.embedded.userconfig import copy_for

    lifecycle.down(LAB)
    lifecycle.up(LabSpec(name=LAB))
    copy_for(LAB, learner)
    yield EmbeddedLab(LAB)
    lifecycle.down(LAB)


def test_an_ordinary_user_sees_a_route_deleted_inside_a_node(lab, learner):
    python = _user_python()
    plan = lab.spec.node("worker")
    other = lab.spec.node("worker2")
    env = {"HOME": learner.pw_dir, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(as_user(learner, [str(python), "-c", USER_SIDE, LAB]), env=env, cwd="/", stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first and json.loads(first)["ready"], proc.stderr.read()[-2000:]
        time.sleep(0.5)                           # the stream is open and its bookmark read
        line = subprocess.run(["ip", "-n", plan.netns, "route", "show", other.pod_cidr], check=True,
                              capture_output=True, text=True).stdout.split()
        assert line and line[0] == other.pod_cidr
        latencies = []
        for argv in (["ip", "-n", plan.netns, "route", "del", other.pod_cidr],
                     ["ip", "-n", plan.netns, "route", "replace", *line]):
            t = time.time()
            proc.stdin.write(f"{t}\n")
            proc.stdin.flush()
            subprocess.run(argv, check=True)
            answer = json.loads(proc.stdout.readline())
            assert answer["at"] is not None, f"the user's process did not see `{' '.join(argv[3:])}`"
            latencies.append((answer["at"] - t) * 1000)
        print(f"\nnode event latency as an ordinary user: {', '.join(f'{x:.0f} ms' for x in latencies)} "
              "(from the command to the user's thread)")
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
