"""A node-level controller of the lab daemon: wake on change, wait a moment, sync, retry on failure.

kube-proxy and the policy enforcer both keep node state in step with API objects. Changes come in
bursts (a deployment scaled to 5 is a dozen object changes), so a change only wakes the loop and
the sync runs once the burst has settled (``DEBOUNCE_SECONDS``); a failed sync is logged and
retried a second later, so one bad moment never leaves a node stale.
"""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.05


class DebouncedSync:
    """Subclasses implement ``async sync()``; the daemon calls ``changed()`` on relevant changes."""

    what = "sync"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sync_count = 0

    async def sync(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def changed(self) -> None:
        self._wake.set()

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
        while True:
            await self._wake.wait()
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self._wake.clear()
            try:
                await self.sync()
            except Exception:  # noqa: BLE001 - a failed sync is retried on the next change
                log.exception("%s failed", self.what)
                await asyncio.sleep(1)
                self._wake.set()
