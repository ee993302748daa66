"""Companion labs: an ordinary user gets a second small lab from the running lab's daemon.

A parent lab ``tcompa`` runs as root. As ``nobody``, holding only a copy of its kubeconfig (as
``sudo make lab``'s user does), ``labkit.companion("bridge")`` and ``("flannel")`` start two
companions through the API; the user reads their nodes (the bridge's ``cni0``, flannel's
``flannel.1``) through their own daemons; a bad preset is a 404 Status. Then, as root: starting a
running companion changes nothing, a fourth running companion is refused, a companion asks for
none, and after ``kill -9`` of every daemon ``labkit down`` of the parent leaves the host exactly
as it was before (no namespace, link, route, file or process of any companion).
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from labkit.embedded import cleanup, companions, lifecycle
from labkit.embedded.paths import kubeconfig_file, lab_dir, pid_file
from labkit.embedded.topology import LabSpec
from labkit.embedded.userconfig import COPIES
from labkit.errors import BadInput

from .helpers import ROOT, host_state

PARENT = "tcompa"
USER_PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300)]

START = r'''
import json, os, sys
import labkit
from labkit import companions
from labkit.apiserver.companions import COMPANIONS_PATH

lab = sys.argv[1]
out = {"uid": os.getuid()}
bridge = labkit.companion("bridge", lab=lab)
out["bridge"] = {"lab": bridge.lab, "via_api": bridge.via_api,
                 "links": bridge.node("worker").run(["ip", "-d", "link"])}
flannel = labkit.companion("flannel", lab=lab, quiet=True)
out["flannel"] = {"lab": flannel.lab, "links": flannel.node("worker").run(["ip", "-d", "link"])}
out["again"] = companions.change("bridge", lab)["started"]
out["status"] = {r["preset"]: r["running"] for r in companions.status(lab)}
api = labkit.connect(lab=lab).api
resp = api.call_api(*api.param_serialize("PUT", COMPANIONS_PATH + "/reboot", auth_settings=["BearerToken"]))
resp.read()
out["bad"] = [resp.status, json.loads(resp.data)]
try:
    labkit.companion("bridge --cni x", lab=lab)
except labkit.BadInput as exc:
    out["bogus"] = str(exc)
print(json.dumps(out))
'''

STOP = r'''
import json, sys
import labkit
print(json.dumps({"stopped": labkit.companion("bridge", lab=sys.argv[1], stop=True, quiet=True)}))
'''


def as_nobody(home: Path, script: str) -> dict:
    path = home / "script.py"
    path.write_text(script)
    proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", USER_PYTHON,
                           str(path), PARENT], capture_output=True, text=True, cwd="/", timeout=200,
                          env={"HOME": str(home), "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT),
                               "LABKIT_LANG": "en"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def parent():
    """The parent lab, and ``nobody``'s home with the copy of its kubeconfig ``sudo make lab`` makes."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces): run `sudo make test`")
    usable = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", USER_PYTHON, "-c",
                             "import labkit, kubernetes"], capture_output=True, text=True, cwd="/",
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if usable.returncode != 0:
        pytest.skip(f"nobody cannot run {USER_PYTHON} with labkit (set LABKIT_USER_PYTHON to a venv of "
                    f"/usr/bin/python3): {usable.stderr.strip()[-120:]}")
    lifecycle.down(PARENT)
    before = host_state(PARENT)
    lifecycle.up(LabSpec(name=PARENT, nodes=2, host_routes=False))
    home = Path(tempfile.mkdtemp(prefix="labkit-companion-"))
    user = pwd.getpwnam("nobody")
    copy = home / ".kube" / f"labkit-{PARENT}.yaml"
    copy.parent.mkdir()
    shutil.copyfile(kubeconfig_file(PARENT), copy)
    os.chmod(copy, 0o600)
    for path in (home, copy.parent, copy):
        os.chown(path, user.pw_uid, user.pw_gid)
    with open(lab_dir(PARENT) / COPIES, "a") as listed:       # as userconfig.copy_for lists it
        listed.write(f"{copy}\n")
    try:
        yield home, before
    finally:
        lifecycle.down(PARENT)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def started(parent):
    home, _ = parent
    return as_nobody(home, START)


def test_an_ordinary_user_starts_companions_and_reads_their_nodes_through_their_api(parent, started):
    home, _ = parent
    assert started["uid"] != 0
    assert started["bridge"]["lab"] == "tcompabr" and started["bridge"]["via_api"] is True
    assert "cni0" in started["bridge"]["links"] and "bridge" in started["bridge"]["links"]
    assert started["flannel"]["lab"] == "tcompafl" and "flannel.1" in started["flannel"]["links"]
    assert "vxlan id 1" in started["flannel"]["links"]
    assert started["again"] is False                                   # idempotent
    assert started["status"] == {"bridge": True, "flannel": True, "nftables": False, "ebpf": False,
                                 "nopol": False, "calico": False}
    for name in ("tcompabr", "tcompafl"):                             # the daemon wrote the user's copies
        copy = home / ".kube" / f"labkit-{name}.yaml"
        assert copy.stat().st_uid == pwd.getpwnam("nobody").pw_uid and copy.stat().st_mode & 0o777 == 0o600
    assert companions.listed(PARENT) == ["tcompabr", "tcompafl"]


def test_bad_presets_are_refused_before_anything(started):
    code, status = started["bad"]
    assert code == 404 and status["kind"] == "Status" and status["reason"] == "NotFound"
    assert "choose one of bridge, flannel" in status["message"]
    assert started["bogus"].startswith("no companion lab preset named 'bridge --cni x'")
    assert not Path("/run/labkit/tcompare").exists()


def test_at_most_three_companions_and_none_for_a_companion(started):
    with pytest.raises(BadInput) as nested:
        companions.start("tcompabr", "nopol")
    assert nested.value.key == "companion.nested"
    info = companions.start(PARENT, "nopol")                         # root: no API needed
    assert (info["name"], info["started"], info["policyController"]) == ("tcompanp", True, False)
    with pytest.raises(BadInput) as bound:
        companions.start(PARENT, "nftables")
    assert bound.value.key == "companion.too_many"
    assert not cleanup.lab_namespaces("tcompanf")


def test_the_user_stops_a_companion_and_its_copy_goes(parent, started):
    home, _ = parent
    assert as_nobody(home, STOP) == {"stopped": None}
    assert not cleanup.lab_namespaces("tcompabr") and not lab_dir("tcompabr").exists()
    assert not (home / ".kube" / "labkit-tcompabr.yaml").exists()
    assert companions.listed(PARENT) == ["tcompafl", "tcompanp"]


def test_after_a_crash_down_of_the_parent_sweeps_every_companion(parent, started):
    home, before = parent
    running = companions.listed(PARENT)
    assert running == ["tcompafl", "tcompanp"] and all(cleanup.lab_namespaces(n) for n in running)
    for lab in [PARENT, *running]:
        os.kill(int(pid_file(lab).read_text()), signal.SIGKILL)
    lifecycle.down(PARENT)
    for name in running:
        assert not cleanup.lab_namespaces(name) and not cleanup.host_links(name)
        assert not cleanup.lab_processes(name) and not lab_dir(name).exists()
    assert not (home / ".kube" / "labkit-tcompafl.yaml").exists()
    assert host_state(PARENT) == before
