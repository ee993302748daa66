"""The public API stays small and deliberate (as httpx guards its own)."""
import labkit

PUBLIC = {"LabkitError", "BadInput", "set_language", "get_language", "reachability", "explain", "probe",
          "trace", "capture", "service_reachability", "show", "connect", "Cluster", "ClusterSnapshot",
          "solution", "progress"}


def test_all_is_the_public_api():
    assert set(labkit.__all__) == PUBLIC


def test_every_public_name_resolves_and_calls_are_callable():
    for name in PUBLIC:
        assert getattr(labkit, name) is not None, name
    for name in ("reachability", "explain", "probe", "trace", "capture", "service_reachability", "show", "connect",
                 "set_language", "solution", "progress"):
        assert callable(getattr(labkit, name)), name


def test_trace_is_both_a_module_and_the_notebook_call():
    from labkit.snapshot import ClusterSnapshot
    from pathlib import Path
    snap = ClusterSnapshot.load(Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "reference-kindnet.json")
    result = labkit.trace(snap, "demo/client", "demo/blue:80")
    assert len(result.candidates) == 3
    assert labkit.trace.Trace is type(result)
