"""The lab daemon's control channel: JSON lines over a Unix socket in the lab's directory.

Errors travel as their catalog key and parameters, so the client raises the same ``LabkitError``
and prints it in *its* language. The Kubernetes API (``labkit.apiserver``) sits beside this channel; this
one is for the CLI, the tests and anything that needs the data plane directly.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from ..errors import LabkitError
from .paths import RUN_ROOT, control_socket

MAX_MESSAGE = 64 * 1024 * 1024


def encode_error(exc: BaseException) -> dict:
    if isinstance(exc, LabkitError):
        return {"key": exc.key, "params": {k: _plain(v) for k, v in exc.params.items()},
                "exit_code": exc.exit_code}
    return {"key": "lab.command_failed", "exit_code": 1,
            "params": {"where": "lab daemon", "command": type(exc).__name__, "error": str(exc)}}


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def decode_error(data: dict) -> LabkitError:

    return LabkitError(data["key"], exit_code=data.get("exit_code", 1), **data.get("params", {}))


def call(sock_path: Path, op: str, timeout: float = 120.0, **args: Any) -> Any:
    """One request, one answer (synchronous: safe in a Jupyter cell, whose event loop runs)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock_path))
        s.sendall((json.dumps({"op": op, "args": args}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise decode_error(reply["error"])
    return reply.get("result")


def daemon_alive(name: str, ready: bool = False) -> bool:
    """The daemon answers (and, with ``ready``, its cluster is usable: API up, system pods running)."""
    sock = control_socket(name)
    if not sock.exists():
        return False
    try:
        answer = call(sock, "ping", timeout=2.0)
        return bool(answer.get("ready")) if ready else True
    except (OSError, ValueError, LabkitError):
        return False


def running_labs() -> list[str]:
    """Embedded labs whose daemon answers on this machine (for an ordinary user: the labs of which
    they have a kubeconfig copy, since only root may ask the daemon directly)."""
    from .userconfig import user_kubeconfig

    if not RUN_ROOT.is_dir():
        return []
    if os.geteuid() != 0:
        return sorted(d.name for d in RUN_ROOT.iterdir() if user_kubeconfig(d.name).exists())
    return sorted(d.name for d in RUN_ROOT.iterdir() if (d / "state.json").exists() and daemon_alive(d.name))
