"""JupyterHub's spawner for a class: the learner's server in the learner's world, as the learner.

A ``LocalProcessSpawner`` whose start first makes the learner's world if it is missing (first
login: user, notebooks, namespace ``kc_<login>``, the lab inside it, the kubeconfig copy; a few
seconds), then runs ``jupyterhub-singleuser`` from the learners' venv through ``nsenter`` (into the
namespace) and ``setpriv`` (to the learner's uid, gid and groups): neither forks, so the pid the hub
watches is the server's. The server listens on the learner's address, where only the hub (through
the veth) reaches it; it reaches the hub's API on the hub's address.
"""
from __future__ import annotations

import asyncio
import os
import pwd
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode

from .. import i18n
from ..errors import LabkitError
from . import world
from .plan import SINGLEUSER_PORT, ClassPlan, Learner


def not_on_roster(login: str) -> LabkitError:
    """A hub user the roster does not list (the hub's admin page can add one): what the spawn page
    says, in both languages (the page has one)."""
    return LabkitError("class.not_on_roster", login=login)


def both_languages(error: LabkitError) -> str:
    return " / ".join(i18n.t(error.key, lang, **error.params) for lang in i18n.LANGUAGES)


def singleuser_argv(plan: ClassPlan, learner: Learner, user: pwd.struct_passwd) -> list[str]:
    """The server's command line (pure, given the user entry)."""
    server = str(plan.venv / "bin" / "jupyterhub-singleuser")
    return world.in_world(learner, world.private_proc(world.as_learner(user, [server])))


def learner_env(plan: ClassPlan, learner: Learner, user: pwd.struct_passwd) -> dict[str, str]:
    """What the learner's server and kernels see besides JupyterHub's own variables."""
    return {
        "USER": user.pw_name, "LOGNAME": user.pw_name, "HOME": user.pw_dir, "SHELL": user.pw_shell,
        "PATH": f"{plan.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "KUBECONFIG": f"{user.pw_dir}/.kube/labkit-{learner.lab}.yaml",
        "LABKIT_LAB": learner.lab,
        "LABKIT_CLASS_SERVICE": plan.service_url,
    }


class ClassSpawner(LocalProcessSpawner):
    plan_file = Unicode("", config=True, help="the class plan written by `labkit class up`")

    def _plan(self) -> tuple[ClassPlan, Learner]:
        plan = ClassPlan.from_json(Path(self.plan_file).read_text())
        try:
            return plan, plan.learner(self.user.name)
        except KeyError:
            raise RuntimeError(both_languages(not_on_roster(self.user.name))) from None

    def make_preexec_fn(self, name):  # nsenter and setpriv change namespace and user; we only chdir
        home = pwd.getpwnam(self._plan()[1].unix).pw_dir

        def preexec() -> None:
            os.chdir(home)

        return preexec

    def user_env(self, env):
        plan, learner = self._plan()
        env.update(learner_env(plan, learner, pwd.getpwnam(learner.unix)))
        return env

    async def start(self):
        plan, learner = self._plan()
        try:
            user = await asyncio.to_thread(world.prepare, plan, learner)
        except LabkitError as error:        # the hub's "Spawn failed: ..." page, in both languages
            raise RuntimeError(both_languages(error)) from None
        self.ip = learner.address
        self.port = SINGLEUSER_PORT
        self.cmd = singleuser_argv(plan, learner, user)
        self.notebook_dir = f"{user.pw_dir}/notebooks"
        self.default_url = "/lab/tree/en/00-welcome.ipynb"
        return await super().start()
