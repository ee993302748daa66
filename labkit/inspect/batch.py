"""``ip -j -d -batch FILE`` output: several JSON documents, one per batch line, split back apart.

Reading a pod's view with one process (``addr show`` and ``route show`` in one batch) instead of two
halves the processes a snapshot starts (it starts two per pod otherwise). ``-d`` is global in batch
mode, so the routes come with the details ``ip -j route show`` leaves out: ``protocol`` is printed
even when it is ``boot``, ``table`` and ``scope`` even when ``main`` and ``global`` (iproute2
ip/iproute.c ``print_route``: ``rtm_protocol != RTPROT_BOOT || show_details``); the defaults are
dropped again so the routes read exactly as without ``-d``.
"""
from __future__ import annotations

import json
from typing import Any

BATCH_ADDR_ROUTE = "addr show\nroute show\n"


def split_documents(text: str) -> list[Any]:
    """The JSON documents printed one after the other."""
    decoder = json.JSONDecoder()
    out: list[Any] = []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = decoder.raw_decode(text, i)
        out.append(doc)


def plain_routes(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Routes of ``ip -j -d route show`` as ``ip -j route show`` prints them."""
    out = []
    for r in routes:
        r = dict(r)
        if r.get("protocol") == "boot":
            del r["protocol"]
        if r.get("type") == "unicast":
            del r["type"]
        out.append(r)
    return out


def addr_and_routes(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(``ip -j -d addr show``, ``ip -j route show``) from one ``-batch`` of :data:`BATCH_ADDR_ROUTE`."""
    docs = split_documents(text)
    if len(docs) != 2:
        raise ValueError(f"expected 2 JSON documents from ip -batch, got {len(docs)}")
    return docs[0], plain_routes(docs[1])
