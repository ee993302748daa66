"""The class's ports, checked before anything is built, and the hub's log read for the reason it stopped.

A class needs four TCP ports: the public one (``--port``, where learners connect: the proxy), the
proxy's API on the host's 127.0.0.1, and the hub's API and the class service on the hub's address.
A port another program holds made the hub fail after a full minute with the last line of its log
(a proxy's "201 POST /api/routes..."), and left users, firewall and processes behind; now it is
refused first, with who holds it. ``ss`` names the holder; the check itself is a ``bind``.
"""
from __future__ import annotations

import errno
import re
import socket
import subprocess

from .plan import HUB_API_PORT, PROXY_API_PORT, SERVICE_PORT, ClassPlan

IP_FREEBIND = 15            # linux/in.h: bind an address this machine does not have (yet): the hub's
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What JupyterHub and configurable-http-proxy write when they stop: tornado's "[E"/"[C" levels, the
# proxy's "error:", Python's exception line, the kernel's words for a port.
REASON = re.compile(r"\[[EC] |\berror\b|Error\b|EADDRINUSE|address already in use|Traceback", re.IGNORECASE)


def needed(plan: ClassPlan) -> list[tuple[str, int, bool]]:
    """(address, port, public) for every port the class listens on (pure)."""
    return [(plan.public_ip or "0.0.0.0", plan.public_port, True),
            ("127.0.0.1", PROXY_API_PORT, False),
            (plan.hub_ip, HUB_API_PORT, False),
            (plan.hub_ip, SERVICE_PORT, False)]


def is_free(address: str, port: int) -> bool:
    """Whether a listening socket could take ``address:port`` now (TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        try:
            s.bind((address, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def holder(port: int) -> str:
    """Who listens on ``port`` (``python3, pid 1234``), as ``ss -ltnp`` says; empty if unknown."""
    try:
        out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    found = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
    return f"{found.group(1)}, pid {found.group(2)}" if found else ""


def reason(log_text: str) -> str:
    """The line of the hub's log that says why it stopped (pure): the last error-like line, without
    terminal colours, else the last line."""
    lines = [ANSI.sub("", line).strip() for line in log_text.splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if REASON.search(line)]
    return (errors or lines or ["no output"])[-1]
