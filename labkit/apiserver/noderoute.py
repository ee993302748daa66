"""Break and fix over the API: the exercises' one write path to a node, beside the read-only node state.

``POST /api/v1/nodes/{node}/proxy/labkit/route?command=ip&command=route&command=replace&...`` runs
one ``ip route add|del|replace`` that :func:`labkit.exercises.noderoute.route_argv` accepts, in the
node's network namespace, and answers ``{"stdout": ...}``. The daemon runs as root; a learner's
kernel only needs the kubeconfig's token (as for the node state, ``nodestate.py``). Refusals are
``Status`` objects: 403 for a command outside the allowlist, 404 for an unknown node, 422 when the
kernel refused the route (``ip`` said why).
"""
from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import BadInput, LabkitError
from ..exercises.noderoute import NODE_ROUTE_PATH, route_argv
from . import status

# (node, argv) -> stdout; BadInput for an unknown node, LabkitError when `ip` fails
Writer = Callable[[str, list[str]], Awaitable[str]]

MESSAGES = {
    "api.node_route_refused": {
        "en": "the lab changes a node only with `ip route add|del|replace`; `{command}` is refused",
        "fr": "le lab ne modifie un nœud qu'avec `ip route add|del|replace` ; `{command}` est refusé"},
    "api.node_route_error": {"en": "{error}", "fr": "{error}"},
}


def routes(app: web.Application, writer: Writer) -> None:
    """Add the route (before the catch-all ``/api/{tail}`` route)."""
    async def route(request: web.Request) -> web.Response:
        from .handlers import respond

        argv = request.query.getall("command", [])
        try:
            route_argv(argv)
        except BadInput:
            raise status.forbidden("api.node_route_refused", command=shlex.join(argv)) from None
        try:
            out = await writer(request.match_info["node"], argv)
        except BadInput as exc:
            raise status.ApiError(404, "NotFound", "api.node_route_error", error=str(exc)) from exc
        except LabkitError as exc:
            raise status.ApiError(422, "Invalid", "api.node_route_error", error=str(exc)) from exc
        return respond({"stdout": out})

    app.router.add_route("POST", NODE_ROUTE_PATH, route)
