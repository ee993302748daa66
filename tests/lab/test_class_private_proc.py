"""A learner's server sees only the learner's own processes, and the host's /proc stays as it was.

The spawner's command line (without its `nsenter --net`, which needs a learner's world) is run
with `ps` in place of the server, as `nobody`: it lists nobody's processes only (it listed every
process of the machine, with other learners' command lines), and the host's /proc mount options
are the same before, during and after.
"""
from __future__ import annotations

import pwd
import subprocess
from pathlib import Path

from labkit.classroom import plan, roster, spawner


def _proc_options() -> str:
    return next(line.split(" - ", 1)[1] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if line.split()[4] == "/proc")


def test_the_learners_server_lists_only_the_learners_processes_and_the_hosts_proc_is_untouched():
    nobody = pwd.getpwnam("nobody")
    the_plan = plan.make_plan(roster.parse("kcproc\n"))
    argv = spawner.singleuser_argv(the_plan, the_plan.learner("kcproc"), nobody)
    assert argv[:2] == ["nsenter", "--net=/run/netns/kc_kcproc"] and argv[-1].endswith("/jupyterhub-singleuser")
    before = _proc_options()
    with subprocess.Popen(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
                           "sleep", "30"]) as neighbour:          # another process of the same user: seen
        seen = subprocess.run([*argv[3:-1], "ps", "-e", "-o", "pid=,user="], capture_output=True, text=True,
                              check=True).stdout.split()
        during = _proc_options()
        neighbour.kill()
    users, pids = set(seen[1::2]), {int(p) for p in seen[0::2]}
    assert users == {"nobody"} and neighbour.pid in pids, seen           # no root process, nobody else's
    assert 1 not in pids
    assert during == before and _proc_options() == before
