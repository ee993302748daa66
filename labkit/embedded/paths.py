"""Where a lab keeps its files: everything under one directory named after the lab."""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

RUN_ROOT = Path(os.environ.get("LABKIT_RUN_DIR", "/run/labkit"))


@contextlib.contextmanager
def flocked(fd: int) -> Iterator[None]:
    """An exclusive ``flock`` on the open descriptor ``fd`` while the block runs; ``fd`` is closed
    after (the locks on the labs' directory and on a lab's companions)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def lab_dir(name: str) -> Path:
    return RUN_ROOT / name


def state_file(name: str) -> Path:
    return lab_dir(name) / "state.json"


def control_socket(name: str) -> Path:
    return lab_dir(name) / "control.sock"


def pid_file(name: str) -> Path:
    return lab_dir(name) / "daemon.pid"


def log_file(name: str) -> Path:
    return lab_dir(name) / "daemon.log"


def node_dir(name: str, node: str) -> Path:
    """A node's own files (its CNI config, IPAM state, flannel's subnet.env), like a kind node's /."""
    return lab_dir(name) / "nodes" / node


def kubeconfig_file(name: str) -> Path:
    """The lab's kubeconfig (mode 0600): context, cluster and user are named after the lab."""
    return lab_dir(name) / "kubeconfig"
