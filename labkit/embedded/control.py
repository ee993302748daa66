"""The lab daemon's control channel: JSON lines over a Unix socket in the lab's directory.

Errors travel as their catalog key and parameters, so the client raises the same ``LabkitError``
and prints it in *its* language. The Kubernetes API (``labkit.apiserver``) sits beside this channel; this
one is for the CLI, the tests and anything that needs the data plane directly.
"""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from ..errors import LabkitError

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
