"""How long `labkit` takes to start: `labkit --help`, `labkit status`, `labkit env`, before and after.

"Before" is the labkit package of a git revision (default: the parent of the commit that made the
command's imports lazy), unpacked into a temporary directory and put first on PYTHONPATH; "after"
is this checkout. Runs alternate (before, after, before, ...) so that the machine's load weighs on
both alike. Prints, per command: median wall and CPU (user+sys of the child, getrusage) of N runs,
the ratio, the number of modules imported and the import time `python -X importtime` reports.
No lab needed (`status` without a lab, or as an ordinary user, fails after parsing: the start is
what is measured; with a lab running, `status` is the real one). ``--user nobody --python
/path/to/a/venv/of/usr/bin/python3``: as an ordinary user (root's interpreter may be unreadable to it).
Usage: python bench/cli_startup.py [--before REV] [--runs 7] [--user NAME --python PATH]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (["--help"], ["status"], ["env"])
DEFAULT_BEFORE = "930d3e4"          # main before the lazy CLI


def unpack(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "labkit"],
                             capture_output=True, check=True).stdout
    path = into / "before.tar"
    path.write_bytes(archive)
    with tarfile.open(path) as tar:
        tar.extractall(into, filter="data")
    return into


PREFIX: list[str] = []          # setpriv ... for --user
PYTHON = sys.executable


def run_once(pythonpath: Path, argv: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one `python -m labkit ARGV`."""
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*PREFIX, PYTHON, "-m", "labkit", *argv], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def imports(pythonpath: Path, argv: list[str]) -> tuple[int, float, int]:
    """(modules imported, their import time in s per -X importtime, of them labkit's)."""
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    err = subprocess.run([*PREFIX, PYTHON, "-X", "importtime", "-m", "labkit", *argv], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         cwd=tempfile.gettempdir()).stderr
    rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:") and "self" not in line]
    self_us = sum(int(r[0].split(":")[1]) for r in rows)
    return len(rows), self_us / 1e6, sum(1 for r in rows if r[2].strip().startswith("labkit"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git revision to compare with")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--user", help="run labkit as this user (root only; setpriv)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs labkit")
    opts = parser.parse_args()
    global PYTHON
    PYTHON = opts.python
    if opts.user:
        import pwd

        user = pwd.getpwnam(opts.user)
        PREFIX[:] = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {PYTHON}; as {opts.user or 'me'}; "
          f"before = {opts.before}, after = this checkout; {opts.runs} runs each, median")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)                                       # readable by --user
        trees = {"before": unpack(opts.before, Path(tmp)), "after": ROOT}
        print(f"{'command':18} {'':6} {'wall ms':>8} {'CPU ms':>8} {'modules':>8} {'labkit':>7} {'import ms':>10}")
        for argv in COMMANDS:
            figures: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
            run_once(ROOT, argv)                                   # warm the page cache
            for _ in range(opts.runs):
                for which, tree in trees.items():
                    figures[which].append(run_once(tree, argv))
            medians = {}
            for which, tree in trees.items():
                wall = statistics.median(f[0] for f in figures[which])
                cpu = statistics.median(f[1] for f in figures[which])
                medians[which] = (wall, cpu)
                count, import_s, own = imports(tree, argv)
                print(f"{'labkit ' + ' '.join(argv):18} {which:6} {wall * 1e3:8.0f} {cpu * 1e3:8.0f} {count:8} "
                      f"{own:7} {import_s * 1e3:10.0f}")
            (bw, bc), (aw, ac) = medians["before"], medians["after"]
            print(f"{'':18} {'ratio':6} {bw / aw:7.1f}x {bc / ac:7.1f}x")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
