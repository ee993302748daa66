"""Self-checking exercises: a check looks at the real cluster and says what is right or still wrong.

A check never reads the learner's code: it reads the cluster (objects through the API, packets
through the probe, rules on the nodes) and returns a ``Result`` that prints in the learner's
language and renders as a coloured box in Jupyter. Checks of each notebook live in their own
module (``pods``, ``services``, ``policies``); they register their messages in the catalog.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from .. import i18n

i18n.register({
    "exercise.ok": {"en": "✔ Well done!", "fr": "✔ Bravo !"},
    "exercise.not_yet": {"en": "✘ Not yet:", "fr": "✘ Pas encore :"},
})


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


__all__ = ["Result", "passed", "failed"]
