"""Node state over the API: what a real cluster's node proxy does for a kubelet, for the lab's nodes.

``GET /api/v1/nodes/{node}/proxy/labkit/run?command=ip&command=-j&command=addr`` runs one
allowlisted read-only command (``labkit.nodes.served_by_lab``) in the node's network namespace, or
with ``pod=<namespace>/<name>`` in that pod's, and answers ``{"exitCode", "stdout", "stderr"}``. The
daemon runs as root; clients (JupyterLab kernels, ``labkit draw`` as an ordinary user) only need the
kubeconfig's token, as they would for ``kubectl get --raw /api/v1/nodes/<node>/proxy/...`` on a
real cluster. ``GET /labkit/v1/lab`` names the lab, so a client knows it may ask.
``GET /labkit/v1/podnetworks[?node=N...]`` hands every pod's interfaces and routes (of the nodes
named, else of all) in one answer, ``{"kind": "PodNetworkList", "items": [{"pod", "node", "addr",
"route"}]}``: a snapshot through the API then costs one request for all its pods. Refusals are
``Status`` objects: 403 for a command outside the list, 404 for an unknown node or pod, 400 for a
query the batch does not take.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import BadInput, LabkitError
from ..nodes import LAB_INFO_PATH, NODE_STATE_PATH, POD_NETWORKS_PATH, served_by_lab
from . import status

MAX_NODES_ASKED = 16                                   # node=… values in one podnetworks query
_NODE_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")      # a Node's name (DNS subdomain)
# (node, pod or None, argv) -> (exit code, stdout, stderr); raises LabkitError for unknown names
Reader = Callable[[str, "str | None", list[str]], Awaitable[tuple[int, str, str]]]

MESSAGES = {
    "api.node_state_refused": {
        "en": "the lab hands out read-only node state only; `{command}` is not one of its commands",
        "fr": "le lab ne fournit que l'état des nœuds en lecture seule ; `{command}` n'en fait pas partie"},
    "api.pod_networks_bad_query": {
        "en": "podnetworks takes only node=<name> (at most {most}), not {query}",
        "fr": "podnetworks n'accepte que node=<nom> (au plus {most}), pas {query}"},
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

    async def pod_networks(request: web.Request) -> web.Response:
        from .handlers import respond

        nodes = request.query.getall("node", [])
        extra = sorted(set(request.query) - {"node"})
        if extra or len(nodes) > MAX_NODES_ASKED or not all(_NODE_NAME.fullmatch(n) for n in nodes):
            raise status.bad_request("api.pod_networks_bad_query", most=MAX_NODES_ASKED,
                                     query=request.query_string[:200] or "-")
        try:
            items = await reader.pod_networks(nodes or None)      # type: ignore[attr-defined]
        except (BadInput, LabkitError) as exc:
            raise status.ApiError(404, "NotFound", "api.node_state_unknown", error=str(exc)) from exc
        return respond({"kind": "PodNetworkList", "apiVersion": "labkit/v1", "items": items})

    app.router.add_route("GET", NODE_STATE_PATH, run)
    if hasattr(reader, "pod_networks"):
        app.router.add_route("GET", POD_NETWORKS_PATH, pod_networks)
    app.router.add_route("GET", LAB_INFO_PATH, info)


def _spec_summary(lab: str) -> dict:
    """What an ordinary user may know of the lab's shape (its state files are root's)."""
    from ..embedded.state import LabState

    try:
        state = LabState.load(lab)
    except (OSError, ValueError, KeyError):
        state = None
    return state.spec.summary() if state is not None else {}
