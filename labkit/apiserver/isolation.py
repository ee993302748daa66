"""Per-object failure isolation for the controllers: one bad object never stops a controller.

A controller's pass walks many objects; a malformed one (from an old state file, a store written
directly, or a case validation does not catch) must not stop the others from being reconciled,
as on a real cluster where each key of a controller's work queue is processed on its own
(k8s.io/client-go/util/workqueue: a failing key is requeued, the others go on). Here a failing
object is skipped, with one log line and one Warning Event per object version; it is retried on
every pass, and reported again only once it has changed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import TypeVar

from .. import i18n
from .status import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

FAILED_RECONCILE = "FailedReconcile"


def describe(obj: object) -> str:
    """``namespace/name`` of an object, whatever shape it has."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return "?"
    name = meta.get("name")
    ns = meta.get("namespace")
    return f"{ns}/{name}" if ns else str(name)


def _identity(obj: object) -> tuple[str, str]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return (repr(obj)[:80], "")
    return (str(meta.get("uid") or describe(obj)), str(meta.get("resourceVersion", "")))


class Isolation:
    """Runs one object's step of a controller; reports a failure once per object version."""

    def __init__(self, api, component: str, reason: str = FAILED_RECONCILE,
                 lang: str | None = None) -> None:
        self.api, self.component, self.reason, self.lang = api, component, reason, lang
        self._reported: dict[str, str] = {}      # uid -> resourceVersion already reported
        self.failures = 0

    def run(self, obj: object, step: Callable[[], T]) -> T | None:
        """``step()``'s result, or None when it failed (the failure is reported)."""
        try:
            result = step()
        except ApiError as exc:
            # the API refused a write (a namespace terminating, a race with a delete): the
            # next pass retries, as before; not the object's fault, so nothing is reported
            log.debug("%s: %s: %s", self.component, describe(obj), exc)
            return None
        except Exception as exc:  # noqa: BLE001 - the point: one object's failure stays its own
            self.report(obj, exc)
            return None
        return result

    def each(self, objs: Iterable[T], step: Callable[[T], object]) -> None:
        for obj in objs:
            self.run(obj, partial(step, obj))

    def report(self, obj: object, exc: BaseException) -> None:
        self.failures += 1
        uid, rv = _identity(obj)
        if self._reported.get(uid) == rv:
            return
        self._reported[uid] = rv
        if len(self._reported) > 10000:          # bounded: forget the oldest reports
            self._reported.pop(next(iter(self._reported)))
        error = (str(exc) if hasattr(exc, "event_key") else f"{type(exc).__name__}: {exc}")[:300]
        key = getattr(exc, "event_key", "reliability.event.skipped")
        log.warning("%s: %s: %s", self.component, describe(obj),
                    i18n.t(key, "en", component=self.component, error=error))
        try:
            if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) \
                    and obj["metadata"].get("uid") and obj["metadata"].get("name"):
                self.api.event(obj, getattr(exc, "event_reason", self.reason), i18n.t(
                    key, self.lang, component=self.component, error=error), self.component,
                    "Warning")
        except Exception:
            log.debug("no event for %s", describe(obj), exc_info=True)
