"""A node's agents over the API: stop or start the calico flavor's BIRD (``labkit.bgp``) or the
node's service proxy (kube-proxy, or the ebpf socket LB's agent: ``labkit.agents``) in a node.

``POST /api/v1/nodes/{node}/proxy/labkit/bird?action=stop|start|status`` (or
``.../labkit/service-proxy?...``) answers ``{"node": ..., "running": bool}``. Like the break-and-fix route (``noderoute.py``), the lab
daemon (root) does it; a learner's kernel only needs the kubeconfig's token. Refusals are
``Status`` objects: 404 for an unknown node, 422 for a lab of another flavor or an unknown action, 503 when BIRD does not start.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import BadInput, LabkitError
from . import status

AGENTS = ("bird", "service-proxy")
NODE_AGENT_PATH = "/api/v1/nodes/{node}/proxy/labkit/{agent:bird|service-proxy}"
# (node, action, agent) -> {"node", "running"}; BadInput for an unknown node, flavor or action
Agent = Callable[[str, str, str], Awaitable[dict]]

MESSAGES = {"api.node_agent_error": {"en": "{error}", "fr": "{error}"}}


def routes(app: web.Application, agent: Agent) -> None:
    """Add the route (before the catch-all ``/api/{tail}`` route)."""
    async def handle(request: web.Request) -> web.Response:
        from .handlers import respond

        node, action = request.match_info["node"], request.query.get("action", "status")
        try:
            out = await agent(node, action, request.match_info["agent"])
        except BadInput as exc:
            code, reason = (404, "NotFound") if exc.key == "lab.unknown_node" else (422, "Invalid")
            raise status.ApiError(code, reason, "api.node_agent_error", error=str(exc)) from exc
        except LabkitError as exc:
            raise status.ApiError(503, "ServiceUnavailable", "api.node_agent_error", error=str(exc)) from exc
        return respond(out)

    app.router.add_route("POST", NODE_AGENT_PATH, handle)
