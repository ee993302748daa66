"""``labkit jupyter`` and ``labkit env``: the learner's side of ``make lab``.

``sudo make lab`` starts the lab as root, then ``labkit jupyter``: JupyterLab and its kernels run as
the user who typed ``sudo`` (``SUDO_USER``), with their own copy of the lab's kubeconfig (0600), so
the notebooks' code never runs as root; node state comes through the lab daemon's API. Run as root
without sudo (a single-user VM), JupyterLab runs as root (``--allow-root``), as before. The URL is
printed once JupyterLab answers, not before.

``labkit env`` prints the lines that put ``labkit`` and the lab's ``KUBECONFIG`` in a shell
(``source <(.venv/bin/labkit env)``); ``make shell`` opens such a shell.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import i18n
from ..embedded.topology import DEFAULT_NAME
from ..errors import LabkitError

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0

MESSAGES = {
    "jupyter.cli.help": {"en": "start JupyterLab on the notebooks (as SUDO_USER under sudo)",
                         "fr": "démarre JupyterLab sur les carnets (en tant que SUDO_USER sous sudo)"},
    "jupyter.cli.env_help": {"en": "print the lines that put labkit and the lab's KUBECONFIG in your shell",
                             "fr": "affiche les lignes qui mettent labkit et le KUBECONFIG du lab dans votre shell"},
    "jupyter.cli.shell_help": {"en": "open a shell with them instead", "fr": "ouvre plutôt un shell avec"},
    "jupyter.as_user": {"en": "JupyterLab and its kernels run as {user} (not root); kubeconfig: {kubeconfig}",
                        "fr": "JupyterLab et ses noyaux tournent en tant que {user} (pas root) ; kubeconfig : {kubeconfig}"},
    "jupyter.as_root": {"en": "JupyterLab runs as root (no SUDO_USER): fine on a single-user VM",
                        "fr": "JupyterLab tourne en root (pas de SUDO_USER) : acceptable sur une VM personnelle"},
    "jupyter.url": {"en": "JupyterLab answers: {url}", "fr": "JupyterLab répond : {url}"},
    "jupyter.shell_hint": {
        "en": "In a terminal: `make shell` (or `source <({labkit} env --name {name})`) gives you labkit and kubectl",
        "fr": "Dans un terminal : `make shell` (ou `source <({labkit} env --name {name})`) vous donne labkit et kubectl"},
    "jupyter.failed": {
        "en": "JupyterLab did not answer on port {port} (exit {code}); is the port taken? try `make lab PORT=8889`",
        "fr": "JupyterLab n'a pas répondu sur le port {port} (code {code}) ; port déjà pris ? essayez `make lab PORT=8889`"},
    "jupyter.read_only": {
        "en": "{count} notebook(s) or folder(s) under {path} are not writable by {user} (e.g. {example}): "
              "JupyterLab opens them read-only and the learner cannot save; clone the repository as {user}, "
              "or give them the notebooks: sudo chown -R {user}: {path}",
        "fr": "{count} carnet(s) ou dossier(s) sous {path} ne sont pas modifiables par {user} (ex. {example}) : "
              "JupyterLab les ouvre en lecture seule et l'apprenant ne peut pas enregistrer ; clonez le dépôt "
              "en tant que {user}, ou donnez-lui les carnets : sudo chown -R {user}: {path}"},
    "jupyter.no_kubeconfig": {
        "en": "no kubeconfig of lab {name} readable by you: start it with `sudo make lab` from your account",
        "fr": "aucun kubeconfig du lab {name} lisible par vous : démarrez-le avec `sudo make lab` depuis votre compte"},
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("jupyter", help=i18n.t("jupyter.cli.help"))
    p.add_argument("--name", default=DEFAULT_NAME)
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--notebook-lang", choices=("en", "fr"), default="en")
    p.set_defaults(func=cmd_jupyter)
    e = subparsers.add_parser("env", help=i18n.t("jupyter.cli.env_help"))
    e.add_argument("--name", default=DEFAULT_NAME)
    e.add_argument("--shell", action="store_true", help=i18n.t("jupyter.cli.shell_help"))
    e.set_defaults(func=cmd_env)


def jupyter_argv(port: int, lang: str, token: str, as_root: bool) -> list[str]:
    """JupyterLab's command line (pure): loopback only, this port or fail, the welcome notebook, no news feed."""
    return [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
            f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={REPO / 'notebooks'}",
            f"--ServerApp.default_url=/lab/tree/{lang}/00-welcome.ipynb", f"--IdentityProvider.token={token}",
            "--LabApp.news_url=None",          # no "get notified about Jupyter news?" toast over the outputs
            *(["--allow-root"] if as_root else [])]


