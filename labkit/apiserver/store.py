"""The object store: every object by kind, namespace and name, one resourceVersion counter,
a bounded history for watch resumption, and one JSON file per object on disk.

Everything runs on the server's event loop, so there are no locks. Stored dicts are never
mutated in place: writers build a new dict (``copy.deepcopy`` first) and hand it to
``put``/``delete``, which lets readers serialize stored objects without copying them.

Persistence: every write appends a line to the store's journal (``journal.py``: a log of object
versions folded now and then into a snapshot), so a crash leaves either the old or the new
object, never half of one.

A write that an API request makes is in the journal before the request is answered (a write
that cannot be persisted is not committed). The controllers' own writes (``with
store.background():``) and Events are queued for the journal's writer thread instead, which
appends all that is queued in one write: a 1,000-pod Deployment is some 10,000 writes (the pods,
their scheduling and status, five Events each). Such a write lost in a crash is one the
controllers make again (they are level-triggered: a pod missing after a restart is created
again, a status written again when the kubelet starts it).

resourceVersions never go back, also across a crash: the journal holds a reservation
(``RV_BLOCK`` ahead) written before any resourceVersion beyond the last one is handed out, and a
restarted store starts above it. A watch from a resourceVersion of before the restart gets 410
Gone (its changes are not in the new history), as from upstream's apiserver once etcd compacted
them; clients then list again.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabkitError
from .journal import Journal, drop_former_layout, former_layout, private_dirs, write_atomic
from .resources import BY_KEY, ResourceKind
from .status import expired

log = logging.getLogger(__name__)
__all__ = ["Change", "Store", "Watcher", "private_dirs", "write_atomic"]
EVENTS_KEY = "core/events"
RV_BLOCK = 1000          # resourceVersions reserved in the journal at a time


@dataclass(frozen=True)
class Change:
    rv: int
    type: str            # ADDED, MODIFIED, DELETED
    key: str             # ResourceKind.key
    obj: dict


class Watcher:
    """One open watch: receives the changes of one kind (optionally one namespace)."""

    def __init__(self, key: str, namespace: str | None) -> None:
        self.key, self.namespace = key, namespace
        self.queue: asyncio.Queue[Change] = asyncio.Queue()

    def wants(self, change: Change) -> bool:
        return change.key == self.key and (
            self.namespace is None or change.obj["metadata"].get("namespace") == self.namespace)


class Store:
    def __init__(self, state_dir: Path | None = None, history: int = 5000) -> None:
        self.rv = 0
        self._objects: dict[str, dict[tuple[str, str], dict]] = {k: {} for k in BY_KEY}
        self._uids: dict[str, tuple[str, str, str]] = {}
        self._history: deque[Change] = deque(maxlen=history)
        self._floor = 0          # changes at or below this RV may be missing from the history
        self._watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Change], None]] = []
        self._dir = Path(state_dir) if state_dir else None
        self.deletions = 0       # objects other than Events deleted so far (the GC's cue)
        self._background = 0
        self._reserved = 0       # resourceVersions up to this one may be handed out
        self.journal = Journal(self._dir / "journal") if self._dir else None
        if self._dir:
            self._load()

    @contextlib.contextmanager
    def background(self) -> Iterator[None]:
        """Writes in this block reach the disk from the writer thread (see the module docstring).
        Synchronous code only: never ``await`` inside."""
        self._background += 1
        try:
            yield
        finally:
            self._background -= 1

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until every queued write is on disk (shutdown, tests)."""
        return self.journal.flush(timeout) if self.journal else True

    # --- reading ----------------------------------------------------------------------------
    def get(self, res: ResourceKind, namespace: str, name: str) -> dict | None:
        return self._objects[res.key].get((namespace if res.namespaced else "", name))

    def list(self, res: ResourceKind, namespace: str | None = None) -> list[dict]:
        objs = self._objects[res.key]
        if namespace is None or not res.namespaced:
            return list(objs.values())
        return [o for (ns, _), o in objs.items() if ns == namespace]

    def by_uid(self, uid: str) -> dict | None:
        where = self._uids.get(uid)
        return self._objects[where[0]].get(where[1:]) if where else None

    def uids(self) -> set[str]:
        return set(self._uids)

    def count(self, res: ResourceKind) -> int:
        return len(self._objects[res.key])

    def all_namespaced(self, namespace: str) -> Iterator[tuple[ResourceKind, dict]]:
        for key, objs in self._objects.items():
            res = BY_KEY[key]
            if res.namespaced:
                for (ns, _), obj in list(objs.items()):
                    if ns == namespace:
                        yield res, obj

    # --- writing ----------------------------------------------------------------------------
    def next_rv(self) -> int:
        """The next resourceVersion, reserved in the journal first when it reaches the last
        reservation (raises ``OSError`` if it cannot be: then nothing was handed out)."""
        rv = self.rv + 1
        if self.journal and rv >= self._reserved:
            self.journal.reserve(rv + RV_BLOCK)
            self._reserved = rv + RV_BLOCK
        self.rv = rv
        return rv

    def put(self, res: ResourceKind, obj: dict) -> dict:
        """Store a new or changed object (it gets the next resourceVersion) and tell watchers."""
        meta = obj["metadata"]
        ident = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        existed = ident in self._objects[res.key]
        meta["resourceVersion"] = str(self.next_rv())
        try:
            self._persist(res, obj)         # committed only once it is on disk
        except BaseException:
            self.rv -= 1
            raise
        self._objects[res.key][ident] = obj
        self._uids[meta["uid"]] = (res.key, *ident)
        self._emit(Change(self.rv, "MODIFIED" if existed else "ADDED", res.key, obj))
        return obj

    def delete(self, res: ResourceKind, obj: dict) -> dict:
        meta = obj["metadata"]
        ident = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        current = self._objects[res.key].get(ident)
        if current is None:
            return obj
        gone = dict(current, metadata=dict(current["metadata"], resourceVersion=str(self.next_rv())))
        if self.journal:
            try:
                if self._background or res.key == EVENTS_KEY:
                    self.journal.remove(self._ident(res, gone))
                else:
                    self.journal.sync_remove(self._ident(res, gone))
            except BaseException:
                self.rv -= 1
                raise
        del self._objects[res.key][ident]
        self._uids.pop(current["metadata"]["uid"], None)
        if res.key != EVENTS_KEY:
            self.deletions += 1      # an Event owns nothing: its going is no cue for the collector
        self._emit(Change(self.rv, "DELETED", res.key, gone))
        return gone

    # --- watching ---------------------------------------------------------------------------
    def watch(self, res: ResourceKind, namespace: str | None, since: int | None) -> Watcher:
        """A watcher that first receives the recorded changes after ``since`` (None: live only).

        Raises 410 Expired when changes after ``since`` were already dropped from the history.
        """
        watcher = Watcher(res.key, namespace if res.namespaced else None)
        if since is not None and since < self.rv:
            if since < self._floor:
                raise expired(since, self._floor)
            for change in self._history:
                if change.rv > since and watcher.wants(change):
                    watcher.queue.put_nowait(change)
        self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def _emit(self, change: Change) -> None:
        if len(self._history) == self._history.maxlen:
            self._floor = self._history[0].rv
        self._history.append(change)
        for watcher in self._watchers:
            if watcher.wants(change):
                watcher.queue.put_nowait(change)
        for listener in self.listeners:
            listener(change)

    # --- persistence ------------------------------------------------------------------------
    @staticmethod
    def _ident(res: ResourceKind, obj: dict) -> str:
        meta = obj["metadata"]
        return f"{res.key}/{meta.get('namespace') or '_'}/{meta['name']}"

    def _persist(self, res: ResourceKind, obj: dict) -> None:
        if not self.journal:
            return
        if self._background or res.key == EVENTS_KEY:
            self.journal.write(self._ident(res, obj), obj)   # stored dicts are never mutated
        else:
            self.journal.sync_write(self._ident(res, obj),
                                    json.dumps(obj, separators=(",", ":")).encode())

    def _load(self) -> None:
        assert self._dir is not None and self.journal is not None
        stored, self._reserved = self.journal.load()
        former = former_layout(self._dir / "objects")       # the layout before the journal
        if former:
            found = {}
            for key, path in former:
                data = path.read_bytes()
                try:
                    found[self._ident(BY_KEY[key], json.loads(data))] = data
                except (ValueError, KeyError, TypeError) as exc:
                    raise LabkitError("apiserver.bad_state", path=path, error=exc) from exc
            meta_file = self._dir / "objects" / "meta.json"
            if meta_file.exists():
                self.rv = json.loads(meta_file.read_text()).get("resourceVersion", 0)
            self.journal.adopt(found)
            stored.update(found)
            drop_former_layout(self._dir / "objects")
        for ident in sorted(stored):
            key = "/".join(ident.split("/", 2)[:2])
            res = BY_KEY.get(key)
            try:
                if res is None:
                    raise KeyError(key)
                obj = json.loads(stored[ident])
                meta = obj["metadata"]
                where = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
                self.rv = max(self.rv, int(meta["resourceVersion"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise LabkitError("apiserver.bad_state", path=f"{self.journal.folder}: {ident}",
                                  error=exc) from exc
            self._objects[key][where] = obj
            self._uids[meta["uid"]] = (key, *where)
        # Every resourceVersion handed out before a crash is at most the reservation: start
        # above all of them, and answer a watch from any of them with 410 Gone.
        self.rv = max(self.rv, self._reserved)
        self._floor = self.rv
