"""The shared test user (tests/userkit.py) is removed after its block, with its home and its processes,
also when the test inside failed or skipped. Root only (it creates a Unix user); no lab."""
import os
import subprocess
from pathlib import Path

import pytest

from tests.userkit import as_user, exists, ordinary_user

USER = "tkuserkit"


def test_the_user_and_its_processes_are_gone_after_the_block():
    with ordinary_user(USER) as user:
        assert exists(USER) and Path(user.pw_dir).is_dir()
        sleeper = subprocess.Popen(as_user(user, ["sleep", "300"]), start_new_session=True)
        out = subprocess.run(as_user(user, ["id", "-u"]), capture_output=True, text=True, check=True).stdout
        assert out.split() == [str(user.pw_uid)]
        home = Path(user.pw_dir)
    assert not exists(USER) and not home.exists()
    assert sleeper.wait(timeout=10) == -9                 # killed, not finished


def test_a_failing_block_removes_the_user_too():
    with pytest.raises(RuntimeError), ordinary_user(USER):
        raise RuntimeError("the test failed")
    assert not exists(USER)


def test_a_failed_probe_skips_and_removes_the_user():
    with pytest.raises(pytest.skip.Exception) as skipped:
        with ordinary_user(USER, lambda u: subprocess.run(as_user(u, ["false"]), capture_output=True, text=True),
                           why="false fails"):
            pass
    assert "false fails" in str(skipped.value) and not exists(USER)


def test_a_user_left_by_a_killed_run_is_replaced():
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], capture_output=True, check=True)
    with ordinary_user(USER) as user:
        assert Path(user.pw_dir).is_dir() and os.stat(user.pw_dir).st_uid == user.pw_uid
    assert not exists(USER)
