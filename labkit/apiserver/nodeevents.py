"""Node events over the API: a watch on the changes inside the lab's nodes, for clients that are not root.

``GET /labkit/v1/nodeevents?resourceVersion=N&timeoutSeconds=T`` streams one JSON object per line,
as a Kubernetes watch does: first ``{"type": "BOOKMARK", "generation": G}`` (where the stream
starts), then ``{"type": "MODIFIED", "generation", "node", "event"}`` for every link, address or
route change the daemon's netlink sockets reported (``labkit.embedded.netwatch``) after generation
``N``, until ``T`` seconds (default 60, at most 600) have passed. The live diagrams resume from the
last generation they saw. The token of the kubeconfig is enough, as for the node state.
"""
from __future__ import annotations

import json
import time
from typing import Protocol

from aiohttp import web

from . import status

MESSAGES = {
    "api.node_events_bad_query": {
        "en": "query parameter {name}={value} is not a whole number",
        "fr": "le paramètre {name}={value} n'est pas un nombre entier"},
}

NODE_EVENTS_PATH = "/labkit/v1/nodeevents"
MAX_TIMEOUT = 600


def _int(request: web.Request, key: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise status.bad_request("api.node_events_bad_query", name=key, value=raw) from None
    return max(low, min(high, value))


class EventSource(Protocol):
    """What the route reads, and the server stops: ``embedded.netwatch.NodeWatcher`` (the API
    server may not import it)."""

    generation: int

    async def wait(self, since: int, timeout: float) -> list[dict]: ...
    async def stop(self) -> None: ...


def routes(app: web.Application, watcher: EventSource) -> None:
    """Add the route (before the catch-all routes)."""
    async def watch(request: web.Request) -> web.StreamResponse:
        since = _int(request, "resourceVersion", watcher.generation, 0, 2**62)
        timeout = _int(request, "timeoutSeconds", 60, 0, MAX_TIMEOUT)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(json.dumps({"type": "BOOKMARK", "generation": watcher.generation}).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            events = await watcher.wait(since, left)
            for event in events:
                await response.write(json.dumps(event).encode() + b"\n")
                since = max(since, event["generation"])
        await response.write_eof()
        return response

    app.router.add_route("GET", NODE_EVENTS_PATH, watch)
