"""Self-checking exercises: a check looks at the real cluster and says what is right or still wrong.

A check never reads the learner's code: it reads the cluster (objects through the API, packets
through the probe, rules on the nodes) and returns a ``Result`` that prints in the learner's
language and renders as a coloured box in Jupyter. Checks of each notebook live in their own
module (``pods``, ``services``, ``policies``); they register their messages in the catalog. The newer
exercises are split in two (:mod:`.core`): ``observe`` (I/O, :mod:`.observe`) and a pure ``judge``
(:mod:`.judges`), run by ``check("02.5", answer, cluster, ...)``; predictions are sealed first with
``predict``. ``node_route`` is the break-and-fix exercises' one write path (:mod:`.noderoute`).
"""
from __future__ import annotations

import functools
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import i18n

MESSAGES = {
    "exercise.ok": {"en": "✔ Well done!", "fr": "✔ Bravo !"},
    "exercise.not_yet": {"en": "✘ Not yet:", "fr": "✘ Pas encore :"},
}


@dataclass
class Result:
    """The verdict of a check: ``ok``, and the reasons (already translated) when it is not."""

    ok: bool
    reasons: list[str] = field(default_factory=list)
    lang: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def text(self) -> str:
        lang = self.lang or i18n.get_language()
        if self.ok:
            return i18n.t("exercise.ok", lang) + ("\n" + "\n".join(self.reasons) if self.reasons else "")
        return i18n.t("exercise.not_yet", lang) + "\n" + "\n".join(f"- {r}" for r in self.reasons)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:     # a console shows the verdict, not the dataclass
        return self.text()

    def _repr_html_(self) -> str:
        colour, border = ("#e8f5e9", "#2e7d32") if self.ok else ("#fff3e0", "#e65100")
        body = "<br>".join(html.escape(line) for line in self.text().splitlines())
        return (f'<div style="background:{colour};border-left:6px solid {border};padding:8px 12px;'
                f'font-family:sans-serif">{body}</div>')


def passed(*notes: str) -> Result:
    return Result(True, list(notes))


def failed(*reasons: str) -> Result:
    return Result(False, list(reasons))


def recorded(fn: Callable[..., Result]) -> Callable[..., Result]:
    """A check that takes ``exercise="02.5"``: when it passes, the exercise is recorded as solved
    (``labkit.progress()``). The check itself is unchanged."""
    @functools.wraps(fn)
    def wrapper(*args: Any, exercise: str | None = None, **kwargs: Any) -> Result:
        result = fn(*args, **kwargs)
        if exercise and result.ok:
            from .reveal import record

            record(exercise)
        return result
    return wrapper


def __getattr__(name: str) -> Any:
    """``check``, ``predict``, ``exercise`` and ``NotObserved`` (observe/judge exercises) and
    ``node_route`` (break and fix), imported on first use: ``from labkit import exercises as ex;
    ex.check("02.5", device, cluster, ...)``; ``ex.exercise("90.1", observe, judge)`` registers a
    check (docs/AUTHORING.md)."""
    if name in ("check", "predict", "exercise", "NotObserved"):
        from . import core
        return getattr(core, name)
    if name == "node_route":
        from .noderoute import node_route
        return node_route
    raise AttributeError(f"module 'labkit.exercises' has no attribute {name!r}")


__all__ = ["Result", "passed", "failed", "recorded", "check", "predict", "exercise", "NotObserved", "node_route"]
