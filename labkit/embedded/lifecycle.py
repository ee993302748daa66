"""``up`` and ``down``: build a lab from its spec and start its daemon, or sweep it all away.

``up`` is all or nothing: bad input is refused before anything changes; a failure while building
sweeps what was made. Running ``up`` on a lab that is up changes nothing; on a lab whose daemon
died it only restarts the daemon (pods keep their namespaces and addresses).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Set as AbstractSet
from pathlib import Path

from ..errors import LabkitError
from . import cleanup, control, dataplane, hostnet
from .control import daemon_alive
from .hostnet import host_networks
from .paths import RUN_ROOT, control_socket, flocked, lab_dir, log_file
from .state import LabState
from .topology import LabSpec, check_no_conflicts, with_free_networks

DAEMON_START_TIMEOUT = 15.0


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabkitError("lab.needs_root")


def up(spec: LabSpec, chosen: AbstractSet[str] = frozenset()) -> tuple[LabSpec, bool]:
    """Make sure lab ``spec.name`` runs. Returns the spec in force and whether anything was started."""
    require_root()
    state = LabState.load(spec.name)
    if state is not None and dataplane.lab_exists(state.spec):
        if daemon_alive(spec.name):
            return state.spec, False
        start_daemon(spec.name)
        return state.spec, True
    cleanup.sweep(spec.name)           # leftovers of a lab that crashed half-way or lost its state
    with _networks_lock():             # two labs starting at once must not pick the same networks
        hosts = host_networks(exclude_links=(spec.host_link,))
        spec = with_free_networks(spec, hosts, set(chosen))
        check_no_conflicts(spec, hosts)
        try:
            hostnet.refuse(spec)    # contained from the first packet, before anything is built
            dataplane.ensure_lab_dir(spec)
            dataplane.build(spec)
            LabState(spec).save()
        except BaseException:
            cleanup.sweep(spec.name)
            raise
    try:
        start_daemon(spec.name)
    except BaseException:
        cleanup.sweep(spec.name)
        raise
    return spec, True


@contextlib.contextmanager
def _networks_lock():
    """An exclusive lock on the labs' directory while a lab chooses its networks and builds them."""
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    with flocked(os.open(RUN_ROOT, os.O_RDONLY)):
        yield


def start_daemon(name: str) -> None:
    log = open(log_file(name), "ab")
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "labkit.embedded.daemon", "--name", name],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        close_fds=True, cwd="/", env=env)
    log.close()
    deadline = time.monotonic() + DAEMON_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if daemon_alive(name, ready=True):
            return
        time.sleep(0.02)
    tail = log_file(name).read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
    proc.kill()
    raise LabkitError("lab.daemon_failed", name=name, error=tail[0], log=str(log_file(name)))


def down(name: str) -> int:
    """Remove lab ``name`` entirely (daemon, pods, nodes, host link and routes, files)."""
    require_root()
    sock = control_socket(name)
    if sock.exists():
        try:
            control.call(sock, "shutdown", timeout=2.0)
        except (OSError, ValueError, LabkitError):
            pass
    removed = cleanup.sweep(name)
    if not all_labs():                           # the last lab gone: the machine's ARP table as it was
        from . import neighbours

        neighbours.restore()
    return removed


def all_labs() -> list[str]:
    """Every lab this machine keeps (its directory under ``/run/labkit``), for ``labkit down --all``."""
    from .topology import LabSpec

    if not RUN_ROOT.is_dir():
        return []
    found = []
    for entry in sorted(RUN_ROOT.iterdir()):
        try:
            LabSpec(name=entry.name)
        except LabkitError:
            continue
        if entry.is_dir():
            found.append(entry.name)
    return found


def down_all() -> int:
    """``down`` of every lab (companions go with their lab); returns how many objects were removed."""
    return sum(down(name) for name in all_labs() if exists(name))


def exists(name: str) -> bool:
    return lab_dir(name).exists() or bool(cleanup.lab_namespaces(name))


def reset(name: str) -> LabSpec:
    """Bring lab ``name`` back to a fresh start with the same shape (nodes, CNI, proxy mode, networks).

    A lab broken in the middle of a class comes back in seconds: everything is swept by name and
    rebuilt from the spec it had.
    """
    require_root()
    state = LabState.load(name)
    if state is None:
        raise LabkitError("lab.not_running", name=name)
    spec = state.spec
    down(name)
    chosen = {"--node-cidr", "--pod-cidr", "--service-cidr"}    # keep the networks it had
    spec, _ = up(spec, chosen)
    return spec
