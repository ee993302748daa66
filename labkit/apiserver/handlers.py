"""HTTP side of the API: URL parsing, content negotiation, watch streams, Status errors.

One catch-all route per API root (``/api/...``, ``/apis/...``) parses the path against the
resource table, because upstream's URL layout is ambiguous for a router (``namespaces/x/pods``
is a list of pods, ``namespaces/x/status`` a subresource of a namespace).
"""
from __future__ import annotations

import asyncio
import builtins
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from . import bodies, discovery, resources, ssa, status, tables
from .api import PATCH_TYPES, Api
from .printers import selector_string
from .resources import ResourceKind, group_versions
from .selectors import fields_match, labels_match, parse_field_selector, parse_label_selector
from .status import ApiError

JSON = "application/json"
SubresourceHandler = Callable[[web.Request, "Target"], Awaitable[web.StreamResponse]]
ENCODED_MAX = 20_000  # objects whose JSON a LIST keeps (about the size of the objects themselves)


def dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def respond(data: object, code: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=dumps(data), status=code, content_type=content_type)


@dataclass(frozen=True)
class Target:
    """What a URL names: a kind, maybe a namespace, maybe an object, maybe a subresource."""

    res: ResourceKind
    namespace: str | None
    name: str | None = None
    sub: str | None = None

    @property
    def named(self) -> str:
        """The object's name, for a URL that names one (every subresource URL does)."""
        if self.name is None:
            raise status.no_resource()
        return self.name


def parse_target(group: str, version: str, parts: list[str]) -> Target:
    def kind(plural: str) -> ResourceKind:
        res = resources.find(group, version, plural)
        if res is None:
            raise status.no_resource()
        return res
    if len(parts) >= 3 and parts[0] == "namespaces" and resources.find(group, version, parts[2]):
        res = kind(parts[2])
        if not res.namespaced or len(parts) > 5:
            raise status.no_resource()
        return Target(res, parts[1], *(parts[3:5] + [None] * (5 - len(parts))))
    if not parts or len(parts) > 3:
        raise status.no_resource()
    res = kind(parts[0])
    name = parts[1] if len(parts) > 1 else None
    sub = parts[2] if len(parts) > 2 else None
    if name is not None and res.namespaced:
        raise status.no_resource()
    return Target(res, None, name, sub)


def _object(body: object) -> dict:
    """A body that must be an object (create, update): ``Api`` answers anything else with this
    400 before it reads it."""
    if not isinstance(body, dict):
        raise status.bad_request("api.bad_body", error="expected an object")
    return body


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


