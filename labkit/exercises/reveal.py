"""Solutions on demand, and the learner's progress.

``solution("02.5")`` prints the solution of an exercise in the learner's language: the learner
notebooks carry no executable solution (see :mod:`labkit.notebook_build`, which writes the catalog
``solutions.json`` next to this module from ``notebooks/src``).

``progress()`` shows which exercises the learner solved. A check that passes records its
exercise in a small JSON file of the user's (``$XDG_DATA_HOME/kubenet-lab/progress.json``, by
default ``~/.local/share/kubenet-lab/``), so it survives kernel restarts; nothing else is kept.
"""
from __future__ import annotations

import html
import json
import os
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import i18n
from ..errors import BadInput

CATALOG = Path(__file__).with_name("solutions.json")

MESSAGES = {
    "solution.header": {
        "en": "Solution of exercise {id} ({notebook}): copy it into the empty cell of the exercise and run it.",
        "fr": "Solution de l'exercice {id} ({notebook}) : copiez-la dans la cellule vide de l'exercice et "
              "exécutez-la."},
    "solution.unknown": {
        "en": "there is no exercise {id!r} (exercises: {known})",
        "fr": "il n'y a pas d'exercice {id!r} (exercices : {known})"},
    "progress.title": {"en": "Your progress: {done} of {total} exercises solved",
                       "fr": "Votre progression : {done} exercice(s) résolu(s) sur {total}"},
    "progress.notebook": {"en": "notebook", "fr": "carnet"},
    "progress.solved": {"en": "solved", "fr": "résolus"},
    "progress.none": {"en": "none yet", "fr": "aucun pour l'instant"},
}


@lru_cache(maxsize=1)
def catalog() -> dict:
    """Every exercise id -> its notebook, solution code and hints (both languages)."""
    return json.loads(CATALOG.read_text())


def _sort_key(exercise: str) -> tuple[int, int]:
    notebook, _, number = exercise.partition(".")
    return int(notebook), int(number)


@dataclass(repr=False)
class Solution:
    """A solution to read: prints as text, renders as a code block in Jupyter."""

    exercise: str
    header: str
    code: str

    def __str__(self) -> str:
        return f"{self.header}\n\n{self.code}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (f"<div style='font-family:sans-serif'><p>{html.escape(self.header)}</p>"
                f"<pre style='background:#f5f5f5;padding:8px'>{html.escape(self.code)}</pre></div>")


def solution(exercise: str, lang: str | None = None) -> Solution:
    """The solution of ``exercise`` (``"02.5"``: notebook 02, exercise 5), to read and copy."""
    lang = lang or i18n.get_language()
    entries = catalog()
    key = str(exercise).strip()
    if key not in entries:
        raise BadInput("solution.unknown", id=key, known=", ".join(sorted(entries, key=_sort_key)))
    entry = entries[key]
    return Solution(key, i18n.t("solution.header", lang, id=key, notebook=entry["notebook"]), entry["code"])


# --- progress -----------------------------------------------------------------------------------------
def progress_file() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kubenet-lab" / "progress.json"


def solved() -> dict[str, str]:
    """Exercise id -> when it was first solved (UTC, ISO 8601); empty when nothing is recorded."""
    try:
        data = json.loads(progress_file().read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in (data.get("solved") or {}).items() if isinstance(k, str)}


def record(exercise: str) -> None:
    """Remember that ``exercise`` is solved (atomic write; a failure to write never fails a check)."""
    done = solved()
    if exercise in done:
        return
    done[exercise] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            json.dump({"solved": done}, tmp, indent=1, sort_keys=True)
        os.replace(tmp.name, path)
    except OSError:
        pass


@dataclass(repr=False)
class Progress:
    """Solved exercises per notebook: prints as text, renders as a table in Jupyter."""

    title: str
    rows: list[tuple[str, list[tuple[str, bool]]]]     # notebook, [(exercise, solved)]
    lang: str

    def __str__(self) -> str:
        lines = [self.title]
        for notebook, items in self.rows:
            marks = "  ".join(f"{'✔' if ok else '·'} {ex}" for ex, ok in items)
            lines.append(f"{notebook:22} {marks}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = (f"<tr><th style='text-align:left'>{i18n.t('progress.notebook', self.lang)}</th>"
                f"<th style='text-align:left'>{i18n.t('progress.solved', self.lang)}</th></tr>")
        body = "".join(
            f"<tr><td style='text-align:left'>{html.escape(nb)}</td><td style='text-align:left'>"
            + " ".join(f"<span style='color:{'#2e7d32' if ok else '#9e9e9e'}'>{'✔' if ok else '·'} {ex}</span>"
                       for ex, ok in items) + "</td></tr>" for nb, items in self.rows)
        return f"<div style='font-family:sans-serif'><b>{html.escape(self.title)}</b><table>{head}{body}</table></div>"


def progress(lang: str | None = None) -> Progress:
    """Which exercises of each notebook are solved, as recorded by the checks that passed."""
    lang = lang or i18n.get_language()
    done = solved()
    by_notebook: dict[str, list[tuple[str, bool]]] = {}
    for exercise in sorted(catalog(), key=_sort_key):
        by_notebook.setdefault(catalog()[exercise]["notebook"], []).append((exercise, exercise in done))
    total = sum(len(v) for v in by_notebook.values())
    count = sum(ok for v in by_notebook.values() for _, ok in v)
    return Progress(i18n.t("progress.title", lang, done=count, total=total), sorted(by_notebook.items()), lang)


__all__ = ["solution", "progress", "record", "solved", "progress_file", "Solution", "Progress", "catalog"]
