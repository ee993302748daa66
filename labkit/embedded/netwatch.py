"""Changes inside the lab's nodes (links, addresses, routes), followed by the daemon for every client.

A route deleted by hand inside a node changes no Kubernetes object, so the API's watches do not
see it; a root kernel could subscribe to netlink itself, an ordinary user's kernel cannot enter a
node. The daemon (root) does it once for everybody: one netlink socket per node namespace, bound
to the link, address and route multicast groups (RTNLGRP_LINK / IFADDR / ROUTE): iproute2's own
subscriber, ``ip -n <netns> monitor link address route``, one long-lived process per node read by
the daemon's event loop (pyroute2's asyncio socket was tried first: creating a socket in another
namespace forks a helper from the daemon, which took the daemon's API down). Each printed event bumps a generation counter; :mod:`labkit.apiserver.nodeevents` streams them to
clients as a watch (``GET /labkit/v1/nodeevents``).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Iterable

log = logging.getLogger(__name__)

KEEP = 256          # events kept for a client that resumes from a generation


class NodeWatcher:
    """Netlink events of ``nodes`` (``(name, netns)`` pairs); :meth:`wait` hands them out."""

    def __init__(self, nodes: Iterable[tuple[str, str]]) -> None:
        self.nodes = list(nodes)
        self.generation = 0
        self.events: collections.deque[dict] = collections.deque(maxlen=KEEP)
        self._changed: asyncio.Condition | None = None
        self._tasks: list[asyncio.Task] = []
        self.ready = 0                 # nodes whose socket is bound (tests and status)

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        self._tasks = [asyncio.create_task(self._follow(name, netns), name=f"netwatch-{name}")
                       for name, netns in self.nodes]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _follow(self, node: str, netns: str) -> None:
        while True:
            proc = None
            try:
                proc = await asyncio.create_subprocess_exec(
                    "ip", "-n", netns, "monitor", "link", "address", "route", stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
                assert proc.stdout is not None
                self.ready += 1
                try:
                    while line := await proc.stdout.readline():
                        if not line.startswith((b" ", b"\t")):      # continuation lines belong to one event
                            await self._record(node, line.decode(errors="replace").strip()[:200])
                finally:
                    self.ready -= 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - namespace gone or being recreated: try again
                log.debug("netlink watch of %s (%s): %s", node, netns, exc)
            finally:
                if proc is not None and proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await asyncio.sleep(1.0)

    async def _record(self, node: str, event: str) -> None:
        assert self._changed is not None
        async with self._changed:
            self.generation += 1
            self.events.append({"type": "MODIFIED", "generation": self.generation, "node": node, "event": event,
                                "time": round(time.time(), 3)})
            self._changed.notify_all()

    async def wait(self, since: int, timeout: float) -> list[dict]:
        """The events after generation ``since``, as soon as there is one (``[]`` after ``timeout``).

        A client that fell more than :data:`KEEP` events behind gets one event for the generation it
        missed (enough to redraw).
        """
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.generation > since), timeout)
            except TimeoutError:
                return []
            out = [e for e in self.events if e["generation"] > since]
            if not out or out[0]["generation"] > since + 1:
                out.insert(0, {"type": "MODIFIED", "generation": self.generation, "node": "*", "event": "missed"})
            return out
