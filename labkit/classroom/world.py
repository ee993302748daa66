"""One learner's world (I/O, root): their network namespace, their lab inside it, their kubeconfig.

The lab is an ordinary embedded lab (``labkit up --name <login>``) started *inside* the learner's
namespace ``kc_<login>``: that namespace is the lab's "host", so the lab takes the canonical
172.18.0.0/16, 10.244.0.0/16 and 10.96.0.0/16 (nothing else uses them there), its host routes and
refusals, its host link and its API on 127.0.0.1 all stay in the learner's world. The lab's node
and pod namespaces are named after the login (``alice-control-plane``), as any lab's.
"""
from __future__ import annotations

import logging
import os
import pwd
from pathlib import Path

from ..embedded import cleanup, companions
from ..embedded.lifecycle import daemon_alive
from ..embedded.paths import lab_dir
from ..embedded.processes import netns_processes
from ..embedded.userconfig import copy_for
from ..errors import LabkitError
from . import ownership
from .host import copy_notebooks, ensure_user, kill, run
from .plan import ClassPlan, Learner, world_commands

log = logging.getLogger(__name__)

NETNS_DIR = Path("/run/netns")


def netns_path(learner: Learner) -> str:
    return str(NETNS_DIR / learner.netns)


def in_world(learner: Learner, argv: list[str]) -> list[str]:
    """``argv`` run inside the learner's network namespace (util-linux's nsenter: no fork, same pid)."""
    return ["nsenter", f"--net={netns_path(learner)}", "--", *argv]


def as_learner(user: pwd.struct_passwd, argv: list[str]) -> list[str]:
    """``argv`` as the learner's Unix user: their uid, gid and groups, nothing kept from root."""
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--", *argv]


# Mounted as root in the server's own mount namespace, just before it becomes the learner: a proc
# whose every mount has options of its own (Linux >= 5.8), so the host's /proc keeps its own.
PRIVATE_PROC = 'mount -t proc -o hidepid=invisible proc /proc && exec "$@"'


def private_proc(argv: list[str]) -> list[str]:
    """``argv`` in a mount namespace of its own whose ``/proc`` shows only the caller's own processes
    (``hidepid=invisible``: a learner's ``ps`` lists their server, kernels, terminals and their pods,
    which run as them; not other learners' command lines). The host's ``/proc`` is not touched, so
    there is nothing to put back: the namespace goes with the learner's last process. Mounts made on
    the host later (a new lab's namespaces) still propagate into it (``slave``)."""
    return ["unshare", "--mount", "--propagation", "slave", "--", "sh", "-c", PRIVATE_PROC, "sh", *argv]


def has_world(learner: Learner) -> bool:
    return Path(netns_path(learner)).exists() and Path(f"/sys/class/net/{learner.host_link}").exists()


def ensure_world(plan: ClassPlan, learner: Learner) -> None:
    if has_world(learner):
        return
    remove_world(plan, learner)         # half-made: start over
    for argv in world_commands(plan, learner):
        run(argv)


def labkit_argv(plan: ClassPlan, *args: str) -> list[str]:
    return [plan.hub_python, "-m", "labkit", *args]


def lab_env(user: pwd.struct_passwd) -> dict[str, str]:
    """The lab daemon's environment: its pods run as the learner (labkit.embedded.processes)."""
    return dict(os.environ, LABKIT_POD_USER=f"{user.pw_uid}:{user.pw_gid}")


def prepare(plan: ClassPlan, learner: Learner) -> pwd.struct_passwd:
    """Everything the learner's server needs, made if missing: user, notebooks, world, lab, kubeconfig."""
    user = ensure_user(learner)
    taken = ownership.foreign(plan, learner)      # e.g. `sudo make lab NAME=<login>` since `class up`
    if taken:
        raise LabkitError("class.lab_taken_login", login=learner.login, lab=taken[0])
    ownership.record(plan, learner)
    copy_notebooks(plan, user, admin=learner.admin)
    ensure_world(plan, learner)
    if not daemon_alive(learner.lab, ready=True):
        run(in_world(learner, labkit_argv(plan, "up", "--name", learner.lab)), cwd="/", env=lab_env(user))
    copy_for(learner.lab, user)
    return user


def reset(plan: ClassPlan, learner: Learner) -> None:
    """The learner's lab swept and rebuilt with the same shape; nobody else's is touched."""
    user = pwd.getpwnam(learner.unix)
    ensure_world(plan, learner)
    if daemon_alive(learner.lab):
        try:
            run(in_world(learner, labkit_argv(plan, "reset", "--name", learner.lab)), cwd="/",
                env=lab_env(user))
            copy_for(learner.lab, user)
            return
        except LabkitError as error:       # a lab too broken to reset: rebuilt from nothing
            log.warning("reset of %s failed (%s): the lab is rebuilt", learner.lab, error)
    run(in_world(learner, labkit_argv(plan, "down", "--name", learner.lab)), cwd="/", check=False)
    run(in_world(learner, labkit_argv(plan, "up", "--name", learner.lab)), cwd="/", env=lab_env(user))
    copy_for(learner.lab, user)


def world_processes(learner: Learner) -> list[int]:
    """Processes living in the learner's namespace (their server, kernels, the lab's daemon)."""
    return netns_processes(learner.netns)


def remove_world(plan: ClassPlan, learner: Learner) -> None:
    """The learner's lab, processes, namespace and link, gone (idempotent, also half-made). A lab
    bearing the learner's lab name that is not the class's (``ownership``) is left alone, and so is
    a companion name another lab holds."""
    if learner.lab not in ownership.foreign(plan, learner):
        _sweep_companions(learner)
        if Path(netns_path(learner)).exists():
            run(in_world(learner, labkit_argv(plan, "down", "--name", learner.lab)), cwd="/", check=False)
        cleanup.sweep(learner.lab)       # node and pod namespaces are global: found by name anywhere
    kill(world_processes(learner))
    if Path(netns_path(learner)).exists():
        run(["ip", "netns", "del", learner.netns], check=False)
    if Path(f"/sys/class/net/{learner.host_link}").exists():
        run(["ip", "link", "del", learner.host_link], check=False)


def _sweep_companions(learner: Learner) -> None:
    """The companions the learner's lab started, swept one by one, but a name held on the host's
    side (a lab of that name already ran there: the daemon found it "running" and listed it); the
    list is then emptied, so that the lab's own sweep does not go through it again."""
    for name in companions.listed(learner.lab):
        if name != learner.lab and not ownership.on_host_side(name, netns_path(learner)):
            cleanup.sweep(name)
    (lab_dir(learner.lab) / companions.LIST_FILE).unlink(missing_ok=True)
