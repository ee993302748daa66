"""A node-level controller of the lab daemon: wake on change, wait a moment, sync, retry on failure.

kube-proxy and the policy enforcer both keep node state in step with API objects. Changes come in
bursts (a deployment scaled to 5 is a dozen object changes), so a change only wakes the loop and
the sync runs once the burst has settled (``DEBOUNCE_SECONDS``); a failed sync is logged and
retried a second later, so one bad moment never leaves a node stale.

``caught_up()`` lets a caller wait until a sync that *began after the call* has succeeded: the
kubelet uses it to start a pod's processes only once every node's policy table knows the pod.
"""
from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.05


class DebouncedSync:
    """Subclasses implement ``async sync()``; the daemon calls ``changed()`` on relevant changes."""

    what = "sync"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sync_count = 0
        self._begun = 0          # syncs started so far
        self._succeeded = 0      # the number of the last sync that succeeded
        self._progress = asyncio.Condition()
        self.stopped: set[str] = set()   # nodes whose agent is stopped: their kernel state is left as is

    def stop_node(self, node: str) -> None:
        """The node's agent dies: nothing it programmed goes away, nothing new gets programmed."""
        self.stopped.add(node)

    def start_node(self, node: str) -> None:
        """The node's agent is back: its next sync starts from what the kernel holds."""
        self.stopped.discard(node)
        self.forget(node)
        self.changed()

    def forget(self, node: str) -> None:
        """Subclasses: the next sync of ``node`` reads or rewrites it all."""

    async def sync(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def changed(self) -> None:
        self._wake.set()

    async def caught_up(self, timeout: float) -> bool:
        """Wake the loop and wait for a sync that starts after now to succeed (False: timed out)."""
        wanted = self._begun + 1
        self.changed()

        async def wait() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self._succeeded >= wanted)
        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            return False
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        cost = 0.0
        while True:
            await self._wake.wait()
            # A sync that reads every pod costs more as the lab grows: wait at least as long as
            # the last one took, so that a stream of changes (a 1,000-pod Deployment) is taken
            # in fewer, larger syncs instead of keeping the event loop busy with syncs alone.
            await asyncio.sleep(max(DEBOUNCE_SECONDS, cost))
            self._wake.clear()
            self._begun += 1
            number = self._begun
            began = time.perf_counter()
            try:
                await self.sync()
                cost = time.perf_counter() - began
                async with self._progress:
                    self._succeeded = number
                    self._progress.notify_all()
            except Exception:
                log.exception("%s failed", self.what)
                await asyncio.sleep(1)
                self._wake.set()
