"""The one write path of the exercises: ``ip route add/del/replace`` on a node, for break-and-fix.

A learner's kernel is not root, and the node seam (:mod:`labkit.nodes`) is read-only by design, so
changing a node's route goes its own, separate way: the command is parsed against a strict
allowlist here (pure, unit-tested), then sent to the embedded lab's API (``POST`` on
:data:`NODE_ROUTE_PATH`, :mod:`labkit.apiserver.noderoute`), whose daemon (root, it built the nodes)
checks it again and runs it in the node's namespace (:class:`NodeRouteWriter`); a kind node gets it
through ``docker exec``. Nothing else can be run: no other ``ip`` object, no option, no shell.
"""
from __future__ import annotations

import ipaddress
import re
import shlex
import subprocess
from collections.abc import Sequence
from typing import Any

from ..errors import BadInput, LabkitError

VERBS = ("add", "del", "replace")
TYPES = ("unreachable", "blackhole", "prohibit")
FLAGS = ("onlink",)
VALUED = {"via": "ip", "dev": "device", "metric": "number", "scope": "scope", "proto": "proto"}
SCOPES = ("global", "link", "host")
PROTOS = ("static", "boot", "kernel")
DEVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$")
NODE_ROUTE_PATH = "/api/v1/nodes/{node}/proxy/labkit/route"

MESSAGES = {
    "noderoute.refused": {
        "en": "refusing `{command}`: only `ip route add|del|replace <CIDR> [via <IP>] [dev <device>] [onlink]` "
              "can change a node ({why})",
        "fr": "refus de `{command}` : seul `ip route add|del|replace <CIDR> [via <IP>] [dev <interface>] "
              "[onlink]` peut modifier un nœud ({why})"},
    "noderoute.failed": {
        "en": "`{command}` failed on node {node}: {error}", "fr": "`{command}` a échoué sur le nœud {node} : {error}"},
    "noderoute.unsupported": {
        "en": "changing a node's routes works on the embedded lab and on kind, not on another cluster ({name})",
        "fr": "modifier les routes d'un nœud marche sur le lab embarqué et sur kind, pas sur un autre cluster "
              "({name})"},
}


def route_argv(command: str | Sequence[str]) -> list[str]:
    """``"ip route del 10.244.2.0/24"`` -> the argv to run, or ``BadInput`` when it is not allowed."""
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    text = " ".join(words)

    def refuse(why: str) -> BadInput:
        return BadInput("noderoute.refused", command=text, why=why)
    if words[:2] != ["ip", "route"] or len(words) < 4:
        raise refuse("ip route …")
    verb, rest = words[2], words[3:]
    if verb not in VERBS:
        raise refuse(verb)
    i = 0
    if rest[0] in TYPES:
        i = 1
    if i >= len(rest):
        raise refuse("CIDR")
    try:
        ipaddress.ip_network(rest[i], strict=False)
    except ValueError:
        raise refuse(rest[i]) from None
    i += 1
    while i < len(rest):
        word = rest[i]
        if word in FLAGS:
            i += 1
            continue
        if word not in VALUED or i + 1 >= len(rest):
            raise refuse(word)
        value, kind = rest[i + 1], VALUED[word]
        ok = {"ip": _is_ip(value), "device": bool(DEVICE.match(value)), "number": value.isdigit(),
              "scope": value in SCOPES, "proto": value in PROTOS}[kind]
        if not ok:
            raise refuse(f"{word} {value}")
        i += 2
    return words


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def run_in_netns(netns: str, argv: Sequence[str], node: str) -> str:
    """Run an allowed route command in a node's namespace (re-checked here: this is where a client's
    words become a root process)."""
    from ..embedded.netns import in_netns

    argv = route_argv(list(argv))
    proc = subprocess.run(in_netns(argv, netns), capture_output=True, text=True, timeout=15)
    if proc.returncode != 0:
        raise LabkitError("noderoute.failed", command=" ".join(argv), node=node, error=proc.stderr.strip() or "-")
    return proc.stdout


class NodeRouteWriter:
    """The daemon's side of :data:`NODE_ROUTE_PATH`: ``await writer(node, argv)``."""

    def __init__(self, state: Any) -> None:
        self.state = state

    async def __call__(self, node: str, argv: list[str]) -> str:
        import asyncio

        plan = self.state.spec.node(node)            # BadInput for an unknown node
        return await asyncio.to_thread(run_in_netns, plan.netns, argv, plan.name)


def node_route(cluster: Any, node: str, command: str) -> str:
    """Change a route on ``node`` (``"worker"`` or the full name): ``ip route add|del|replace ...``."""
    argv = route_argv(command)
    full = cluster.node(node).name
    if cluster.kind == "embedded":
        import json

        from ..nodes import _status_message

        query = [("command", a) for a in argv]
        params = cluster.api.param_serialize("POST", NODE_ROUTE_PATH.replace("{node}", full), query_params=query,
                                             auth_settings=["BearerToken"])
        resp = cluster.api.call_api(*params, _request_timeout=30)
        resp.read()
        if resp.status != 200:
            raise LabkitError("noderoute.failed", command=" ".join(argv), node=full, error=_status_message(resp.data))
        return json.loads(resp.data).get("stdout", "")
    if cluster.kind == "kind":
        proc = subprocess.run(["docker", "exec", full, *argv], capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise LabkitError("noderoute.failed", command=" ".join(argv), node=full, error=proc.stderr.strip() or "-")
        return proc.stdout
    raise BadInput("noderoute.unsupported", kind=cluster.kind, name=cluster.name)   # kind is "cluster" here


__all__ = ["route_argv", "node_route", "run_in_netns", "NodeRouteWriter", "NODE_ROUTE_PATH"]
