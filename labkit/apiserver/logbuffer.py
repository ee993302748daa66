"""A container's log: bounded, line-oriented, timestamped, and followable.

``kubectl logs`` reads what a container wrote; ``-f`` keeps reading as it writes; ``--tail N`` and
``--timestamps`` pick and decorate lines. A kubelet keeps those lines in files; the lab keeps them
in memory, so the buffer is bounded (oldest lines go first) and each entry carries a sequence
number, which lets a follower ask "what came after the last line I sent" even after old lines
were dropped. Everything runs on one event loop, so there are no locks.
"""
from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

MAX_ENTRIES = 5000
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class LogEntry:
    seq: int
    time: float          # seconds since the epoch
    stream: str          # "stdout" | "stderr"
    data: bytes          # one line with its newline, or a partial line without it


def rfc3339nano(stamp: float) -> str:
    """The timestamp format of ``kubectl logs --timestamps`` (RFC 3339 with nanoseconds)."""
    whole = int(stamp)
    nanos = int(round((stamp - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


def render(entries: list[LogEntry], timestamps: bool = False) -> bytes:
    if not timestamps:
        return b"".join(e.data for e in entries)
    return b"".join(rfc3339nano(e.time).encode() + b" " + e.data for e in entries)


class LogBuffer:
    """The last lines a container wrote, with waiters for ``follow``."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._entries: collections.deque[LogEntry] = collections.deque()
        self._bytes = 0
        self._seq = 0
        self._max_entries, self._max_bytes = max_entries, max_bytes
        self._waiters: list[asyncio.Future] = []
        # True once the writer is gone for good (the container ended): followers stop.
        self.ended = False

    @property
    def last_seq(self) -> int:
        return self._seq

    def append(self, data: bytes | str, stream: str = "stdout", when: float | None = None) -> None:
        """Record output; it is split into lines so ``--tail`` counts lines, not writes."""
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return
        stamp = time.time() if when is None else when
        for line in data.splitlines(keepends=True):
            self._seq += 1
            self._entries.append(LogEntry(self._seq, stamp, stream, line))
            self._bytes += len(line)
        while self._entries and (len(self._entries) > self._max_entries
                                 or self._bytes > self._max_bytes):
            self._bytes -= len(self._entries.popleft().data)
        self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    def restart(self) -> None:
        """A new instance of the container writes here from now on."""
        self.ended = False

    def read(self, after: int = 0, tail: int | None = None,
             since: float | None = None) -> list[LogEntry]:
        entries = [e for e in self._entries if e.seq > after
                   and (since is None or e.time >= since)]
        if tail is not None:
            entries = entries[-tail:] if tail > 0 else []
        return entries

    async def wait(self, after: int, timeout: float) -> bool:
        """Wait until something newer than ``after`` arrives (or the end); False on timeout."""
        if self._seq > after or self.ended:
            return True
        future = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if future in self._waiters:
                self._waiters.remove(future)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)
