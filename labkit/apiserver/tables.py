"""Server-side Tables (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``).

``kubectl get`` always asks for a Table and prints its cells verbatim; NAMESPACE (``-A``),
``--show-labels`` and ``-L`` come from each row's PartialObjectMetadata, so rows carry it.
"""
from __future__ import annotations

import time
from typing import Any

from .resources import ResourceKind

TABLE_MARK = "as=Table"


def wants_table(accept: str) -> bool:
    return TABLE_MARK in accept.replace(" ", "")


def table_version(accept: str) -> str:
    for media in accept.split(","):
        if TABLE_MARK in media.replace(" ", ""):
            return "v1beta1" if "v=v1beta1" in media.replace(" ", "") else "v1"
    return "v1"


def column_definitions(res: ResourceKind) -> list[dict]:
    return [{"name": c.name, "type": c.type, "format": c.format, "description": c.description,
             "priority": c.priority} for c in res.table_columns()]


def row(res: ResourceKind, obj: dict, now: float) -> dict:
    return {"cells": [c.cell(obj, now) for c in res.table_columns()],
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": obj["metadata"]}}


def table(res: ResourceKind, objs: list[dict], resource_version: str,
          version: str = "v1", with_columns: bool = True) -> dict:
    now = time.time()
    out: dict[str, Any] = {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}",
           "metadata": {"resourceVersion": resource_version}}
    if with_columns:
        out["columnDefinitions"] = column_definitions(res)
    out["rows"] = [row(res, o, now) for o in objs]
    return out
