"""A lab on the host bearing a learner's lab name is not the class's: `class up` refuses the roster
and `class down` never sweeps it (it used to: `class down` ran `labkit down --name <login>` for
every `kc_` user it found, whoever's lab that name was)."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.control import daemon_alive
from labkit.embedded.topology import LabSpec

NAME = "kchostlab"          # the instructor's own lab, and a login on the roster
STATE = Path("/var/lib/kubenet-class")


def _labkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "labkit"), *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, LABKIT_LANG="en"))


def _netns() -> list[str]:
    return sorted(n for n in os.listdir("/run/netns") if n.startswith(f"{NAME}-")) \
        if os.path.isdir("/run/netns") else []


@pytest.fixture
def host_lab():
    if STATE.exists():
        pytest.skip("a class is already running on this machine (/var/lib/kubenet-class)")
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME, nodes=2))
    try:
        yield
    finally:
        lifecycle.down(NAME)
        subprocess.run(["userdel", "--remove", f"kc_{NAME}"], capture_output=True)


def test_class_up_refuses_a_roster_whose_lab_name_a_host_lab_holds(host_lab, tmp_path):
    roster = tmp_path / "class.txt"
    roster.write_text(f"{NAME}\n")
    up = _labkit("class", "up", "--roster", str(roster), "--ip", "127.0.0.1", "--port", "8719")
    assert up.returncode == 2, up.stdout + up.stderr
    assert up.stderr.strip() == (
        f"labkit: {NAME}'s lab would be named {NAME}, and a lab {NAME} that is not the class's is on this "
        f"machine: take it down (`sudo labkit down --name {NAME}`) or choose another login; nothing was changed")
    assert not STATE.exists() and f"kc_{NAME}" not in {p.pw_name for p in pwd.getpwall()}
    assert daemon_alive(NAME, ready=True)


def test_class_down_leaves_a_host_lab_named_like_a_learner(host_lab):
    """A learner on the roster who has not logged in yet, and the instructor's `sudo make lab
    NAME=<that login>` started meanwhile: `make class-down` sweeps the learner, not the lab."""
    before = _netns()
    subprocess.run(["useradd", "--create-home", "--comment", "kubenet-class learner", f"kc_{NAME}"], check=True)
    down = _labkit("class", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"kc_{NAME}" not in {p.pw_name for p in pwd.getpwall()}
    assert daemon_alive(NAME, ready=True) and _netns() == before and len(before) >= 2
