"""Observe one flow through the API: what an ordinary user needs to see the kernel's side of a packet.

``POST /api/v1/nodes/{node}/proxy/labkit/trace|capture|probe?pod=ns/name&ip=…&port=…&protocol=…``
asks the lab daemon (root) to trace one connection from a pod of ``node`` (nftables tracing in
every node), to capture it (tcpdump on every interface it crosses; ``also=ns/name`` adds a pod),
to try Service doors from that pod or from the node itself (``target=IP:PORT/tcp``), or
(``…/peer?[pod=ns/name&]ip=…``) to connect from that pod or node to a node or pod that listens
once and reports the source address it saw. Parameters are
validated by :func:`labkit.flowreq.parse` (nothing the client sends reaches a command line as
text), time and counts are bounded there, and a node observes one flow at a time. Refusals are
``Status`` objects: 422 with one cause per bad field, 404 for an unknown node or pod, 429 while
the node is busy with another flow.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from ..errors import LabkitError
from ..flowreq import FLOW_PATH, FlowBusy, FlowRequest, InvalidFlow, parse
from . import status

MESSAGES = {
    "api.flow_busy": {"en": "node {nodes} is observing another flow; try again in a moment",
                      "fr": "le nœud {nodes} observe déjà un autre flux ; réessayez dans un instant"},
    "api.flow_error": {"en": "{error}", "fr": "{error}"},
    "api.flow_invalid": {"en": "invalid flow request: {summary}", "fr": "demande de flux invalide : {summary}"},
}


class FlowSource(Protocol):
    """What the routes call: ``embedded.flows.FlowRunner`` (the API server may not import it)."""

    @property
    def ranges(self) -> list[str]: ...

    def __call__(self, node: str, req: FlowRequest) -> Awaitable[dict[str, Any]]: ...


def routes(app: web.Application, runner: Callable[[str, Any], Awaitable[dict]], ranges: Callable[[], list[str]]) -> None:
    """Add the three routes (before the catch-all ``/api/{tail}`` route)."""
    async def flow(request: web.Request) -> web.Response:
        from .handlers import respond

        kind = request.match_info["what"]
        query = {k: request.query.getall(k) for k in set(request.query.keys())}
        try:
            req = parse(kind, query, ranges())
        except InvalidFlow as exc:
            causes = [status.cause(f, k, **p) for f, k, p in exc.causes]
            raise status.ApiError(422, "Invalid", "api.flow_invalid", causes=causes) from exc
        try:
            return respond(await runner(request.match_info["node"], req))
        except FlowBusy as exc:
            raise status.ApiError(429, "TooManyRequests", "api.flow_busy", {"retryAfterSeconds": 1},
                                  nodes=str(exc)) from exc
        except LabkitError as exc:
            code, reason = (404, "NotFound") if exc.key in ("lab.unknown_node", "lab.unknown_pod") else (422, "Invalid")
            raise status.ApiError(code, reason, "api.flow_error", error=str(exc)) from exc

    app.router.add_route("POST", FLOW_PATH.replace("{what}", "{what:trace|capture|probe|peer}"), flow)
