"""``kind up`` / ``kind down``: run the steps of :mod:`labkit.kind.install` with the real tools.

Commands are found on ``PATH`` by name (``docker``, ``kind``, ``kubectl``, ``helm``, ``ip``), so
the tests put stand-in executables first on ``PATH`` and check the command lines without a Docker
engine. A missing tool is bad input (exit 2, nothing changed) with the way to install it; a
failing command becomes one line naming the command and its last error line.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

from .. import i18n
from ..errors import BadInput, LabkitError
from . import install, manifests
from .config import KindPlan
from .versions import KIND_VERSION

Say = Callable[[str], None]


def run(argv: Sequence[str], stdin: str | None = None, timeout: float = 900) -> str:
    """Run one command; its stdout, or a ``LabkitError`` naming it."""
    try:
        proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError as exc:
        raise BadInput("kind.missing_tool", tool=argv[0], how=how_to_install(argv[0])) from exc
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()]
        raise LabkitError("kind.command_failed", command=" ".join(argv), code=proc.returncode,
                          error=lines[-1] if lines else "-")
    return proc.stdout


def how_to_install(tool: str) -> str:
    key = f"kind.how.{tool}"
    try:
        return i18n.t(key, version=KIND_VERSION)
    except KeyError:
        return tool


def required_tools(plan: KindPlan) -> list[str]:
    tools = ["docker", "kind", "kubectl"]
    if any(step.fetch for step in install.plan_steps(plan)):
        tools.append("curl")
    return tools + ["helm"] if plan.cni == "cilium" else tools


def check_tools(tools: Sequence[str]) -> None:
    """Every tool on PATH, and a Docker engine that answers; else one line and exit 2."""
    for tool in tools:
        if shutil.which(tool) is None:
            raise BadInput("kind.missing_tool", tool=tool, how=how_to_install(tool))
    if "docker" in tools:
        proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            raise BadInput("kind.docker_unreachable", error=lines[-1] if lines else proc.returncode)


def node_ip(node: str) -> str:
    ip = run(install.node_ip_argv(node)).strip()
    if not ip:
        raise LabkitError("kind.no_node_ip", node=node)
    return ip


def up(plan: KindPlan, say: Say = print) -> list[str]:
    """Create the cluster, install the CNI, wait for Ready nodes, route the pod/Service subnets.

    Returns the host routes (as ``ip route`` arguments). Not root: the routes are printed for the
    learner to add, since a cluster without them is still usable through kubectl.
    """
    check_tools(required_tools(plan))
    for step in install.plan_steps(plan):
        say(i18n.t(step.message, **step.params))
        stdin = step.stdin
        if step.fetch:
            assert step.edit is not None, "a fetched manifest is always edited (install.Step)"
            say(i18n.t("kind.step.fetch", url=step.fetch))
            stdin = manifests.edited(step.edit, run(("curl", "-fsSL", step.fetch)), plan)
        run(step.argv, stdin)
    gateway = node_ip(plan.node_names()[0])
    routes = install.route_argvs(plan, gateway)
    if os.geteuid() != 0:
        say(i18n.t("kind.route_hint", commands="; ".join("sudo " + " ".join(r) for r in routes)))
    else:
        for argv in routes:
            say(i18n.t("kind.step.route", route=" ".join(argv[3:])))
            run(argv)
    say(i18n.t("kind.up", name=plan.name, context=plan.context))
    return [" ".join(r[3:]) for r in routes]


def host_routes_via(gateway: str) -> list[str]:
    """Destinations of this machine's routes through ``gateway`` (what ``kind up`` added)."""
    routes = json.loads(run(["ip", "-j", "route", "show"]) or "[]")
    return [r["dst"] for r in routes if r.get("gateway") == gateway and r.get("dst") != "default"]


def down(name: str, say: Say = print) -> int:
    """Remove the host routes through the cluster's control plane, then the cluster itself."""
    KindPlan(name=name)                                        # validates the name
    check_tools(["docker", "kind"])
    removed = 0
    try:
        gateway = node_ip(f"{name}-control-plane")
    except LabkitError:
        gateway = None                                         # no such container: nothing routed
    if gateway and os.geteuid() == 0:
        for dst in host_routes_via(gateway):
            run(["ip", "route", "del", dst, "via", gateway])
            removed += 1
    run(["kind", "delete", "cluster", "--name", name])
    say(i18n.t("kind.down", name=name, routes=removed))
    return removed
