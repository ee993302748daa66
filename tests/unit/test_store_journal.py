"""The store's journal: controllers' writes reach it, the latest version wins, an API request's
own write (synchronous) is never overwritten by an older queued one, a torn last record is cut
off, snapshots fold the log, the former one-file-per-object layout is taken over, and
resourceVersions never go back across a restart, even one that lost queued writes."""
from __future__ import annotations

import json
import os

import pytest

from labkit.apiserver import journal as journal_mod
from labkit.apiserver.journal import Journal, parse, record
from labkit.apiserver.resources import BY_KEY
from labkit.apiserver.status import ApiError
from labkit.apiserver.store import RV_BLOCK, Store

PODS = BY_KEY["core/pods"]
EVENTS = BY_KEY["core/events"]


def pod(name: str, uid: str, image: str = "nginx") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": uid},
            "spec": {"containers": [{"name": "c", "image": image}]}}


def test_background_writes_reach_the_journal_and_a_restart_reads_them(tmp_path):
    store = Store(tmp_path)
    with store.background():
        for i in range(50):
            store.put(PODS, pod(f"p{i}", f"u{i}"))
        store.put(PODS, pod("p7", "u7", image="redis"))        # a later version of one of them
    store.delete(PODS, store.get(PODS, "default", "p3"))       # synchronous, as a request's
    assert store.flush()
    again = Store(tmp_path)
    names = sorted(o["metadata"]["name"] for o in again.list(PODS))
    assert len(names) == 49 and "p3" not in names
    assert again.get(PODS, "default", "p7")["spec"]["containers"][0]["image"] == "redis"
    assert again.get(PODS, "default", "p7") == store.get(PODS, "default", "p7")
    assert again.rv >= store.rv


def test_events_are_written_by_the_thread_even_outside_background(tmp_path):
    store = Store(tmp_path)
    event = {"apiVersion": "v1", "kind": "Event", "involvedObject": {},
             "metadata": {"name": "e1", "namespace": "default", "uid": "e"}}
    store.put(EVENTS, event)
    assert store.flush()
    assert Store(tmp_path).get(EVENTS, "default", "e1") is not None


def test_a_synchronous_write_replaces_what_is_queued_for_the_same_object(tmp_path):
    journal = Journal(tmp_path)
    journal.load()
    with journal._io:                       # hold the writer: the queued version waits
        journal.write("x", {"v": "old"})
    journal.sync_write("x", json.dumps({"v": "new"}).encode())
    assert journal.flush()
    assert json.loads(Journal(tmp_path).load()[0]["x"]) == {"v": "new"}
    journal.remove("x")
    assert journal.flush() and "x" not in Journal(tmp_path).load()[0]


def test_a_record_torn_by_a_crash_is_cut_off_and_the_log_goes_on(tmp_path):
    journal = Journal(tmp_path)
    journal.load()
    journal.sync_write("a", b'{"v":1}')
    journal.sync_write("b", b'{"v":2}')
    with open(tmp_path / "log-0", "ab") as log:
        log.write(record("c", b'{"v":3}')[:9])            # a crash in the middle of a write
    again = Journal(tmp_path)
    objects, _ = again.load()
    assert objects == {"a": b'{"v":1}', "b": b'{"v":2}'}
    again.sync_write("d", b'{"v":4}')
    assert Journal(tmp_path).load()[0] == {"a": b'{"v":1}', "b": b'{"v":2}', "d": b'{"v":4}'}
    assert parse(b'"a"\t{}\n"b"\t{') == ([("a", b"{}")], 7)


def test_a_write_that_fails_leaves_no_half_record_and_commits_nothing(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.put(PODS, pod("kept", "u1"))

    def half(fd, data):
        os.write(fd, data[:5])
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(journal_mod, "append", half)
    with pytest.raises(OSError):
        store.put(PODS, pod("lost", "u2"))
    monkeypatch.undo()
    assert store.get(PODS, "default", "lost") is None
    store.put(PODS, pod("after", "u3"))
    again = Store(tmp_path)
    assert sorted(o["metadata"]["name"] for o in again.list(PODS)) == ["after", "kept"]


def test_snapshots_fold_the_log_and_keep_the_latest_versions(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_mod, "MIN_COMPACT_BYTES", 2000)
    store = Store(tmp_path)
    for round_ in range(20):
        for i in range(5):
            store.put(PODS, pod(f"p{i}", f"u{i}", image=f"img{round_}"))
    store.delete(PODS, store.get(PODS, "default", "p0"))
    files = sorted(os.listdir(tmp_path / "journal"))
    generation = int(files[0].split("-")[1])
    assert generation > 2 and files == [f"log-{generation}", f"snapshot-{generation}"]
    assert os.path.getsize(tmp_path / "journal" / f"log-{generation}") < 4000
    again = Store(tmp_path)
    assert [o["spec"]["containers"][0]["image"] for o in again.list(PODS)] == ["img19"] * 4
    assert again.rv >= store.rv


def test_the_former_layout_of_one_file_per_object_is_taken_over(tmp_path):
    folder = tmp_path / "objects" / "core" / "pods" / "default"
    folder.mkdir(parents=True)
    old = dict(pod("old", "u1"), metadata=dict(pod("old", "u1")["metadata"], resourceVersion="41"))
    (folder / "old.json").write_text(json.dumps(old))
    (tmp_path / "objects" / "meta.json").write_text(json.dumps({"resourceVersion": 57}))
    store = Store(tmp_path)
    assert store.get(PODS, "default", "old") == old and store.rv == 57
    assert not (tmp_path / "objects").exists()
    store.put(PODS, pod("new", "u2"))
    again = Store(tmp_path)
    assert sorted(o["metadata"]["name"] for o in again.list(PODS)) == ["new", "old"]


def test_resource_versions_never_go_back_after_a_crash_that_lost_queued_writes(tmp_path):
    store = Store(tmp_path)
    store.put(PODS, pod("p", "u0"))
    seen = 0
    store.journal.write = lambda *args: None     # queued writes that a crash will lose
    with store.background():
        for i in range(RV_BLOCK + 10):      # past one reservation: the next one is synchronous
            seen = int(store.put(PODS, pod(f"q{i % 7}", f"u{i % 7}"))["metadata"]["resourceVersion"])
    restarted = Store(tmp_path)             # what the disk holds, as after ``kill -9``
    assert restarted.get(PODS, "default", "q0") is None            # those writes were lost
    assert restarted.rv >= seen
    assert int(restarted.put(PODS, pod("r", "u9"))["metadata"]["resourceVersion"]) > seen
    with pytest.raises(ApiError) as gone:
        restarted.watch(PODS, None, seen)
    assert gone.value.code == 410
