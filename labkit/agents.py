"""A node's agents, stopped and started live (embedded lab): BIRD (calico flavor) or the service proxy.

``stop(cluster, "worker", "service-proxy")`` kills the node's kube-proxy (or, with
``--service-proxy ebpf``, the socket LB's agent): what it programmed stays in the node's kernel
and keeps serving, and nothing new is programmed there until ``start``. ``"bird"`` kills the
node's BIRD (see :mod:`labkit.bgp`). The lab daemon (root) does it through the lab's API
(``POST /api/v1/nodes/<node>/proxy/labkit/<agent>?action=stop|start|status``), so a notebook's
kernel needs only the kubeconfig.
"""
from __future__ import annotations

import json
from typing import Any

from .errors import BadInput, LabkitError

MESSAGES = {
    "agents.failed": {
        "en": "the lab did not {action} the {agent} agent on node {node}: {error}",
        "fr": "le lab n'a pas pu {action_fr} l'agent {agent} sur le nœud {node} : {error}"},
    "agents.not_embedded": {
        "en": "stopping a node's agent works on the embedded lab, and {name} is not one",
        "fr": "arrêter l'agent d'un nœud marche sur le lab embarqué, et {name} n'en est pas un"},
}
PATH = "/api/v1/nodes/{node}/proxy/labkit/{agent}"
AGENTS = ("bird", "service-proxy")


def call(cluster: Any, node: str, agent: str, action: str) -> dict:
    """``action`` (stop, start, status) on ``node``'s ``agent``: ``{"node", "running"}``."""
    if getattr(cluster, "kind", None) != "embedded":
        raise BadInput("agents.not_embedded", kind=getattr(cluster, "kind", "?"), name=getattr(cluster, "name", "?"))
    from .nodes import _status_message

    full = cluster.node(node).name
    path = PATH.replace("{node}", full).replace("{agent}", agent)
    params = cluster.api.param_serialize("POST", path, query_params=[("action", action)],
                                         auth_settings=["BearerToken"])
    resp = cluster.api.call_api(*params, _request_timeout=30)
    resp.read()
    if resp.status != 200:
        fr = {"stop": "arrêter", "start": "démarrer"}.get(action, action)
        raise LabkitError("agents.failed", action=action, action_fr=fr, agent=agent, node=full,
                          error=_status_message(resp.data))
    return json.loads(resp.data)


def stop(cluster: Any, node: str, agent: str = "service-proxy") -> dict:
    return call(cluster, node, agent, "stop")


def start(cluster: Any, node: str, agent: str = "service-proxy") -> dict:
    return call(cluster, node, agent, "start")


def running(cluster: Any, node: str, agent: str = "service-proxy") -> bool:
    return bool(call(cluster, node, agent, "status")["running"])
