"""Routing by BGP, live (the calico flavor: ``labkit up --cni calico``): sessions, learned routes, an outage.

``sessions(cluster, "worker")`` reads ``birdc show protocols`` through the node seam;
``learned_routes`` the node's kernel routes that BIRD installed (``proto bird``).
``stop_bird``/``start_bird`` kill and restart a node's BIRD through the lab's API (the daemon is
root, a notebook's kernel need not be); ``outage`` shows what that does to a connection between
two pods on different nodes: every peer drops the dead node's block (after the BGP graceful-restart
time, :data:`labkit.embedded.bird.RESTART_TIME`), traffic to it fails, then comes back once
BIRD is up again. Waits poll the kernel's state with a deadline; nothing sleeps a fixed time.
"""
from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .errors import BadInput, LabkitError
from .inspect.bird import BgpSession, parse_protocols
from .inspect.iproute import Route, parse_routes

MESSAGES = {
    "bgp.agent_failed": {
        "en": "the lab did not {action} BIRD on node {node}: {error}",
        "fr": "le lab n'a pas pu {action_fr} BIRD sur le nœud {node} : {error}"},
    "bgp.not_embedded": {
        "en": "stopping a node's BIRD works on the embedded lab (labkit up --cni calico), and {name} is not one",
        "fr": "arrêter le BIRD d'un nœud marche sur le lab embarqué (labkit up --cni calico), "
              "et {name} n'en est pas un"},
    "bgp.timeout": {
        "en": "{what} did not happen within {seconds:g} s",
        "fr": "{what_fr} ne s'est pas produit en {seconds:g} s"},
}



def sessions(cluster: Any, node: str) -> list[BgpSession]:
    """The node's BGP sessions (``birdc show protocols``)."""
    return parse_protocols(cluster.node(node).run(["birdc", "show", "protocols"]))


def learned_routes(cluster: Any, node: str) -> list[Route]:
    """The routes BIRD put in the node's kernel (``proto bird``), blackholed own blocks included."""
    routes = parse_routes(cluster.node(node).run(["ip", "-j", "route", "show"]))
    return [r for r in routes if r.protocol == "bird"]


def routes_to(cluster: Any, node: str, ip: str) -> list[Route]:
    """The ``proto bird`` routes of ``node`` that carry ``ip`` to another node (not blackholes)."""
    addr = ipaddress.ip_address(ip)
    return [r for r in learned_routes(cluster, node) if r.type != "blackhole" and r.gateway
            and "/" in r.dst and addr in ipaddress.ip_network(r.dst, strict=False)]


def _agent(cluster: Any, node: str, action: str) -> dict:
    from . import agents

    if getattr(cluster, "kind", None) != "embedded":
        raise BadInput("bgp.not_embedded", kind=getattr(cluster, "kind", "?"), name=getattr(cluster, "name", "?"))
    try:
        return agents.call(cluster, node, "bird", action)
    except BadInput:
        raise
    except LabkitError as exc:
        fr = {"stop": "arrêter", "start": "démarrer"}.get(action, action)
        raise LabkitError("bgp.agent_failed", action=action, action_fr=fr, node=cluster.node(node).name,
                          error=exc.params.get("error", str(exc))) from exc


def stop_bird(cluster: Any, node: str) -> dict:
    """Kill the node's BIRD (no goodbye to its peers). Its own kernel routes stay (``persist``)."""
    return _agent(cluster, node, "stop")


def start_bird(cluster: Any, node: str) -> dict:
    return _agent(cluster, node, "start")


def bird_running(cluster: Any, node: str) -> bool:
    return bool(_agent(cluster, node, "status")["running"])


def wait_for(test: Callable[[], bool], timeout: float, what: str, what_fr: str, step: float = 0.2) -> float:
    """Poll ``test`` until it is true; the seconds it took (``LabkitError`` after ``timeout``)."""
    start = time.monotonic()
    while True:
        if test():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise LabkitError("bgp.timeout", what=what, what_fr=what_fr, seconds=timeout)
        time.sleep(step)


