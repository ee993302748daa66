"""The lab's bounds: how many pods it runs, how fast a ReplicaSet grows, how long Events live.

* ``MAX_PODS``: a lab runs at most this many pods by default (every pod is a network namespace,
  a veth pair and echo responders on one machine); a lab started with ``--max-pods N`` (at most
  ``MAX_PODS_LIMIT``) runs up to N. Beyond it a create is refused with 403 Forbidden, as a
  ResourceQuota refuses it on a real cluster ("exceeded quota"); the ReplicaSet controller
  reports it as a ``FailedCreate`` Event, as upstream does.
* ``slow_start_batches``: a ReplicaSet creates missing pods in batches of 1, 2, 4... and stops at
  the first failure (pkg/controller/replicaset/replica_set.go ``slowStartBatch``,
  ``SlowStartInitialBatchSize`` = 1), at most ``BURST_REPLICAS`` (500) per pass.
* Events live ``EVENT_TTL_SECONDS`` (one hour, kube-apiserver's ``--event-ttl`` default), and at
  most ``MAX_EVENTS`` are kept (the oldest go first).
"""
from __future__ import annotations

import calendar
import functools
import time
from collections.abc import Callable, Iterator

from .status import ApiError

MAX_PODS = 250          # a lab's default; ``labkit up --max-pods`` raises it per lab
MAX_PODS_LIMIT = 2000   # the most any lab may ask for
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1
EVENT_TTL_SECONDS = 3600
MAX_EVENTS = 2000


def pod_cap_exceeded(name: str, limit: int | None = None) -> ApiError:
    limit = MAX_PODS if limit is None else limit
    return ApiError(403, "Forbidden", "reliability.pod_cap", {"name": name, "kind": "pods"},
                    name=name, limit=limit)


def slow_start_batches(total: int) -> Iterator[int]:
    """Batch sizes 1, 2, 4, ... summing to ``min(total, BURST_REPLICAS)``."""
    left, size = min(total, BURST_REPLICAS), SLOW_START_INITIAL_BATCH
    while left > 0:
        batch = min(size, left)
        yield batch
        left -= batch
        size *= 2


def slow_start(total: int, create: Callable[[], object]) -> tuple[int, ApiError | None]:
    """Call ``create`` up to ``total`` times in slow-start batches; stop at the first failure.

    Returns how many succeeded and the first error (None when all did)."""
    done = 0
    for batch in slow_start_batches(total):
        for _ in range(batch):
            try:
                create()
            except ApiError as exc:
                return done, exc
            done += 1
    return done, None


@functools.lru_cache(maxsize=8192)
def _stamp(text: object) -> float:
    """Seconds since the epoch of an API timestamp (cached: Events of one second share one)."""
    try:
        return calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return 0.0


class EventCollector:
    """Removes Events older than the TTL, and the oldest ones beyond ``MAX_EVENTS``."""

    CHECK_SECONDS = 10.0

    def __init__(self, api, ttl: float = EVENT_TTL_SECONDS, cap: int = MAX_EVENTS,
                 clock: Callable[[], float] = time.time) -> None:
        from .api import EVENTS

        self.api, self.res, self.ttl, self.cap, self.clock = api, EVENTS, ttl, cap, clock
        self._next = 0.0

    def reconcile(self) -> None:
        """Every ``CHECK_SECONDS`` (the controllers' loop runs on every change), or at once
        when there are more Events than the cap."""
        now = self.clock()
        if now < self._next and self.api.store.count(self.res) <= self.cap:
            return
        self._next = now + self.CHECK_SECONDS
        events = self.api.store.list(self.res)
        if not events:
            return
        oldest_allowed = now - self.ttl
        dated = sorted(((_stamp(e.get("lastTimestamp") or e["metadata"].get("creationTimestamp")),
                         int(e["metadata"].get("resourceVersion") or 0)), e) for e in events)
        # Beyond the cap, down to 90% of it: a stream of Events (five per pod of a 1,000-pod
        # Deployment) then costs one sort every cap/10 Events, not one on every pass.
        excess = len(dated) - self.cap
        if excess > 0:
            excess = len(dated) - int(self.cap * 0.9)
        for index, ((stamp, _), event) in enumerate(dated):
            if stamp >= oldest_allowed and index >= excess:
                break
            try:
                self.api.remove(self.res, event)
            except ApiError:
                pass


def check_pod_cap(store, res, name: str, limit: int | None = None) -> None:
    limit = MAX_PODS if limit is None else limit
    if store.count(res) >= limit:
        raise pod_cap_exceeded(name, limit)


