"""Notebook 04's capstone: one connection painted across the three layers of the overview, before
and after a policy change (pure: the reference snapshot, no lab)."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import labkit
from labkit.diagrams.overview import overview
from labkit.snapshot import ClusterSnapshot
from labkit.trace import layers_highlight

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "reference-kindnet.json"


def _group(svg: str, gid: str) -> str:
    m = re.search(rf'<g [^>]*id="{re.escape(gid)}"[^>]*>(.*?)</g>', svg, re.S)
    assert m, gid
    return m.group(1)


def _drawn(snap: ClusterSnapshot, lang: str = "en") -> tuple:
    result = labkit.trace(snap, "demo/client", "prod/db:5432")
    hl = layers_highlight(result)
    return hl, overview(snap, lang=lang, highlight=hl).svg


def test_an_allowed_connection_lights_its_service_its_pods_and_the_policy_that_allows_it():
    snap = ClusterSnapshot.load(REFERENCE)
    hl, svg = _drawn(snap)
    assert {"svc/prod/db/tcp", "p/demo/client", "p/prod/db", "pol/prod/allow-client-to-db"} <= hl.nodes
    assert not {m for m in hl.nodes if m.startswith("drop/")}
    assert "#ff8f00" in _group(svg, "svc/prod/db/tcp") and 'arrow-hl' in _group(svg, "svc/prod/db/tcp")
    assert "#ff8f00" not in _group(svg, "svc/demo/blue/tcp")              # the other Service stays green
    assert "#ff8f00" in _group(svg, "pol/prod/allow-client-to-db")
    assert "#ff8f00" not in _group(svg, "pol/prod/default-deny-ingress")   # isolates, does not allow
    assert "stroke-dasharray" not in _group(svg, "pol/prod/default-deny-ingress")


def test_after_the_policy_change_the_same_trace_shows_where_it_is_dropped():
    snap = ClusterSnapshot.load(REFERENCE)
    changed = copy.deepcopy(snap)
    pol = next(p for p in changed.networkpolicies if p["metadata"]["name"] == "allow-client-to-db")
    for rule in pol["spec"]["ingress"]:
        for port in rule.get("ports") or []:
            port["port"] = 5433
    hl, svg = _drawn(changed, "fr")
    assert {"svc/prod/db/tcp", "drop/p/prod/db", "drop/pol/prod/default-deny-ingress",
            "drop/pol/prod/allow-client-to-db"} <= hl.nodes
    assert "pol/prod/allow-client-to-db" not in hl.nodes
    assert "#ff8f00" in _group(svg, "svc/prod/db/tcp")                     # DNAT still happens
    assert "stroke-dasharray" in _group(svg, "pol/prod/allow-client-to-db")
    db = _group(svg, "p/prod/db")
    assert db.count("<circle") == 1 and "<circle" not in _group(svg, "p/demo/client")   # the no-entry sign
    assert "bloquée ici" in svg