@dataclass
class Outage:
    """What happened when a node's BIRD died and came back (seconds since the kill)."""

    node: str
    watched_from: list[str]
    traffic_before: bool
    block_withdrawn_after: float
    traffic_failed: bool
    block_back_after: float
    traffic_back: bool
    events: list[str] = field(default_factory=list)
    back_after_restart: float = 0.0     # seconds from BIRD's restart to the block back everywhere

    def describe(self) -> str:
        """The events, in the language ``outage`` was asked for."""
        return "\n".join(self.events)


def _reach(cluster: Any, client: str, ip: str, port: int) -> bool:
    """One TCP connection from a pod (``namespace/name``) to ``ip:port``, through the API's exec."""
    from .nodes import api_exec

    namespace, _, name = client.rpartition("/")
    _code, out, _err = api_exec(cluster.api, namespace or "default", name,
                                ["sh", "-c", f"nc -z -w 1 {ip} {port} && echo OK || echo FAIL"])
    return "OK" in out


def outage(cluster: Any, client: str, server_ip: str, node: str, port: int = 80,
           timeout: float = 30.0, lang: str | None = None) -> Outage:
    """Kill ``node``'s BIRD, watch every other node until none routes ``server_ip``'s block any
    more and a connection from ``client`` (``namespace/pod``) fails; restart BIRD, watch until every
    other node has the block back and the connection succeeds."""
    fr = (lang or i18n.get_language()) == "fr"
    dead = cluster.node(node).name
    watchers = [n for n in cluster.node_names() if n != dead]
    routed = lambda: [bool(routes_to(cluster, w, server_ip)) for w in watchers]   # noqa: E731
    ok_before = _reach(cluster, client, server_ip, port)
    start = time.monotonic()
    stop_bird(cluster, node)
    wait_for(lambda: not any(routed()), timeout, f"the withdrawal of {server_ip}'s block",
             f"le retrait du bloc de {server_ip}")
    withdrawn = time.monotonic() - start
    failed = not _reach(cluster, client, server_ip, port)
    restarted = time.monotonic()
    start_bird(cluster, node)
    wait_for(lambda: all(routed()), timeout, f"the return of {server_ip}'s block",
             f"le retour du bloc de {server_ip}")
    back = time.monotonic() - start
    back_after_restart = time.monotonic() - restarted
    ok_after = _reach(cluster, client, server_ip, port)
    short = node.rsplit("-", 1)[-1] if node == dead else node
    events = ([f"avant : {client} → {server_ip}:{port} {'passe' if ok_before else 'échoue'}",
               f"BIRD de {short} tué ; les autres nœuds retirent la route de son bloc après {withdrawn:.1f} s",
               f"{client} → {server_ip}:{port} {'échoue' if failed else 'passe encore'}",
               f"BIRD redémarré ; la route revient partout à {back:.1f} s",
               f"{client} → {server_ip}:{port} {'passe' if ok_after else 'échoue'}"] if fr else
              [f"before: {client} → {server_ip}:{port} {'connects' if ok_before else 'fails'}",
               f"{short}'s BIRD killed; the other nodes withdraw its block's route after {withdrawn:.1f} s",
               f"{client} → {server_ip}:{port} {'fails' if failed else 'still connects'}",
               f"BIRD restarted; the route is back everywhere at {back:.1f} s",
               f"{client} → {server_ip}:{port} {'connects' if ok_after else 'fails'}"])
    return Outage(dead, watchers, ok_before, withdrawn, failed, back, ok_after, events, back_after_restart)


def _pod(cluster: Any, key: str) -> dict:
    from kubernetes import client as k8s

    namespace, _, name = key.rpartition("/")
    return cluster.api.sanitize_for_serialization(
        k8s.CoreV1Api(cluster.api).read_namespaced_pod(name, namespace or "default"))


__all__ = ["sessions", "learned_routes", "routes_to", "stop_bird", "start_bird", "bird_running", "outage",
           "Outage", "wait_for"]
