"""Companion labs over the API: a learner's kernel (not root) asks the lab's daemon for a second lab.

``GET /labkit/v1/companions`` lists the presets and which run; ``GET|PUT|POST|DELETE
/labkit/v1/companions/{preset}`` tells, starts (idempotent) or stops one. ``kubectl get --raw``,
``create --raw`` and ``delete --raw`` reach them with the lab's kubeconfig. The daemon (root) does
the work (``labkit.embedded.companions``); the preset name is only looked up in a fixed table.
A started companion's answer carries its kubeconfig, for the client that holds this lab's token.
Refusals are ``Status`` objects: 404 for an unknown preset, 403 when the lab runs as many
companions as it may or is a companion itself, 409 when another lab holds the name, 503 when the
lab could not be built.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import BadInput, LabkitError
from . import status

COMPANIONS_PATH = "/labkit/v1/companions"
# (action, preset) -> dict; action is "list", "status", "start" or "stop"; BadInput / LabkitError
Companions = Callable[[str, str], Awaitable[object]]

MESSAGES = {"api.companion_error": {"en": "{error}", "fr": "{error}"}}

_ACTIONS = {"GET": "status", "PUT": "start", "POST": "start", "DELETE": "stop"}
_CODES = {"companion.unknown_preset": (404, "NotFound"), "companion.too_many": (403, "Forbidden"),
          "companion.nested": (403, "Forbidden"), "companion.name_taken": (409, "AlreadyExists")}


def routes(app: web.Application, companions: Companions) -> None:
    """Add the routes (before the catch-all route)."""
    from .handlers import respond

    async def call(action: str, preset: str) -> web.Response:
        try:
            return respond(await companions(action, preset))
        except LabkitError as exc:
            code, reason = _CODES.get(exc.key, (422, "Invalid") if isinstance(exc, BadInput)
                                      else (503, "ServiceUnavailable"))
            details = {"name": preset, "kind": "companions"} if code == 404 else None
            raise status.ApiError(code, reason, "api.companion_error", details=details,
                                  error=str(exc)) from exc

    async def listing(request: web.Request) -> web.Response:
        return await call("list", "")

    async def one(request: web.Request) -> web.Response:
        return await call(_ACTIONS[request.method], request.match_info["preset"])

    app.router.add_route("GET", COMPANIONS_PATH, listing)
    for method in _ACTIONS:
        app.router.add_route(method, COMPANIONS_PATH + "/{preset}", one)
