"""Node state over the API: what a real cluster's node proxy does for a kubelet, for the lab's nodes.

``GET /api/v1/nodes/{node}/proxy/labkit/run?command=ip&command=-j&command=addr`` runs one
allowlisted read-only command (``labkit.nodes.served_by_lab``) in the node's network namespace, or
with ``pod=<namespace>/<name>`` in that pod's, and answers ``{"exitCode", "stdout", "stderr"}``. The
daemon runs as root; clients (JupyterLab kernels, ``labkit draw`` as an ordinary user) only need the
kubeconfig's token, as they would for ``kubectl get --raw /api/v1/nodes/<node>/proxy/...`` on a
real cluster. ``GET /labkit/v1/lab`` names the lab, so a client knows it may ask. Refusals are
``Status`` objects: 403 for a command outside the list, 404 for an unknown node or pod.
"""
from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import BadInput, LabkitError
from ..nodes import LAB_INFO_PATH, NODE_STATE_PATH, served_by_lab
from . import status

# (node, pod or None, argv) -> (exit code, stdout, stderr); raises LabkitError for unknown names
Reader = Callable[[str, "str | None", list[str]], Awaitable[tuple[int, str, str]]]

MESSAGES = {
    "api.node_state_refused": {
        "en": "the lab hands out read-only node state only; `{command}` is not one of its commands",
        "fr": "le lab ne fournit que l'état des nœuds en lecture seule ; `{command}` n'en fait pas partie"},
    "api.node_state_unknown": {
        "en": "{error}",
        "fr": "{error}"},
}


def routes(app: web.Application, lab: str, reader: Reader) -> None:
    """Add the two routes (before the catch-all ``/api/{tail}`` route)."""
    async def run(request: web.Request) -> web.Response:
        from .handlers import respond

        argv = request.query.getall("command", [])
        if not served_by_lab(argv):
            raise status.forbidden("api.node_state_refused", command=shlex.join(argv))
        try:
            code, out, err = await reader(request.match_info["node"], request.query.get("pod"), argv)
        except BadInput as exc:
            raise status.ApiError(404, "NotFound", "api.node_state_unknown", error=str(exc)) from exc
        except LabkitError as exc:
            raise status.ApiError(404, "NotFound", "api.node_state_unknown", error=str(exc)) from exc
        return respond({"exitCode": code, "stdout": out, "stderr": err})

    async def info(request: web.Request) -> web.Response:
        from .handlers import respond

        return respond({"name": lab, **_spec_summary(lab)})

    app.router.add_route("GET", NODE_STATE_PATH, run)
    app.router.add_route("GET", LAB_INFO_PATH, info)


def _spec_summary(lab: str) -> dict:
    """What an ordinary user may know of the lab's shape (its state files are root's)."""
    from ..embedded.state import LabState

    try:
        state = LabState.load(lab)
    except (OSError, ValueError, KeyError):
        state = None
    return state.spec.summary() if state is not None else {}
