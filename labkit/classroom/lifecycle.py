"""``labkit class up`` / ``labkit class down``: the whole class on this server, and none of it after.

``up`` (root) installs what is missing (the proxy from npm, the learners' venv), creates the
learners' Unix users, the hub's link and the firewall table, writes the plan and JupyterHub's
configuration, and starts the hub in the background; learners' worlds are made on first login.
``down`` stops the hub (which stops the servers and the proxy), sweeps every learner's world and
lab, every ``kc_*`` link, user and process, the firewall table and the class's state; it trusts no
state file (the namespaces, links and users are found by the ``kc_`` prefix).
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .. import i18n
from ..apiserver.limits import MAX_PODS
from ..embedded import neighbours
from ..embedded.hostnet import host_networks, lab_links
from ..embedded.lifecycle import all_labs
from ..errors import BadInput, LabkitError
from . import host, hubconfig, ownership, ports, world
from .plan import PREFIX, STATE_DIR, ClassPlan, Learner

HUB_START_TIMEOUT = 60.0


def require_root(target: str = "class") -> None:
    """``target``: the make target to run with sudo (``class``, ``class-down``)."""
    if os.geteuid() != 0:
        raise LabkitError("class.needs_root", target=target)


def check_network(plan: ClassPlan) -> None:
    """The class network must be free on this machine (the class's own links aside)."""
    net = ipaddress.ip_network(plan.network)
    links = lab_links() + tuple(host.class_links())
    for used in host_networks(exclude_links=links, include_refusals=False):
        if ipaddress.ip_network(used.cidr, strict=False).overlaps(net):
            raise LabkitError("class.network_taken", network=plan.network, where=used.where)


def check_ports(plan: ClassPlan, running: ClassPlan | None) -> None:
    """Every port the class listens on must be free, but those the running class (``running``) holds."""
    held = set(ports.needed(running)) if running else set()
    for address, port, public in ports.needed(plan):
        if (address, port, public) in held or ports.is_free(address, port):
            continue
        who = ports.holder(port)
        raise BadInput("class.port_taken" if public else "class.internal_port_taken",
                       address=f"{address}:{port}", who=f" ({who})" if who else "")


def hub_running(state: Path) -> bool:
    pid = _pid(state / "jupyterhub.pid")
    return pid is not None and Path(f"/proc/{pid}").exists() and _is_class_process(pid)


def hub_answers(plan: ClassPlan) -> bool:
    host_ip = "127.0.0.1" if plan.public_ip in ("0.0.0.0", "") else plan.public_ip
    try:
        with urllib.request.urlopen(f"http://{host_ip}:{plan.public_port}/hub/api", timeout=2) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def up(plan: ClassPlan, say: Callable[[str], None] = lambda text: None) -> ClassPlan:
    """Build what is missing and start (or restart) the hub. Bad input and taken ports are refused
    before anything changes; a hub that does not start leaves the host as it was found (a class
    that was already running is left running as it was)."""
    require_root()
    state = Path(plan.state_dir)
    running = previous_plan(plan.state_dir) if hub_running(state) else None
    check_network(plan)
    check_ports(plan, running)
    ownership.check(plan)           # no learner's lab name held by a lab that is not the class's
    first = not class_exists(state)
    try:
        _build_and_start(plan, state, say)
    except LabkitError as error:
        if not first:               # a class was here (maybe learners at work): left as it is
            raise
        _roll_back(plan)
        if error.key == "class.hub_failed":
            raise LabkitError("class.hub_failed_clean", error=error.params["error"],
                              log=error.params["log"]) from error
        raise
    return plan


def class_exists(state: Path) -> bool:
    """Anything of a class on this machine: its plan, a learner's user or world (a log left by a
    failed first start is not a class)."""
    return (state / "plan.json").exists() or bool(host.class_users()) or bool(class_worlds())


def _build_and_start(plan: ClassPlan, state: Path, say: Callable[[str], None]) -> None:
    """``say``: a line for the instructor before the long steps (the installs, the hub's start)."""
    if not host.proxy_current(plan):
        say(i18n.t("class.installing_proxy", path=str(Path(plan.install_dir) / "proxy")))
        host.install_proxy(plan)
    if not host.learner_venv_current(plan):
        say(i18n.t("class.installing_venv", path=str(plan.venv)))
        host.install_learner_venv(plan)
    host.configure_learner_jupyter(plan)
    for learner in plan.learners:
        host.ensure_user(learner)
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    (state / "plan.json").write_text(plan.to_json())
    config = state / "jupyterhub_config.py"
    changed = not config.exists() or config.read_text() != hubconfig.render(plan)
    config.write_text(hubconfig.render(plan))
    host.ensure_hub_address(plan)
    host.apply_firewall(plan)
    # every learner's pods share the machine's one ARP table, and a lab inside a world cannot size
    # it (its thresholds exist in the host's namespace only): sized here for the whole class
    neighbours.fit(MAX_PODS * len(plan.learners))
    if changed:
        stop_hub(state)     # a new roster (or port): the hub restarts, learners' servers keep running
    if not hub_answers(plan):
        say(i18n.t("class.starting_hub"))
        start_hub(plan)


def _roll_back(plan: ClassPlan) -> None:
    """A first `class up` that failed: everything it made goes, but the hub's log, which says why."""
    state = Path(plan.state_dir)
    log = state / "hub.log"
    kept = log.read_bytes() if log.exists() else None
    down(plan.state_dir, plan.hub_python or sys.executable)
    if kept is not None:
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        log.write_bytes(kept)


def previous_plan(state_dir: str = str(STATE_DIR)) -> ClassPlan | None:
    """The plan of the class running here, if any (its learners keep their addresses)."""
    try:
        return ClassPlan.from_json((Path(state_dir) / "plan.json").read_text())
    except (OSError, ValueError, TypeError):
        return None


def start_hub(plan: ClassPlan) -> None:
    state = Path(plan.state_dir)
    log = open(state / "hub.log", "ab")
    env = dict(os.environ, PATH=f"{Path(plan.hub_python).parent}:{os.environ.get('PATH', '')}")
    proc = subprocess.Popen([str(Path(plan.hub_python).parent / "jupyterhub"), "-f",
                             str(state / "jupyterhub_config.py")],
                            cwd=str(state), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)
    log.close()
    deadline = time.monotonic() + HUB_START_TIMEOUT
    while not hub_answers(plan):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_group(proc, plan)
            said = ports.reason((state / "hub.log").read_text(errors="replace"))
            raise LabkitError("class.hub_failed", error=said, log=str(state / "hub.log"))
        time.sleep(0.2)


def _stop_group(proc: subprocess.Popen, plan: ClassPlan) -> None:
    """The hub stopped and reaped, and what it started (the proxy and the class service run in
    sessions of their own: found by their command lines)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    host.kill(class_processes(plan.state_dir, plan.install_dir))


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def stop_hub(state: Path) -> None:
    hub = _pid(state / "jupyterhub.pid")
    if hub and Path(f"/proc/{hub}").exists():
        os.kill(hub, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{hub}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    pids = [p for p in (_pid(state / "jupyterhub.pid"), _pid(state / "proxy.pid")) if p]
    host.kill([p for p in pids if Path(f"/proc/{p}").exists() and _is_class_process(p)])


def _is_class_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"jupyterhub" in cmdline or b"configurable-http-proxy" in cmdline


def class_processes(state_dir: str, install_dir: str) -> list[int]:
    """The hub, its proxy and the class service of the class whose state is ``state_dir``, by their
    command lines (also orphans of a hub killed before it could stop them)."""
    marks = (f"{state_dir}/jupyterhub_config.py".encode(), f"{state_dir}/plan.json".encode(),
             f"{install_dir}/proxy/".encode())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if any(mark in cmdline for mark in marks):
                found.append(int(entry))
    return found


def fit_neighbours_to(max_pods: list[int], root: Path = neighbours.ROOT, saved: Path | None = None) -> None:
    """The class gone: the machine's ARP thresholds as found before any lab raised them, raised
    again for the labs still running (``max_pods``: each one's pod cap; none left: as found). It
    used to restore them only when no lab was left, so with another lab running the class's size
    (e.g. 8,000 for 4 learners) stayed until that lab went down."""
    neighbours.restore(root, saved)
    for pods in max_pods:
        neighbours.fit(pods, root, saved)


def _max_pods(lab: str) -> int:
    from ..embedded.state import LabState

    try:
        state = LabState.load(lab)
    except (OSError, ValueError, KeyError, TypeError, LabkitError):
        state = None
    return state.spec.max_pods if state is not None else MAX_PODS


def class_worlds() -> list[str]:
    """Logins of every learner world on this machine (namespaces ``kc_<login>``), found by name."""
    try:
        return sorted(n[len(PREFIX):] for n in os.listdir(world.NETNS_DIR) if n.startswith(PREFIX))
    except FileNotFoundError:
        return []


def down(state_dir: str = str(STATE_DIR), hub_python: str = sys.executable, purge: bool = False) -> int:
    """Remove the class; returns how many learners' worlds were swept."""
    require_root("class-down")
    state = Path(state_dir)
    stop_hub(state)
    plan = ClassPlan(learners=(), state_dir=state_dir, hub_python=hub_python)
    host.kill(class_processes(plan.state_dir, plan.install_dir))
    logins = sorted(set(class_worlds()) | {u[len(PREFIX):] for u in host.class_users()})
    for login in logins:
        world.remove_world(plan, Learner(login, False, "0.0.0.0"))
    host.remove_users(host.class_users())
    host.remove_network()
    # the learners' labs went down inside their worlds, where the machine's ARP thresholds cannot be
    # put back: done here, in the host's namespace, as the labs left on the machine need them
    fit_neighbours_to([_max_pods(name) for name in all_labs()])
    shutil.rmtree(state, ignore_errors=True)
    if purge:
        shutil.rmtree(plan.install_dir, ignore_errors=True)
    return len(logins)
