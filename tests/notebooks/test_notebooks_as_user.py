"""The notebooks as `sudo make lab` runs them: the kernel is an ordinary user's, not root's.

The other notebook tests run their kernels as root, which hid notebooks that only work as root (the
policy probe of 04 and the setup cell of 05 read the lab's root-only state files). Here the lab is
root's (``labkit up``), the user gets their copy of its kubeconfig as ``sudo labkit up`` writes it,
and nbclient with its kernel runs as that user (``setpriv``): node state, probes, traces and
companion labs must all come through the lab daemon's API. The instructor build runs, so every
exercise check runs too and must pass; one language per notebook, the two languages shared out.

The interpreter must be runnable by the user: this one, or ``LABKIT_USER_PYTHON`` (a venv of
Debian's ``/usr/bin/python3`` when this one lives under ``/root``, mode 700).
"""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from tests.userkit import as_user, ordinary_user

from . import nbrun

ROOT = Path(__file__).resolve().parents[2]
LAB = "tnbusr"
USER = "tknbuser"
PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
# notebook -> (language, number of exercise checks)
NOTEBOOKS = {"02-pod-to-pod": ("fr", 4), "03b-nodeport-dns-proxy-modes": ("en", 2),
             "04-network-policies": ("fr", 5), "05-network-stacks": ("en", 3)}
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
source, target, cwd, timeout = sys.argv[1:5]
nb = nbformat.read(source, as_version=4)
client = NotebookClient(nb, timeout=int(timeout), kernel_name="python3", resources={"metadata": {"path": cwd}})
try:
    client.execute(cwd=cwd)
finally:
    nbformat.write(nb, target)
"""

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def learner():
    # as nbclient starts the kernel: a child of the interpreter (a venv's link into /root fails there)
    check = ("import subprocess, sys; subprocess.run([sys.executable, '-c', 'import nbclient, ipykernel, labkit'],"
             " check=True, capture_output=True)")

    def probe(user: pwd.struct_passwd) -> subprocess.CompletedProcess:
        return subprocess.run(as_user(user, [PYTHON, "-c", check]), capture_output=True, text=True, cwd="/",
                              env=_env(user))

    with ordinary_user(USER, probe, why=f"{PYTHON} cannot be run by an ordinary user here (set LABKIT_USER_PYTHON)"
                       ) as user:
        from labkit.embedded import lifecycle
        from labkit.embedded.topology import LabSpec
        from labkit.embedded.userconfig import copy_for

        lifecycle.down(LAB)
        lifecycle.up(LabSpec(name=LAB))
        copy_for(LAB, user)                               # what `sudo labkit up` writes for SUDO_USER
        try:
            yield user
        finally:
            lifecycle.down(LAB)


def _env(user: pwd.struct_passwd) -> dict:
    """A login's environment: the user's HOME, no KUBECONFIG (the notebooks find the user's copy)."""
    return {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name, "LANG": "C.UTF-8",
            "PATH": os.pathsep.join([str(Path(PYTHON).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LABKIT_LAB": LAB, "PYTHONPATH": str(ROOT)}


def _execute_as(user: pwd.struct_passwd, name: str, lang: str):
    import nbformat

    work = Path(user.pw_dir) / "nbrun"
    work.mkdir(exist_ok=True)
    os.chown(work, user.pw_uid, user.pw_gid)
    source, target = work / f"{name}.{lang}.ipynb", work / f"{name}.{lang}.out.ipynb"
    nbformat.write(nbrun.notebook(name, lang, solved=True), source)
    os.chown(source, user.pw_uid, user.pw_gid)
    cwd = ROOT / "notebooks" / lang
    proc = subprocess.run(as_user(user, [PYTHON, "-c", RUNNER, str(source), str(target), str(cwd),
                                     str(nbrun.CELL_TIMEOUT)]),
                          capture_output=True, text=True, cwd=str(work), env=_env(user), timeout=840)
    nb = nbformat.read(target, as_version=4) if target.exists() else None
    if nb is not None:
        nbrun.OUTPUT.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, nbrun.OUTPUT / f"{name}.{lang}.as-user.ipynb")
    assert proc.returncode == 0, f"{name} ({lang}) failed as an ordinary user:\n{proc.stderr[-4000:]}"
    return nb


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_a_notebook_runs_with_a_kernel_that_is_not_root(learner, name):
    lang, count = NOTEBOOKS[name]
    nb = _execute_as(learner, name, lang)
    errors = [(c.source[:200], o.get("ename"), o.get("evalue")) for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    texts = "\n".join(nbrun.outputs_text(c) for c in nb.cells if c.cell_type == "code")
    assert "PermissionError" not in texts and "Permission denied" not in texts, texts[-3000:]
    checks = [c for c in nb.cells if c.cell_type == "code"
              and c.source.lstrip().startswith(("pods.check_", "ex.check("))]
    nbrun.assert_checks({lang: nb}, lambda _nb: checks, count, solved=True)
