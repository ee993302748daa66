"""Which labs are the class's: a lab bearing a learner's lab name may be somebody else's (I/O, root).

A learner's lab is named after the login and its companions after the login's first 8 letters
(``roster.lab_names``); lab names are the machine's (node namespaces in ``/run/netns``, files in
``/run/labkit``), so the instructor's own ``sudo make lab NAME=alice``, or any other lab on the
server, may bear one. Sweeping such a name from the host (``labkit down``, ``cleanup.sweep``)
would tear that lab down.

So the class records each learner whose lab it starts (a file per login under the class's state,
written before the lab is made), and a lab counts as the class's only if its learner is recorded
*and* it is not visibly the host's: its daemon, when it runs, runs in the learner's world (network
namespace ``kc_<login>``), and it has no ``<lab>-host`` link in the host's namespace (a world's lab
has its host link inside the world). ``class up`` refuses a roster whose lab names are taken by a
lab that is not the class's, the spawner refuses to build over one, and ``class down`` sweeps none.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..embedded import cleanup
from ..embedded.lifecycle import exists
from ..embedded.paths import pid_file
from ..errors import BadInput
from .plan import ClassPlan, Learner
from .roster import lab_names

RECORD_DIR = "labs"         # under the class's state: one empty file per learner whose lab it made


def record(plan: ClassPlan, learner: Learner) -> None:
    """The class is about to make ``learner``'s lab: remembered until ``class down``."""
    where = Path(plan.state_dir) / RECORD_DIR
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    (where / learner.login).touch()


def recorded(plan: ClassPlan, login: str) -> bool:
    return (Path(plan.state_dir) / RECORD_DIR / login).exists()


def foreign_names(login: str, is_recorded: bool, existing: set[str], host_side: set[str]) -> list[str]:
    """The lab names of ``login`` that a lab which is not the class's holds (pure): every existing
    one when the class never made this learner's lab, else those that show on the host's side."""
    return sorted(n for n in lab_names(login) if n in existing and (not is_recorded or n in host_side))


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def daemon_netns(name: str) -> int | None:
    """The network namespace (inode) of lab ``name``'s running daemon; None if none runs."""
    try:
        pid = int(pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None
    return _inode(f"/proc/{pid}/ns/net")


def on_host_side(name: str, world_netns: str) -> bool:
    """Lab ``name`` runs outside the world ``world_netns`` (a path in /run/netns): its daemon lives
    in another namespace, or its host link is in this (the host's) namespace."""
    daemon = daemon_netns(name)
    if daemon is not None and daemon != _inode(world_netns):
        return True
    return bool(cleanup.host_links(name))


def foreign(plan: ClassPlan, learner: Learner) -> list[str]:
    """The lab names of ``learner`` held on this machine by labs that are not the class's."""
    from .world import netns_path

    names = lab_names(learner.login)
    existing = {n for n in names if exists(n)}
    host_side = {n for n in existing if on_host_side(n, netns_path(learner))}
    return foreign_names(learner.login, recorded(plan, learner.login), existing, host_side)


def check(plan: ClassPlan) -> None:
    """Refused (:class:`BadInput`, nothing changed) if a learner's lab name is another lab's."""
    for learner in plan.learners:
        taken = foreign(plan, learner)
        if taken:
            raise BadInput("class.lab_taken", login=learner.login, lab=taken[0])
