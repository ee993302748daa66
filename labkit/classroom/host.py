"""The class's footprint on the host (I/O, root): installs, Unix users, the hub's link, the firewall.

Everything here is named with the class prefix (``kc_``) or lives under the class's two
directories, so that :func:`sweep` finds it all by name, also after a crash, without trusting any
state file; the installs under ``/opt/kubenet-class`` (learners' venv, the proxy) are kept for the
next class unless ``purge``.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import LabkitError
from . import firewall
from .plan import HUB_LABEL, PREFIX, ClassPlan, Learner, hub_address_commands

REPO = Path(__file__).resolve().parents[2]
DEBIAN_PYTHON = "/usr/bin/python3"      # world-executable, unlike a pyenv python under /root
USER_COMMENT = "kubenet-class learner"


def run(argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; a failure becomes a LabkitError naming the command and its last words."""
    done = subprocess.run(argv, check=False, capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise LabkitError("class.command_failed", command=" ".join(argv[:6]), error=said[0])
    return done


# -- installs -------------------------------------------------------------------------------------

def source_digest(repo: Path = REPO) -> str:
    """What the learners' venv was built from: pyproject.toml and every file of the labkit package."""
    h = hashlib.sha256((repo / "pyproject.toml").read_bytes())
    for path in sorted((repo / "labkit").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(repo)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def learner_venv_current(plan: ClassPlan) -> bool:
    stamp = plan.venv / ".labkit-source"
    return stamp.exists() and stamp.read_text() == source_digest(Path(plan.repo))


def install_learner_venv(plan: ClassPlan) -> bool:
    """The learners' Python: a venv of Debian's python3 in a world-readable place, with labkit
    (and so jupyterhub-singleuser, JupyterLab, kubectl's Python client) installed from this checkout
    (a copy: the checkout may live under root's home). Rebuilt only when the sources changed."""
    venv, stamp = plan.venv, plan.venv / ".labkit-source"
    if learner_venv_current(plan):
        return False
    digest = source_digest(Path(plan.repo))
    umask = os.umask(0o022)
    try:
        if not (venv / "bin" / "python").exists():
            run([DEBIAN_PYTHON, "-m", "venv", str(venv)])
        with tempfile.TemporaryDirectory(prefix="kubenet-class-src-") as source:
            run([str(venv / "bin" / "pip"), "install", "-q", "--no-warn-script-location",
                 str(package_source(Path(plan.repo), Path(source)))])
        stamp.write_text(digest)
    finally:
        os.umask(umask)
    return True


def terminal_config() -> dict:
    """The learners' JupyterLab terminals: a plain interactive bash (pure). Without a shell named,
    jupyter_server_terminals (app.py, ``initialize_configurables``) starts a *login* shell when the
    server has no tty, as under a spawner, and Debian's /etc/profile then resets PATH: a learner's
    terminal found no ``labkit`` (the class's venv), though kernels did. An interactive shell keeps
    the server's environment (PATH, KUBECONFIG, LABKIT_LAB) and still reads ~/.bashrc."""
    return {"ServerApp": {"terminado_settings": {"shell_command": ["/bin/bash"]}}}


def configure_learner_jupyter(plan: ClassPlan) -> None:
    """Written into the learners' venv (its ``etc/jupyter``: every learner's server reads it; the
    main file, since the ``.d`` directory is read for extensions only)."""
    import json

    path = plan.venv / "etc" / "jupyter" / "jupyter_server_config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(terminal_config(), indent=1) + "\n")
    os.chmod(path, 0o644)


def package_source(repo: Path, into: Path) -> Path:
    """What the package is built from, copied alone: not the checkout itself, whose ``build/lib``
    setuptools reuses and would ship with modules since moved or deleted (a stale
    ``policy_api/cluster.py`` beside its successor ``netpol/handle.py`` made the message catalog
    refuse to load: every learner's ``labkit`` failed)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(repo / name, into / name)
    shutil.copytree(repo / "labkit", into / "labkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def proxy_current(plan: ClassPlan) -> bool:
    target = Path(plan.install_dir) / "proxy"
    lock = (Path(plan.repo) / "scripts" / "class-proxy" / "package-lock.json").read_bytes()
    return plan.proxy_command.exists() and (target / "package-lock.json").exists() \
        and (target / "package-lock.json").read_bytes() == lock


def install_proxy(plan: ClassPlan) -> bool:
    """JupyterHub's proxy from npm, the version pinned in scripts/class-proxy (package-lock.json)."""
    target = Path(plan.install_dir) / "proxy"
    source = Path(plan.repo) / "scripts" / "class-proxy"
    if proxy_current(plan):
        return False
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(source / name, target / name)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=str(target))
    return True


# -- learners' Unix users -------------------------------------------------------------------------

def class_users() -> list[str]:
    return sorted(p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(PREFIX))


def ensure_user(learner: Learner) -> pwd.struct_passwd:
    """The learner's own Unix user (home 0700: nobody else reads their kubeconfig or notebooks)."""
    try:
        entry = pwd.getpwnam(learner.unix)
    except KeyError:
        run(["useradd", "--create-home", "--home-dir", learner.home, "--shell", "/bin/bash",
             "--user-group", "--comment", USER_COMMENT, learner.unix])
        entry = pwd.getpwnam(learner.unix)
        quiet_jupyterlab(entry)
    os.chmod(entry.pw_dir, 0o700)
    return entry


def quiet_jupyterlab(user: pwd.struct_passwd) -> None:
    """JupyterLab asks every new user whether to fetch news from the Internet: not on a class server."""
    settings = Path(user.pw_dir) / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')
    for path in [Path(user.pw_dir) / ".jupyter", *(Path(user.pw_dir) / ".jupyter").rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)


def copy_notebooks(plan: ClassPlan, user: pwd.struct_passwd, admin: bool = False) -> Path:
    """The workshop's notebooks (EN and FR) in the learner's home, theirs to edit; an instructor (a
    roster ``admin``) also gets the instructor's build with the solutions (``make
    notebooks-instructor``, ``notebooks/instructor/``) when it was built; learners never do."""
    target = Path(user.pw_dir) / "notebooks"
    if not target.exists():
        target.mkdir()
        sources = [(Path(plan.repo) / "notebooks" / lang, target / lang) for lang in ("en", "fr")]
        if admin:
            sources.append((Path(plan.repo) / "notebooks" / "instructor", target / "instructor"))
        for source, into in sources:
            if source.is_dir():
                shutil.copytree(source, into)
        for path in [target, *target.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    return target


def user_processes(uids: set[int]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in uids:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def remove_users(names: list[str]) -> None:
    uids = {pwd.getpwnam(n).pw_uid for n in names}
    kill(user_processes(uids))
    for name in names:
        run(["userdel", "--remove", name], check=False)


def kill(pids: list[int], grace: float = 3.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)]
            time.sleep(0.05)
        if not pids:
            return


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1] == "Z"
    except (OSError, IndexError):
        return True


# -- the hub's link and the firewall --------------------------------------------------------------

def hub_addresses() -> list[str]:
    """The hub addresses on this machine's ``lo`` (found by the class's label)."""
    import json

    found = json.loads(run(["ip", "-j", "addr", "show", "dev", "lo"]).stdout or "[]")
    return [f"{a['local']}/{a['prefixlen']}" for i in found for a in i.get("addr_info", [])
            if a.get("label") == HUB_LABEL]


def ensure_hub_address(plan: ClassPlan) -> None:
    if f"{plan.hub_ip}/32" not in hub_addresses():
        for argv in hub_address_commands(plan):
            run(argv)


def apply_firewall(plan: ClassPlan) -> None:
    run(["nft", "-f", "-"], input=f"table inet {firewall.TABLE}\ndelete table inet {firewall.TABLE}\n"
        + firewall.ruleset(plan))


def learners_address(listen_ip: str) -> str:
    """The address learners type: the hub's own when it listens on one; on every address
    (``0.0.0.0``), this machine's address on its default route (``ip route get``, a lookup: no
    packet is sent), else 127.0.0.1 (a machine without a network: only itself reaches the hub)."""
    if listen_ip not in ("0.0.0.0", ""):
        return listen_ip
    import json

    try:
        answer = json.loads(run(["ip", "-j", "-4", "route", "get", "1.1.1.1"], check=False).stdout or "[]")
    except (ValueError, OSError):
        answer = []
    return route_source(answer) or "127.0.0.1"


def route_source(answer: list) -> str:
    """The source address ``ip -j route get`` chose (pure; empty if none)."""
    return str(answer[0].get("prefsrc", "")) if answer and isinstance(answer[0], dict) else ""


def class_links() -> list[str]:
    return sorted(n for n in os.listdir("/sys/class/net") if n.startswith(PREFIX))


def remove_network() -> None:
    for link in class_links():
        run(["ip", "link", "del", link], check=False)
    for cidr in hub_addresses():
        run(["ip", "addr", "del", cidr, "dev", "lo", "label", HUB_LABEL], check=False)
    for argv in firewall.delete_commands():
        run(argv, check=False)
