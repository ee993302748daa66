"""One way for tests to be an ordinary user: create a Unix user for the test, run commands as it, remove it.

Used by the as-user notebook test, the node-events test and the browser tests (``browserkit``).
``tests`` is a namespace package on ``sys.path`` (tests/conftest.py puts the checkout first):
``from tests.userkit import ordinary_user, as_user``.

The user is removed when the ``with`` block ends, also when the test failed or was skipped, with
its home and whatever processes of its own are still running (a kernel, a JupyterLab), so that no
run leaves a user behind; a user that remains is an error of the test's teardown.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def as_user(user: pwd.struct_passwd, argv: list[str]) -> list[str]:
    """``argv`` run as ``user`` (its uid, gid and groups; no login shell, the environment is the caller's)."""
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *argv]


def exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            real = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(real.split()[1]) == uid:
            pids.append(int(entry.name))
    return pids


def remove(name: str) -> None:
    """Remove the test user ``name``, its home and its remaining processes; AssertionError if it stays."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for _ in range(3):
        for pid in _processes_of(uid):           # only the test user's own processes
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        done = subprocess.run(["userdel", "-r", name], capture_output=True, text=True)
        if not exists(name):
            return
        time.sleep(0.2)
    raise AssertionError(f"test user {name} could not be removed: {done.stderr.strip()}")


@contextlib.contextmanager
def ordinary_user(name: str, probe: Callable[[pwd.struct_passwd], subprocess.CompletedProcess] | None = None,
                  why: str = "this interpreter cannot be run by an ordinary user here (set LABKIT_USER_PYTHON "
                             "to a venv of /usr/bin/python3)") -> Iterator[pwd.struct_passwd]:
    """An ordinary user ``name`` with a home, for the ``with`` block. Skips unless this is root.

    ``probe(user)``, if given, runs what the test needs as that user first; when it fails, the user is
    removed and the test skips with ``why`` and the end of the probe's stderr."""
    import pytest

    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, a test user): run `sudo make test`")
    remove(name)                                   # an earlier run's, killed before its teardown
    created = subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    try:
        user = pwd.getpwnam(name)
        if probe is not None:
            checked = probe(user)
            if checked.returncode != 0:
                pytest.skip(f"{why}: {(checked.stderr or '').strip()[-160:]}")
        yield user
    finally:
        remove(name)
