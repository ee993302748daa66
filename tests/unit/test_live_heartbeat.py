"""An idle live view costs next to nothing: with its watches running, it reads the cluster's revision
only when a watch says something changed or broke (a class keeps twenty views open on two cores)."""
import threading
import time

from labkit import live
from labkit.snapshot import ClusterSnapshot


def _view(monkeypatch, watched: bool):
    monkeypatch.setattr(live, "WATCH_SETTLE_SECONDS", 0.0)
    reads: list[float] = []
    changed = threading.Event()

    def version() -> str:
        reads.append(time.monotonic())
        return "7"

    snap = ClusterSnapshot(name="idle")
    view = live.LiveView(lambda s, slots, pick: ("<svg>x</svg>", None, ""), lambda: snap, version, "en",
                         changes=(lambda stop: (changed, lambda: None)) if watched else None)
    assert view.wait_for(lambda svg: "<svg" in svg, timeout=10)
    return view, reads, changed


def _wait(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_an_idle_watched_view_does_not_poll_and_looks_at_once_when_a_watch_fires(monkeypatch):
    view, reads, changed = _view(monkeypatch, watched=True)
    try:
        settled = len(reads)
        time.sleep(2.5)                                  # a 1 s heartbeat would have read twice by now
        assert len(reads) == settled
        changed.set()                                    # a watch saw a change, or broke
        assert _wait(lambda: len(reads) > settled)
    finally:
        view.stop()


def test_without_watches_the_heartbeat_still_polls(monkeypatch):
    view, reads, _ = _view(monkeypatch, watched=False)
    try:
        settled = len(reads)
        assert _wait(lambda: len(reads) >= settled + 2)  # the fallback when watches are refused
    finally:
        view.stop()
