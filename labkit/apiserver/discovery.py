"""Discovery, ``/version`` and the OpenAPI documents, all derived from the resource table.

What kubectl needs (see ``reference/kubectl-api.md`` §0, §2, §5):
- ``/version`` must say ``major: 1, minor: 32``: the preinstalled kubectl is a dispatcher that
  picks the kubectl binary of the server's minor version.
- Aggregated discovery is negotiated from the Accept header: kubectl 1.29 only understands
  ``v2beta1`` and fails on ``v2``; a client that asks for neither gets the legacy documents.
- ``apply`` and ``create -f`` validate through OpenAPI v3: a ``patch`` operation per kind carrying
  ``x-kubernetes-group-version-kind`` and a ``fieldValidation`` parameter is enough.
"""
from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from .resources import RESOURCES, ResourceKind, group_versions, in_group_version

KUBE_VERSION = "v1.32.0"
AGG_TYPE = "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"


def version_info() -> dict:
    return {"major": "1", "minor": "32", "gitVersion": KUBE_VERSION, "gitCommit": "labkit",
            "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.4",
            "compiler": "gc", "platform": "linux/amd64"}


def aggregated_version(accept: str) -> str | None:
    """``"v2"``, ``"v2beta1"`` or None (legacy), from the media types the client accepts."""
    offered = []
    for media in accept.split(","):
        params = dict(part.strip().partition("=")[::2] for part in media.split(";")[1:])
        if params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io":
            offered.append(params.get("v"))
    for version in ("v2", "v2beta1"):
        if version in offered:
            return version
    return None


def _verbs(res: ResourceKind) -> list[str]:
    return sorted(res.verbs)


def _agg_resource(res: ResourceKind) -> dict:
    entry: dict[str, Any] = {"resource": res.plural,
             "responseKind": {"group": res.group, "version": res.version, "kind": res.kind},
             "scope": "Namespaced" if res.namespaced else "Cluster",
             "singularResource": res.singular, "verbs": _verbs(res)}
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    if res.subresources:
        entry["subresources"] = [
            {"subresource": s.name,
             "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
             "verbs": list(s.verbs)} for s in res.subresources]
    return entry


def aggregated(core: bool, version: str) -> dict:
    """The APIGroupDiscoveryList of ``/api`` (core) or ``/apis`` (every named group)."""
    items = []
    for group, versions in group_versions().items():
        if (group == "") != core:
            continue
        meta: dict[str, str | None] = {"creationTimestamp": None}
        if group:
            meta["name"] = group
        items.append({"metadata": meta, "versions": [
            {"version": v, "freshness": "Current",
             "resources": [_agg_resource(r) for r in in_group_version(group, v)]}
            for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}",
            "metadata": {}, "items": items}


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str) -> dict:
    versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in group_versions()[group]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": versions[0]}


def api_group_list() -> dict:
    groups = [api_group(g) for g in group_versions() if g]
    for g in groups:
        del g["kind"], g["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group: str, version: str) -> dict | None:
    kinds = in_group_version(group, version)
    if not kinds:
        return None
    resources = []
    for res in kinds:
        entry = {"name": res.plural, "singularName": res.singular, "namespaced": res.namespaced,
                 "kind": res.kind, "verbs": _verbs(res)}
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        resources.append(entry)
        for sub in res.subresources:
            sub_entry = {"name": f"{res.plural}/{sub.name}", "singularName": "",
                         "namespaced": res.namespaced, "kind": sub.kind, "verbs": list(sub.verbs)}
            if sub.group:
                sub_entry.update(group=sub.group, version=sub.version)
            resources.append(sub_entry)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


# --- OpenAPI v3 -------------------------------------------------------------------------------
def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@functools.cache
def openapi_document(group: str, version: str) -> dict | None:
    """A minimal OpenAPI v3 document: one ``patch`` per kind, which is what kubectl validates."""
    kinds = in_group_version(group, version)
    if not kinds:
        return None
    parameter = {"name": "fieldValidation", "in": "query", "schema": {"type": "string",
                                                                      "uniqueItems": True}}
    paths = {}
    for res in kinds:
        prefix = "/" + _gv_path(group, version)
        path = (f"{prefix}/namespaces/{{namespace}}/{res.plural}/{{name}}" if res.namespaced
                else f"{prefix}/{res.plural}/{{name}}")
        paths[path] = {"patch": {
            "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version,
                                                "kind": res.kind},
            "parameters": [parameter], "responses": {"200": {"description": "OK"}}}}
    if not group and version == "v1":
        # ``kind: List`` files: kubectl checks the List kind too before validating on the server.
        paths["/api/v1/lists/{name}"] = {"patch": {
            "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "List"},
            "parameters": [parameter], "responses": {"200": {"description": "OK"}}}}
    from .openapi import components

    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBE_VERSION},
            "paths": paths, "components": components(group, version)}


def openapi_v2_json() -> dict:
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": KUBE_VERSION},
            "paths": {}, "definitions": {}}


def openapi_v2_protobuf() -> bytes:
    """The same document as gnostic's ``openapi_v2.Document``: swagger (1) and info (2) only."""
    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    info = field(1, b"Kubernetes") + field(2, KUBE_VERSION.encode())
    return field(1, b"2.0") + field(2, info)


@functools.cache
def openapi_index() -> dict:
    paths = {}
    for group, versions in group_versions().items():
        for version in versions:
            doc = json.dumps(openapi_document(group, version), sort_keys=True).encode()
            digest = hashlib.sha256(doc).hexdigest()[:16].upper()
            path = _gv_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


__all__ = ["version_info", "aggregated_version", "aggregated", "api_versions", "api_group",
           "api_group_list", "resource_list", "openapi_document", "openapi_index", "RESOURCES",
           "AGG_TYPE"]

