"""The store's files: one append-only log of object versions, and snapshots that fold it up.

Each write of an object appends one line to ``log-<G>``: its identity (a JSON string), a tab,
then the object's JSON (nothing for a removal); ``#rv`` lines carry the resourceVersions the
store reserved (``Store.next_rv``). When the log has grown to twice the last snapshot, the writer
writes every live object into ``snapshot-<G+1>`` (a temporary file renamed: complete or absent),
starts ``log-<G+1>`` and removes generation G. Loading reads the newest snapshot, then its log
up to the last complete line, and cuts off a line torn by a crash, so a crash leaves every object
either at a version written before or absent if never written, never half of one.

Why a log: creating a file costs ~0.6 ms of CPU on this machine's ext4 (measured,
``bench/store_writes.py``) and a 1,000-pod Deployment makes ~10,000 writes (each pod three
times, five Events each, the ReplicaSet's status); appending a line costs ~3 µs, and the writer
thread appends everything queued in one ``write``. etcd persists the same way: a write-ahead log
and periodic snapshots (go.etcd.io/etcd/server/storage/wal, etcdserver's ``snapshot``).

A synchronous write (an API request's) is appended before it returns: like the rename it
replaces, it is then in the kernel's page cache and survives the daemon's crash (not a power
loss: the lab's state lives under /run, which a reboot empties anyway).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import shutil
import threading
from pathlib import Path

log = logging.getLogger(__name__)
RV_RECORD = "#rv"
MIN_COMPACT_BYTES = 1 << 20        # a log smaller than this is never folded into a snapshot
_NAME = re.compile(r"^(snapshot|log)-(\d+)$")
_TMP_SEQ = itertools.count()


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


def append(fd: int, data: bytes) -> None:
    """Write all of ``data`` at the end of ``fd`` (opened ``O_APPEND``)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def record(ident: str, payload: bytes) -> bytes:
    return json.dumps(ident).encode() + b"\t" + payload + b"\n"


def parse(data: bytes) -> tuple[list[tuple[str, bytes]], int]:
    """The complete records of ``data`` and the length they span (pure): a last line without
    its newline, or one that does not parse, is where a crash cut the log, and ends it."""
    records, end = [], 0
    while True:
        newline = data.find(b"\n", end)
        if newline < 0:
            break
        line = data[end:newline]
        tab = line.find(b"\t")
        try:
            ident = json.loads(line[:tab]) if tab > 0 else None
        except ValueError:
            ident = None
        if not isinstance(ident, str):
            break
        records.append((ident, line[tab + 1:]))
        end = newline + 1
    return records, end


