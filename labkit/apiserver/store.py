"""The object store: every object by kind, namespace and name, one resourceVersion counter,
a bounded history for watch resumption, and one JSON file per object on disk.

Everything runs on the server's event loop, so there are no locks. Stored dicts are never
mutated in place: writers build a new dict (``copy.deepcopy`` first) and hand it to
``put``/``delete``, which lets readers serialize stored objects without copying them.

Persistence: each object lives in ``<state_dir>/objects/<group>/<plural>/<namespace>/<name>.json``
(namespace ``_`` for cluster objects), written to a temporary file and renamed, so a crash leaves
either the old or the new object, never half of one. ``meta.json`` keeps the counter across deletes.

A write that an API request makes is on disk before the request is answered (a write that cannot
be persisted is not committed). The controllers' own writes (``with store.background():``) and
Events go to disk from a writer thread instead (``Persister``): one file write costs about a
millisecond on this machine's disk, and a 1,000-pod Deployment is some 10,000 writes (the pods,
their scheduling and status, five Events each), which on the event loop would take ten seconds.
Such a write lost in a crash is one the controllers make again (they are level-triggered: a pod
missing after a restart is created again, a status written again when the kubelet starts it).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabkitError
from .resources import BY_KEY, ResourceKind
from .status import expired

_TMP_SEQ = itertools.count()
log = logging.getLogger(__name__)
EVENTS_KEY = "core/events"


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


_KNOWN_DIRS: set[str] = set()


def write_atomic(path: Path | str, data: bytes, mode: int = 0o600) -> None:
    """Write via a temporary file and a rename, so readers never see a partial file.

    Lab state is the root's alone (files 0600, directories 0700): every object, tokens included,
    lives here, and pods share the host's filesystem. Plain ``os`` calls on strings: the store
    writes thousands of files from its writer thread, which shares the interpreter with the API.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder not in _KNOWN_DIRS:
        private_dirs(Path(folder))
        _KNOWN_DIRS.add(folder)
    tmp = f"{folder}/.tmp-{os.getpid()}-{next(_TMP_SEQ)}"   # short: any name fits
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    except FileNotFoundError:           # the folder went (a lab swept and made again)
        _KNOWN_DIRS.discard(folder)
        private_dirs(Path(folder))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def private_dirs(folder: Path) -> None:
    """``mkdir -p`` with every directory it creates 0700."""
    if folder.is_dir():
        return
    private_dirs(folder.parent)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass


def file_name(name: str) -> str:
    """``<name>.json``, or a shortened name with a hash when it would not fit a file name
    (names go up to 253 characters, file names to 255 bytes)."""
    if len(name.encode()) <= 200:
        return f"{name}.json"
    return f"{name[:150]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}.json"


class Persister:
    """Writes files from one thread, latest version of each path only, in the order asked.

    ``write``/``remove`` queue; ``sync_write``/``sync_remove`` happen now (they replace what is
    queued for that path, so a queued older version never lands after them). ``flush`` waits
    until everything queued is on disk. A failed write is logged and retried at the next write.
    """

    def __init__(self) -> None:
        self._pending: dict[str, dict | bytes | None] = {}   # None: remove the file
        self._cond = threading.Condition()
        self._io = threading.Lock()       # one file operation at a time, queued or not
        self._busy = False
        self._thread: threading.Thread | None = None
        self.failures = 0

    def write(self, path: Path | str, obj: dict | bytes) -> None:
        self._queue(os.fspath(path), obj)

    def remove(self, path: Path | str) -> None:
        self._queue(os.fspath(path), None)

    def _queue(self, path: str, what: dict | bytes | None) -> None:
        with self._cond:
            self._pending.pop(path, None)          # keep the order of the last request
            self._pending[path] = what
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="store-persister",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def sync_write(self, path: Path | str, data: bytes) -> None:
        path = os.fspath(path)
        with self._io:
            with self._cond:
                self._pending.pop(path, None)
            write_atomic(path, data)

    def sync_remove(self, path: Path | str) -> None:
        path = os.fspath(path)
        with self._io:
            with self._cond:
                self._pending.pop(path, None)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def flush(self, timeout: float = 60.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending))
                self._busy = True
            while True:
                with self._io:
                    with self._cond:
                        if not self._pending:
                            break
                        path = next(iter(self._pending))
                        what = self._pending.pop(path)
                    try:
                        if what is None:
                            with contextlib.suppress(FileNotFoundError):
                                os.unlink(path)
                        else:
                            write_atomic(path, what if isinstance(what, bytes) else
                                         json.dumps(what, separators=(",", ":")).encode())
                    except OSError as exc:
                        self.failures += 1
                        log.warning("could not persist %s: %s", path, exc)
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class Store:
    def __init__(self, state_dir: Path | None = None, history: int = 5000) -> None:
        self.rv = 0
        self._objects: dict[str, dict[tuple[str, str], dict]] = {k: {} for k in BY_KEY}
        self._uids: dict[str, tuple[str, str, str]] = {}
        self._history: deque[Change] = deque(maxlen=history)
        self._floor = 0          # changes at or below this RV may be missing from the history
        self._watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Change], None]] = []
        self._dir = Path(state_dir) / "objects" if state_dir else None
        self.deletions = 0       # objects other than Events deleted so far (the GC's cue)
        self._background = 0
        self.persister = Persister()
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
        return self.persister.flush(timeout)

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
        self.rv += 1
        return self.rv

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
        current = self._objects[res.key].pop(ident, None)
        if current is None:
            return obj
        self._uids.pop(current["metadata"]["uid"], None)
        if res.key != EVENTS_KEY:
            self.deletions += 1      # an Event owns nothing: its going is no cue for the collector
        gone = dict(current, metadata=dict(current["metadata"], resourceVersion=str(self.next_rv())))
        if self._dir:
            meta_data = json.dumps({"resourceVersion": self.rv}).encode()
            if self._background or res.key == EVENTS_KEY:
                self.persister.remove(self._path(res, gone))
                self.persister.write(self._dir.parent / "meta.json", meta_data)
            else:
                self.persister.sync_remove(self._path(res, gone))
                self.persister.sync_write(self._dir.parent / "meta.json", meta_data)
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
    def _path(self, res: ResourceKind, obj: dict) -> Path:
        meta = obj["metadata"]
        return self._dir / res.key / (meta.get("namespace") or "_") / file_name(meta["name"])

    def _persist(self, res: ResourceKind, obj: dict) -> None:
        if not self._dir:
            return
        if self._background or res.key == EVENTS_KEY:
            self.persister.write(self._path(res, obj), obj)   # stored dicts are never mutated
        else:
            self.persister.sync_write(self._path(res, obj),
                                      json.dumps(obj, separators=(",", ":")).encode())

    def _load(self) -> None:
        meta_file = self._dir.parent / "meta.json"
        if meta_file.exists():
            self.rv = json.loads(meta_file.read_text()).get("resourceVersion", 0)
        for key, res in BY_KEY.items():
            for path in sorted((self._dir / key).glob("*/*.json")):
                try:
                    obj = json.loads(path.read_text())
                    meta = obj["metadata"]
                    ident = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
                    self.rv = max(self.rv, int(meta["resourceVersion"]))
                except (ValueError, KeyError, TypeError) as exc:
                    raise LabkitError("apiserver.bad_state", path=path, error=exc) from exc
                self._objects[key][ident] = obj
                self._uids[meta["uid"]] = (key, *ident)
        self._floor = self.rv