# JupyterLab's defaults for the learner: no "get notified about official Jupyter news?" question (it
# stays over the outputs until answered) and no update check; read from a labconfig directory put on
# JUPYTER_CONFIG_PATH (jupyterlab_server.settings_utils._get_overrides: default_setting_overrides.json)
SETTING_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def write_lab_config(directory: Path) -> Path:
    """A Jupyter config directory with :data:`SETTING_OVERRIDES`, readable by the learner."""
    labconfig = directory / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(SETTING_OVERRIDES, indent=1))
    for path in (directory, labconfig):
        path.chmod(0o755)
    (labconfig / "default_setting_overrides.json").chmod(0o644)
    return directory


def unwritable(root: Path, uid: int, gids: set[int]) -> list[Path]:
    """The folders and notebooks under ``root`` that the user ``uid`` (groups ``gids``) cannot
    write, by their mode bits: JupyterLab opens such a notebook read-only (nothing can be saved)
    and cannot keep checkpoints in such a folder."""
    import stat

    def writable(st: os.stat_result) -> bool:
        if st.st_uid == uid:
            return bool(st.st_mode & stat.S_IWUSR)
        if st.st_gid in gids:
            return bool(st.st_mode & stat.S_IWGRP)
        return bool(st.st_mode & stat.S_IWOTH)

    paths = [root, *sorted(p for p in root.rglob("*") if (p.is_dir() and ".ipynb_checkpoints" not in p.parts)
                           or p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts)]
    return [p for p in paths if not writable(p.stat())]


def learner_env(name: str, kubeconfig: Path, home: str | None = None, user: str | None = None) -> dict:
    env = dict(os.environ)
    for key in ("SUDO_USER", "SUDO_UID", "SUDO_GID", "SUDO_COMMAND", "MAIL"):
        env.pop(key, None)
    if home:
        env.update(HOME=home, USER=user or "", LOGNAME=user or "")
        env.pop("XDG_RUNTIME_DIR", None)       # root's; JupyterLab falls back to ~/.local/share
    env["KUBECONFIG"] = str(kubeconfig)
    env["LABKIT_LAB"] = name
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _answers(port: int, token: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_jupyter(args: argparse.Namespace) -> int:
    from ..embedded.paths import kubeconfig_file
    from ..embedded.userconfig import copy_for, invoking_user

    token = secrets.token_hex(16)
    user = invoking_user()
    if user is not None:
        kubeconfig = copy_for(args.name, user)
        env = learner_env(args.name, kubeconfig, user.pw_dir, user.pw_name)
        # util-linux's setpriv: the user's uid, gid and groups, nothing kept from root; JupyterLab
        # is told to stop if we die without stopping it
        drop = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
                "--pdeathsig=TERM", "--"]
        print(i18n.t("jupyter.as_user", user=user.pw_name, kubeconfig=kubeconfig), flush=True)
        notebooks = REPO / "notebooks"
        locked = unwritable(notebooks, user.pw_uid, set(os.getgrouplist(user.pw_name, user.pw_gid)))
        if locked:
            print(i18n.t("jupyter.read_only", count=len(locked), path=notebooks, user=user.pw_name,
                         example=locked[0].relative_to(REPO)), flush=True)
    else:
        env, drop = learner_env(args.name, kubeconfig_file(args.name)), []
        if os.geteuid() == 0:
            print(i18n.t("jupyter.as_root"), flush=True)
    signal.signal(signal.SIGTERM, _interrupt)     # `kill` stops JupyterLab too, not only us
    config = tempfile.TemporaryDirectory(prefix="labkit-jupyter-")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(write_lab_config(Path(config.name))),
                                                               env.get("JUPYTER_CONFIG_PATH")]))
    proc = subprocess.Popen(drop + jupyter_argv(args.port, args.notebook_lang, token, os.geteuid() == 0 and not drop),
                            env=env, cwd=str(REPO))
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(args.port, token):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.terminate()
                raise LabkitError("jupyter.failed", port=args.port, code=proc.wait())
            time.sleep(0.2)
        url = f"http://127.0.0.1:{args.port}/lab/tree/{args.notebook_lang}/00-welcome.ipynb?token={token}"
        print(f"\n  {i18n.t('jupyter.url', url=url)}\n", flush=True)
        print(i18n.t("jupyter.shell_hint", labkit=shlex.quote(str(Path(sys.executable).parent / "labkit")),
                     name=args.name), flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
    finally:
        config.cleanup()


def cmd_env(args: argparse.Namespace) -> int:
    from ..embedded.userconfig import readable_kubeconfig

    kubeconfig = readable_kubeconfig(args.name)
    if not os.access(kubeconfig, os.R_OK):
        raise LabkitError("jupyter.no_kubeconfig", name=args.name)
    bin_dir = Path(sys.executable).parent
    if args.shell:
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), LABKIT_LAB=args.name,
                   PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        shell = os.environ.get("SHELL") or "/bin/sh"
        os.execvpe(shell, [shell], env)
    print(f"export PATH={shlex.quote(str(bin_dir))}:\"$PATH\"")
    print(f"export KUBECONFIG={shlex.quote(str(kubeconfig))}")
    print(f"export LABKIT_LAB={shlex.quote(args.name)}")
    return 0