class Journal:
    """Queued writes go to the log from one thread, the latest version of each object only,
    in the order asked; ``sync_write``/``sync_remove``/``reserve`` append now (and replace what
    is queued for that object, so an older queued version never lands after them). ``flush``
    waits until everything queued is written. A failed queued write is logged (``failures``)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._pending: dict[str, dict | bytes | None] = {}   # None: removed
        self._cond = threading.Condition()
        self._io = threading.Lock()         # one append (or compaction) at a time
        self._busy = False
        self._thread: threading.Thread | None = None
        self._latest: dict[str, bytes] = {}     # what a snapshot holds: every live object
        self._reserved = b"0"
        self._generation = 0
        self._fd = -1
        self._size = 0
        self._snapshot_size = 0
        self.failures = 0

    # --- loading ---------------------------------------------------------------------------
    def load(self) -> tuple[dict[str, bytes], int]:
        """Every object's latest JSON by identity, and the highest resourceVersion reserved;
        opens the log for appending (a torn last line cut off first)."""
        private_dirs(self.folder)
        found: dict[str, set[int]] = {"snapshot": set(), "log": set()}
        for entry in os.listdir(self.folder):
            if m := _NAME.match(entry):
                found[m.group(1)].add(int(m.group(2)))
            elif entry.startswith(".tmp-"):
                os.unlink(self.folder / entry)       # a snapshot a crash left unfinished
        self._generation = max(found["snapshot"] | found["log"], default=0)
        if found["snapshot"]:
            # the newest complete snapshot; logs and snapshots of older generations are folded in
            self._generation = max(found["snapshot"])
            data = (self.folder / f"snapshot-{self._generation}").read_bytes()
            self._snapshot_size = len(data)
            self._apply(parse(data)[0])
        log_path = self.folder / f"log-{self._generation}"
        if log_path.exists():
            data = log_path.read_bytes()
            records, end = parse(data)
            self._apply(records)
            if end < len(data):
                log.warning("cut a torn record off %s (%d bytes)", log_path, len(data) - end)
                os.truncate(log_path, end)
        self._open(log_path)
        for kind in ("snapshot", "log"):
            for generation in found[kind]:
                if generation < self._generation:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.folder / f"{kind}-{generation}")
        return dict(self._latest), int(self._reserved)

    def _apply(self, records: list[tuple[str, bytes]]) -> None:
        for ident, payload in records:
            if ident == RV_RECORD:
                self._reserved = payload
            elif payload:
                self._latest[ident] = payload
            else:
                self._latest.pop(ident, None)

    def _open(self, path: Path) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = os.fstat(self._fd).st_size

    def adopt(self, objects: dict[str, bytes]) -> None:
        """Take objects found in the store's former layout (one file each) into a snapshot."""
        with self._io:
            self._latest.update(objects)
            self._compact()

    # --- writing ---------------------------------------------------------------------------
    def write(self, ident: str, obj: dict | bytes) -> None:
        self._queue(ident, obj)

    def remove(self, ident: str) -> None:
        self._queue(ident, None)

    def _queue(self, ident: str, what: dict | bytes | None) -> None:
        with self._cond:
            self._pending.pop(ident, None)          # keep the order of the last request
            self._pending[ident] = what
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="store-journal",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def sync_write(self, ident: str, data: bytes) -> None:
        self._sync(ident, data)

    def sync_remove(self, ident: str) -> None:
        self._sync(ident, b"")

    def reserve(self, rv: int) -> None:
        """Record that resourceVersions up to ``rv`` may be handed out (before any is)."""
        self._sync(RV_RECORD, str(rv).encode())

    def _sync(self, ident: str, payload: bytes) -> None:
        with self._io:
            with self._cond:
                self._pending.pop(ident, None)
            self._append([(ident, payload)])

    def _append(self, records: list[tuple[str, bytes]]) -> None:
        """Append ``records`` in one write; on failure the log is cut back to where it was (no
        half record stays) and the error raised. Holds ``_io``."""
        data = b"".join(record(ident, payload) for ident, payload in records)
        try:
            append(self._fd, data)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)
        self._apply(records)
        if self._size > max(MIN_COMPACT_BYTES, 2 * self._snapshot_size):
            try:
                self._compact()
            except OSError as exc:      # the log goes on; the next append tries again
                self.failures += 1
                log.warning("could not write a snapshot of the store: %s", exc)

    def _compact(self) -> None:
        """Every live object into the next generation's snapshot; then its log starts empty."""
        generation = self._generation + 1
        data = b"".join([record(RV_RECORD, self._reserved),
                         *(record(ident, payload) for ident, payload in self._latest.items())])
        write_atomic(self.folder / f"snapshot-{generation}", data)
        old = self._generation
        self._generation, self._snapshot_size = generation, len(data)
        self._open(self.folder / f"log-{generation}")
        for kind in ("log", "snapshot"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.folder / f"{kind}-{old}")

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
                        batch, self._pending = self._pending, {}
                    try:
                        self._append([(ident, b"" if what is None else what if isinstance(
                            what, bytes) else json.dumps(what, separators=(",", ":")).encode())
                            for ident, what in batch.items()])
                    except OSError as exc:
                        self.failures += 1
                        log.warning("could not persist %d objects: %s", len(batch), exc)
            with self._cond:
                self._busy = False
                self._cond.notify_all()


def former_layout(folder: Path) -> list[tuple[str, Path]]:
    """The files of the store's former layout, ``<folder>/<group>/<plural>/<ns>/<name>.json``,
    with the key (``<group>/<plural>``) of each."""
    if not folder.is_dir():
        return []
    return [(str(path.parent.parent.relative_to(folder)), path)
            for path in sorted(folder.glob("*/*/*/*.json"))]


def drop_former_layout(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
