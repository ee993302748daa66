"""The store's writer thread: controllers' writes reach the disk, the latest version wins, and
an API request's own write (synchronous) is never overwritten by an older queued one."""
from __future__ import annotations

import json

from labkit.apiserver.resources import BY_KEY
from labkit.apiserver.store import Persister, Store

PODS = BY_KEY["core/pods"]
EVENTS = BY_KEY["core/events"]


def pod(name: str, uid: str, image: str = "nginx") -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": uid},
            "spec": {"containers": [{"name": "c", "image": image}]}}


def test_background_writes_reach_the_disk_and_a_restart_reads_them(tmp_path):
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
    assert again.rv == store.rv


def test_events_are_written_by_the_thread_even_outside_background(tmp_path):
    store = Store(tmp_path)
    event = {"apiVersion": "v1", "kind": "Event", "involvedObject": {},
             "metadata": {"name": "e1", "namespace": "default", "uid": "e"}}
    store.put(EVENTS, event)
    assert store.flush()
    assert Store(tmp_path).get(EVENTS, "default", "e1") is not None


def test_a_synchronous_write_replaces_what_is_queued_for_the_same_file(tmp_path):
    persister = Persister()
    path = tmp_path / "x" / "obj.json"
    with persister._io:                     # hold the writer: the queued version waits
        persister.write(path, {"v": "old"})
        assert path.exists() is False
    persister.sync_write(path, json.dumps({"v": "new"}).encode())
    assert persister.flush()
    assert json.loads(path.read_text()) == {"v": "new"}
    persister.remove(path)
    assert persister.flush() and not path.exists()
