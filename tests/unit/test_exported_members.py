"""The public API stays small and deliberate (as httpx guards its own), and every entry point
takes each kind of cluster handle: a ``Cluster``, a ``ClusterSnapshot`` or a lab name."""
from pathlib import Path

import pytest

import labkit
from labkit import cluster as cluster_mod
from labkit.errors import LabkitError
from labkit.snapshot import ClusterSnapshot

PUBLIC = {"LabkitError", "BadInput", "set_language", "get_language", "reachability", "explain", "probe",
          "trace", "capture", "service_reachability", "show", "connect", "Cluster", "ClusterSnapshot",
          "solution", "progress", "companion"}


def test_all_is_the_public_api():
    assert set(labkit.__all__) == PUBLIC


def test_every_public_name_resolves_and_calls_are_callable():
    for name in PUBLIC:
        assert getattr(labkit, name) is not None, name
    for name in ("reachability", "explain", "probe", "trace", "capture", "service_reachability", "show", "connect",
                 "set_language", "solution", "progress"):
        assert callable(getattr(labkit, name)), name


def test_the_notebook_calls_are_plain_functions_of_their_modules():
    """``labkit.trace``/``capture``/``probe`` are functions, not modules turned callable; their
    modules stay importable by path."""
    import types

    from labkit.capture import capture
    from labkit.netpol.probe import probe
    from labkit.trace import Trace, trace_cluster

    assert (labkit.trace, labkit.capture, labkit.probe) == (trace_cluster, capture, probe)
    assert all(isinstance(f, types.FunctionType) for f in (labkit.trace, labkit.capture, labkit.probe))
    snap = ClusterSnapshot.load(Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "reference-kindnet.json")
    result = labkit.trace(snap, "demo/client", "demo/blue:80")
    assert len(result.candidates) == 3 and isinstance(result, Trace)


# --- every public entry point takes each kind of handle -----------------------------------------
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "reference-kindnet.json"
NO_LAB = "nolabhere"           # no lab of this name runs: what needs a real lab says so


@pytest.fixture
def handles(monkeypatch):
    """A recorded snapshot, a Cluster of an embedded lab and a lab name, all showing the fixture."""
    snap = ClusterSnapshot.load(FIXTURE)
    live = cluster_mod.Cluster(NO_LAB, "embedded", None, lambda node: None, lab=NO_LAB)
    monkeypatch.setattr(cluster_mod.Cluster, "snapshot", lambda self, with_pod_networks=True: snap)
    monkeypatch.setattr(cluster_mod.Cluster, "objects_snapshot", lambda self: snap)
    connected = []
    monkeypatch.setattr(cluster_mod, "connect", lambda *a, lab=None, **k: connected.append(lab) or live)
    return {"snapshot": snap, "cluster": live, "lab name": NO_LAB}, connected


@pytest.mark.parametrize("handle", ["snapshot", "cluster", "lab name"])
def test_policies_and_trace_accept_each_handle(handles, handle):
    given, connected = handles
    h = given[handle]
    matrix = labkit.reachability(h, port=80)
    assert "demo/client" in matrix.pods
    assert labkit.explain(h, "demo/client", "prod/db", port=80).allowed in (True, False)
    assert len(labkit.trace(h, "demo/client", "demo/blue:80").candidates) == 3
    assert connected == ([NO_LAB] * 3 if handle == "lab name" else [])


def test_reachability_of_connect_works(handles):
    """``labkit.reachability(labkit.connect())``: the API objects of the connected cluster."""
    assert "prod/db" in labkit.reachability(cluster_mod.connect()).pods


@pytest.mark.parametrize("handle", ["snapshot", "cluster", "lab name"])
def test_live_views_accept_each_handle(handles, monkeypatch, handle):
    from labkit import live

    given, connected = handles
    monkeypatch.setattr(live, "resource_version_of", lambda cluster: lambda: "1")
    monkeypatch.setattr(live, "watch_changes", lambda cluster, stop: None)
    view = labkit.show("pods", given[handle], lang="en")
    try:
        assert isinstance(view, live.LiveView)
    finally:
        view.stop()
    assert connected == ([NO_LAB] if handle == "lab name" else [])


@pytest.mark.parametrize("handle", ["snapshot", "cluster", "lab name"])
@pytest.mark.parametrize("call", ["probe", "capture", "service_reachability"])
def test_real_packet_calls_take_each_handle_and_say_what_they_need(handles, handle, call):
    """These send packets in a running embedded lab: with no such lab, each handle gets a
    LabkitError saying what is missing (never a TypeError or an AttributeError)."""
    given, _ = handles
    args = {"probe": (), "capture": ("demo/client", "demo/blue:80"),
            "service_reachability": ()}[call]
    with pytest.raises(LabkitError) as err:
        getattr(labkit, call)(given[handle], *args)
    assert err.value.key != "cluster.bad_handle", err.value.key


def test_anything_else_is_refused_in_both_languages():
    with pytest.raises(LabkitError) as err:
        labkit.reachability(42)
    assert err.value.key == "cluster.bad_handle" and "int" in str(err.value)