class Handlers:
    def __init__(self, api: Api, lang: str | None = None, bookmark_interval: float = 10.0) -> None:
        self.api, self.store = api, api.store
        self.lang = lang
        self.bookmark_interval = bookmark_interval
        self.extra_subresources: dict[str, SubresourceHandler] = {}   # "pods/exec" -> handler
        # JSON of each listed object, by (kind, namespace, name, resourceVersion): the store never
        # changes an object in place (a write is a new dict with a new resourceVersion), so a
        # LIST of 1,000 pods encodes only the pods that changed since the last LIST (json.dumps
        # of 2.6 MB was most of its 170 ms).
        self._encoded: dict[tuple, tuple[str, bytes]] = {}

    # --- middlewares ------------------------------------------------------------------------
    def auth_middleware(self, token: str):
        expected = f"Bearer {token}"

        @web.middleware
        async def middleware(request: web.Request, handler):
            given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
            if not hmac.compare_digest(given, expected.encode()):     # constant time
                return self.error(status.unauthorized())
            return await handler(request)
        return middleware

    @web.middleware
    async def error_middleware(self, request: web.Request, handler):
        try:
            return await handler(request)
        except ApiError as exc:
            return self.error(exc)
        except web.HTTPException:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            import logging
            logging.getLogger(__name__).exception("internal error on %s", request.path)
            return self.error(ApiError(500, "InternalError", "api.internal", error=exc))

    def error(self, exc: ApiError) -> web.Response:
        return respond(exc.status(self.lang), exc.code)

    # --- discovery --------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return respond(discovery.version_info())

    async def api_root(self, request: web.Request) -> web.Response:
        return self._discovery(request, core=True)

    async def apis_root(self, request: web.Request) -> web.Response:
        return self._discovery(request, core=False)

    def _discovery(self, request: web.Request, core: bool) -> web.Response:
        agg = discovery.aggregated_version(request.headers.get("Accept", ""))
        if agg:
            return web.Response(body=dumps(discovery.aggregated(core, agg)),
                                headers={"Content-Type": discovery.AGG_TYPE.format(v=agg)})
        if core:
            host = request.headers.get("Host", "127.0.0.1")
            return respond(discovery.api_versions(host))
        return respond(discovery.api_group_list())

    async def openapi_v2(self, request: web.Request) -> web.Response:
        """An empty OpenAPI v2 document (protobuf, as kubectl asks for it).

        kubectl still validates ``kind: List`` files on the client with the v2 schema; a document
        without definitions makes it skip the items it has no schema for, and the server then
        validates each item strictly.
        """
        if "protobuf" in request.headers.get("Accept", ""):
            return web.Response(body=discovery.openapi_v2_protobuf(),
                                content_type="application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        return respond(discovery.openapi_v2_json())

    async def openapi_v3(self, request: web.Request) -> web.Response:
        # The schemas are built once, from the Python client's models (seconds): off the loop.
        run = asyncio.get_running_loop().run_in_executor
        tail = request.match_info.get("tail", "")
        if not tail:
            return respond(await run(None, discovery.openapi_index))
        parts = tail.split("/")
        doc = None
        if parts[0] == "api" and len(parts) == 2:
            doc = await run(None, discovery.openapi_document, "", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            doc = await run(None, discovery.openapi_document, parts[1], parts[2])
        if doc is None:
            raise status.no_resource()
        return respond(doc)

    async def not_found(self, request: web.Request) -> web.Response:
        raise status.no_resource()

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    # --- resources --------------------------------------------------------------------------
    async def core(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["tail"].split("/") if p]
        if not parts:
            return self._discovery(request, core=True)
        if parts[0] != "v1":
            raise status.no_resource()
        if len(parts) == 1:
            return respond(discovery.resource_list("", "v1"))
        return await self.resource(request, parse_target("", "v1", parts[1:]))

    async def named(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["tail"].split("/") if p]
        if not parts:
            return self._discovery(request, core=False)
        if parts[0] not in group_versions():
            raise status.no_resource()
        if len(parts) == 1:
            return respond(discovery.api_group(parts[0]))
        if len(parts) == 2:
            doc = discovery.resource_list(parts[0], parts[1])
            if doc is None:
                raise status.no_resource()
            return respond(doc)
        return await self.resource(request, parse_target(parts[0], parts[1], parts[2:]))

    async def resource(self, request: web.Request, target: Target) -> web.StreamResponse:
        if request.method not in ("POST", "PUT", "PATCH"):
            return await self._resource(request, target)
        manager = request.query.get("fieldManager") or ssa.default_manager(
            request.headers.get("User-Agent", ""))
        token = ssa.CURRENT.set(ssa.Write(manager, subresource=target.sub or ""))
        try:
            return await self._resource(request, target)
        finally:
            ssa.CURRENT.reset(token)

    async def _resource(self, request: web.Request, target: Target) -> web.StreamResponse:
        if target.sub:
            return await self.subresource(request, target)
        method = request.method
        dry_run = request.query.get("dryRun") == "All"
        if target.res.virtual:
            return await self.review(request, target)
        if target.name is None:
            if method == "GET":
                if _flag(request, "watch"):
                    return await self.watch(request, target)
                return self.list(request, target)
            if method == "POST":
                body = await self.body(request)
                self._strict(request, target.res, body)
                obj = self.api.create(target.res, target.namespace, _object(body), dry_run)
                return self.object_response(request, target.res, obj, 201)
            if method == "DELETE":
                self._verb(target.res, "deletecollection")
                options = await self.delete_options(request)
                self.api.delete_collection(target.res, target.namespace,
                                           request.query.get("labelSelector"),
                                           request.query.get("fieldSelector"), options,
                                           self._delete_dry_run(request, options))
                return respond({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Success"})
            raise status.method_not_allowed()
        ns = target.namespace or ""
        if method == "GET":
            return self.object_response(request, target.res,
                                        self.api.get(target.res, ns, target.name))
        if method == "PUT":
            body = await self.body(request)
            self._strict(request, target.res, body)
            obj = self.api.update(target.res, ns, target.name, _object(body), dry_run=dry_run)
            return self.object_response(request, target.res, obj)
        if method == "PATCH":
            content_type = request.content_type
            body = await self.body(request, patch=True)
            if isinstance(body, dict):     # merge, strategic and apply patches (not JSON patch lists)
                self._strict(request, target.res, body)
            if PATCH_TYPES.get(content_type) == "apply":
                if not request.query.get("fieldManager"):
                    raise status.bad_request("ssa.manager_required")
                obj, created = ssa.apply(self.api, target.res, ns, target.name, body,
                                         request.query["fieldManager"], _flag(request, "force"),
                                         dry_run)
                return self.object_response(request, target.res, obj, 201 if created else 200)
            obj, created = self.api.patch(target.res, ns, target.name, content_type, body,
                                          dry_run=dry_run)
            return self.object_response(request, target.res, obj, 201 if created else 200)
        if method == "DELETE":
            options = await self.delete_options(request)
            obj = self.api.delete(target.res, ns, target.name, options,
                                  self._delete_dry_run(request, options))
            return self.object_response(request, target.res, obj)
        raise status.method_not_allowed()

    async def review(self, request: web.Request, target: Target) -> web.Response:
        """A kind that is answered, not stored (``authz``): POST only."""
        from .authz import REVIEWS

        if request.method != "POST" or target.name is not None:
            raise status.method_not_allowed()
        return respond(REVIEWS[target.res.key](await self.body(request)), 201)

    def _verb(self, res: ResourceKind, verb: str) -> None:
        if verb not in res.verbs:
            raise status.method_not_allowed()

    async def subresource(self, request: web.Request, target: Target) -> web.StreamResponse:
        res, ns, sub, name = target.res, target.namespace or "", target.sub, target.named
        declared = {s.name for s in res.subresources}
        if sub not in declared:
            raise status.no_resource()
        handler = self.extra_subresources.get(f"{res.plural}/{sub}")
        if handler is not None:
            return await handler(request, target)
        if sub == "scale":
            return await self.scale(request, target)
        method = request.method
        dry_run = request.query.get("dryRun") == "All"
        if sub in ("status", "finalize"):
            if method == "GET":
                return respond(self.api.get(res, ns, name))
            if method == "PUT":
                body = await self.body(request)
                if sub == "finalize":
                    return respond(self.api.get(res, ns, name))
                return respond(self.api.update(res, ns, name, _object(body), "status", dry_run))
            if method == "PATCH":
                body = await self.body(request, patch=True)
                obj, _ = self.api.patch(res, ns, name, request.content_type, body,
                                        "status", dry_run)
                return respond(obj)
        raise status.method_not_allowed()

    @staticmethod
    def _strict(request: web.Request, res, body: object) -> None:
        """``fieldValidation=Strict``: an unknown field is a 400, as on a real API server."""
        from .fields import unknown_fields

        if request.query.get("fieldValidation") != "Strict":
            return
        unknown = unknown_fields(body, res.kind)
        if unknown:
            raise status.bad_request("api.strict_decoding", kind=res.kind, version=res.api_version,
                                     fields=", ".join(f'unknown field "{f}"' for f in unknown))

    async def scale(self, request: web.Request, target: Target) -> web.Response:
        res, ns, name = target.res, target.namespace or "", target.named
        obj = self.api.get(res, ns, name)
        if request.method in ("PUT", "PATCH"):
            body = await self.body(request, patch=request.method == "PATCH")
            scale: object = scale_of(obj)
            if request.method == "PATCH":
                from .patch import json_patch, merge_patch, strategic_merge
                flavour = PATCH_TYPES.get(request.content_type, "merge")
                scale = (json_patch(scale, body) if flavour == "json"
                         else strategic_merge(scale, body) if flavour == "strategic"
                         else merge_patch(scale, body))
            else:
                scale = body
            replicas = checked_replicas(scale)
            obj, _ = self.api.patch(res, ns, name, "application/merge-patch+json",
                                    {"spec": {"replicas": replicas}},
                                    dry_run=request.query.get("dryRun") == "All")
        elif request.method != "GET":
            raise status.method_not_allowed()
        return respond(scale_of(obj))

    # --- bodies -----------------------------------------------------------------------------
    async def body(self, request: web.Request, patch: bool = False) -> object:
        """The decoded body, within the bounds of ``bodies`` (size, depth, aliases)."""
        try:
            data = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise bodies.too_large() from exc
        return bodies.decode(data, request.content_type)

    async def delete_options(self, request: web.Request) -> dict:
        try:
            data = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise bodies.too_large() from exc
        options = bodies.decode_json(data) if data else {}
        if not isinstance(options, dict):
            options = {}
        if "gracePeriodSeconds" in request.query:
            options["gracePeriodSeconds"] = bodies.query_int(request.query, "gracePeriodSeconds")
        if "propagationPolicy" in request.query:
            options["propagationPolicy"] = request.query["propagationPolicy"]
        return options

    @staticmethod
    def _delete_dry_run(request: web.Request, options: dict) -> bool:
        """kubectl delete --dry-run=server puts ``dryRun: ["All"]`` in the DeleteOptions body."""
        return request.query.get("dryRun") == "All" or options.get("dryRun") == ["All"]

    # --- reads ------------------------------------------------------------------------------
    def object_response(self, request: web.Request, res: ResourceKind, obj: dict,
                        code: int = 200) -> web.Response:
        accept = request.headers.get("Accept", "")
        if tables.wants_table(accept) and request.method == "GET":
            return respond(tables.table(res, [obj], obj["metadata"].get("resourceVersion", ""),
                                        tables.table_version(accept)), code)
        return respond(obj, code)

    def list(self, request: web.Request, target: Target) -> web.Response:
        res = target.res
        items = self.api.list(res, target.namespace, request.query.get("labelSelector"),
                              request.query.get("fieldSelector"))
        rv = str(self.store.rv)
        accept = request.headers.get("Accept", "")
        if tables.wants_table(accept):
            return respond(tables.table(res, items, rv, tables.table_version(accept)))
        head = dumps({"kind": f"{res.kind}List", "apiVersion": res.api_version,
                      "metadata": {"resourceVersion": rv}, "items": []})
        body = head[:-2] + b",".join(self._encode_items(res, items)) + head[-2:]  # head ends in "]}"
        return web.Response(body=body, status=200, content_type=JSON)

    def _encode_items(self, res: ResourceKind,
                      items: builtins.list[dict]) -> builtins.list[bytes]:
        cache, out = self._encoded, []
        for obj in items:
            meta = obj.get("metadata") or {}
            key, rv = (res.kind, meta.get("namespace"), meta.get("name")), meta.get("resourceVersion")
            hit = cache.get(key)
            if hit is not None and rv and hit[0] == rv:
                out.append(hit[1])
                continue
            data = dumps(obj)
            if rv:
                cache[key] = (rv, data)  # replaces the object's older version
            out.append(data)
        if len(cache) > ENCODED_MAX:
            self._encoded = {}  # deleted objects pile up: start again (the next LIST fills it)
        return out

    async def watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        res, query = target.res, request.query
        labels = parse_label_selector(query.get("labelSelector"))
        tests = parse_field_selector(query.get("fieldSelector"))
        accept = request.headers.get("Accept", "")
        as_table = tables.wants_table(accept)
        table_version = tables.table_version(accept)
        bookmarks = _flag(request, "allowWatchBookmarks") and not as_table
        timeout = bodies.query_int(query, "timeoutSeconds", low=0) or None
        rv_text = query.get("resourceVersion", "")
        try:
            since = int(rv_text) if rv_text not in ("", "0") else None
        except ValueError as exc:
            raise status.bad_request("api.bad_resource_version", value=rv_text) from exc
        response = web.StreamResponse(headers={"Content-Type": JSON,
                                               "Cache-Control": "no-cache, private"})
        response.enable_chunked_encoding()
        initial: list[dict] = []
        try:
            watcher = self.store.watch(res, target.namespace, since)
        except ApiError as exc:
            await response.prepare(request)
            await response.write(dumps({"type": "ERROR", "object": exc.status(self.lang)}) + b"\n")
            return response
        if since is None:
            initial = self.api.list(res, target.namespace)
        await response.prepare(request)

        def render(kind: str, obj: dict) -> bytes:
            if as_table:
                obj = tables.table(res, [obj], obj["metadata"].get("resourceVersion", ""),
                                   table_version)
            return dumps({"type": kind, "object": obj}) + b"\n"

        def wanted(obj: dict) -> bool:
            return labels_match(labels, obj["metadata"].get("labels")) and fields_match(tests, obj)

        try:
            for obj in initial:
                if wanted(obj):
                    await response.write(render("ADDED", obj))
            deadline = time.monotonic() + timeout if timeout else None
            last_bookmark = time.monotonic()
            while True:
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                wait = 1.0
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        break
                try:
                    change = await asyncio.wait_for(watcher.queue.get(), wait)
                except TimeoutError:
                    change = None
                if change is not None and wanted(change.obj):
                    await response.write(render(change.type, change.obj))
                if bookmarks and time.monotonic() - last_bookmark >= self.bookmark_interval:
                    last_bookmark = time.monotonic()
                    await response.write(dumps({"type": "BOOKMARK", "object": {
                        "kind": res.kind, "apiVersion": res.api_version,
                        "metadata": {"resourceVersion": str(self.store.rv)}}}) + b"\n")
        except ConnectionResetError:
            pass
        finally:
            self.store.unwatch(watcher)
        return response


def checked_replicas(scale: object) -> int:
    """``spec.replicas`` of a Scale a client sent, checked as the real server decodes and
    validates it (a 400 for a wrong type, a 422 for a negative count; absent means 0)."""
    from .typecheck import INT, check_types
    from .validation import check_replicas

    check_types(scale, "Scale", "autoscaling/v1", {"spec": {"replicas": INT}})
    assert isinstance(scale, dict)      # check_types refuses any other body
    replicas = (scale.get("spec") or {}).get("replicas") or 0
    check_replicas(replicas, "Scale")
    return replicas


def scale_of(obj: dict) -> dict:
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                               "creationTimestamp") if k in meta},
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0),
                       "selector": selector_string(obj.get("spec", {}).get("selector"))}}
