"""`pytest -m "not lab"` as an ordinary user, in a fresh copy of the tree, runs the unit tests.

Run as root (``make test``), the test copies the tree (the files git knows, as they are in the
working tree) into a directory ``nobody`` owns and runs ``pytest -m "not lab" tests/unit tests/lab``
there as ``nobody``: every unit test must pass, and every test under ``tests/lab/`` must be
deselected by its folder's marker (not skipped, not run). The interpreter is this venv's; when an
ordinary user cannot run it (a venv made from an interpreter under root's home, as pyenv's), a
venv of Debian's interpreter of the same version that sees this venv's packages (a ``.pth`` file)
runs instead. The test skips, saying why, only when neither can be run by ``nobody``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NESTED = "LABKIT_TEST_AS_USER"              # set in the inner run: it must not start another
PROBE = ("import subprocess, sys; "
         "subprocess.run([sys.executable, '-c', 'import pytest, labkit.netpol'], check=True)")
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="switching to an ordinary user needs root; "
                       "as an ordinary user, `pytest -m 'not lab'` is this check"),
    pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="the inner run of this test"),
    pytest.mark.timeout(900),
]


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for rel in filter(None, (f.decode() for f in files)):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _debian_venv(base: Path, tree: Path) -> str | None:
    """A venv of Debian's interpreter (this version) that sees the tree, then this venv's packages."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = Path(f"/usr/bin/python{version}")
    if not system.exists() or Path(sys.executable).resolve() == system.resolve():
        return None
    venv = base / "venv"
    made = subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], capture_output=True)
    if made.returncode != 0:
        return None
    pth = venv / "lib" / f"python{version}" / "site-packages" / "labkit-tests.pth"
    pth.write_text(f"{tree}\n{sysconfig.get_paths()['purelib']}\n")
    return str(venv / "bin" / "python")


def _as_nobody(argv: list[str], env: dict[str, str], cwd: Path, timeout: float):
    return subprocess.run([*AS_NOBODY, *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def user_tree():
    if not shutil.which("setpriv") or not shutil.which("git"):
        pytest.skip("needs setpriv (util-linux) and git")
    base = Path(tempfile.mkdtemp(prefix="labkit-as-user-"))     # pytest's tmp_path is root's (0700)
    tree, home = base / "kubenet-lab", base / "home"
    tree.mkdir()
    home.mkdir()
    _copy_tree(tree)
    debian = _debian_venv(base, tree)
    subprocess.run(["chown", "-R", "nobody:nogroup", str(base)], check=True)
    yield tree, home, debian
    shutil.rmtree(base, ignore_errors=True)


def test_unit_tests_pass_for_an_ordinary_user_and_lab_tests_are_deselected(user_tree):
    tree, home, debian = user_tree
    base_env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                NESTED: "1"}
    reasons = []
    for python in filter(None, [sys.executable, debian]):
        env = dict(base_env, PYTHONPATH=str(tree))
        # the tests start `sys.executable` themselves: the interpreter must run from Python too
        probe = _as_nobody([python, "-c", PROBE], env, tree, 60)
        if probe.returncode == 0:
            break
        reasons.append(f"{python}: {probe.stderr.strip()[-160:]}")
    else:
        pytest.skip("no interpreter with labkit's packages can be run by an ordinary user here: "
                    + " | ".join(reasons))
    lab_tests = sum(1 for p in (tree / "tests" / "lab").glob("test_*.py")
                    for line in p.read_text().splitlines() if line.startswith("def test_"))
    proc = _as_nobody([python, "-m", "pytest", "-m", "not lab", "-q", "-p", "no:cacheprovider",
                       "tests/unit", "tests/lab"], env, tree, 840)
    tail = proc.stdout[-3000:] + proc.stderr[-1000:]
    assert proc.returncode == 0, tail
    summary = proc.stdout.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|deselected|error)",
                                                       summary)}
    assert counts.get("passed", 0) >= 300, summary
    assert counts.get("deselected", 0) >= lab_tests > 0, summary       # tests/lab: deselected, not run
    assert "needs root" not in proc.stdout, tail
