"""Exercises as two halves: ``observe(cluster, **params) -> facts`` and ``judge(facts, answer, lang)``.

``observe`` does the I/O (the Kubernetes API, a node through the node seam :mod:`labkit.nodes`, a
pod through the API's exec), the same on kind and on the embedded lab, and returns plain JSON-able
facts. ``judge`` is pure: facts and the learner's answer in, a :class:`~labkit.exercises.Result` out,
so it is unit-tested on recorded facts (tests/unit/exercises). :func:`check` runs both and, when
the verdict is "well done", records the exercise for ``labkit.progress()``.

A **prediction** is sealed before the reveal (:func:`predict`): the check that runs after the
cluster showed what happens judges the sealed answer, not whatever the variable holds by then.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import i18n
from . import Result, failed

MESSAGES = {
    "ex.unobservable": {"en": "{reason}", "fr": "{reason}"},
    "ex.predict.none": {
        "en": "no prediction yet: write it in `{variable}` above, then run this cell again (before the reveal)",
        "fr": "pas encore de prédiction : écrivez-la dans `{variable}` au-dessus, puis relancez cette cellule "
              "(avant la révélation)"},
    "ex.predict.sealed": {
        "en": "Prediction recorded for exercise {id}: {answer}. Now run the next cells and see.",
        "fr": "Prédiction enregistrée pour l'exercice {id} : {answer}. Exécutez les cellules suivantes "
              "et regardez."},
    "ex.predict.missing": {
        "en": "no prediction was recorded for exercise {id}: run its `ex.predict(...)` cell first, before "
              "the reveal",
        "fr": "aucune prédiction n'a été enregistrée pour l'exercice {id} : exécutez d'abord sa cellule "
              "`ex.predict(...)`, avant la révélation"},
    "ex.unknown": {
        "en": "there is no exercise {id!r}: its check is registered with ex.exercise({id!r}, observe, judge) "
              "(a course chapter: in labkit/exercises/registry.py; docs/AUTHORING.md)",
        "fr": "il n'y a pas d'exercice {id!r} : sa vérification s'enregistre avec ex.exercise({id!r}, observe, "
              "judge) (un chapitre du cours : dans labkit/exercises/registry.py ; docs/AUTHORING.md)"},
}


class NotObserved(Exception):
    """What ``observe`` could not see yet (no pod, no route...): a catalog key and its parameters,
    translated when the check reports it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params

    def message(self, lang: str) -> str:
        return i18n.t(self.key, lang, **self.params)


@dataclass(frozen=True)
class Exercise:
    id: str
    observe: Callable[..., dict]
    judge: Callable[[dict, Any, str], Result]
    prediction: bool = False


REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, observe: Callable[..., dict], judge: Callable[[dict, Any, str], Result],
             prediction: bool = False) -> None:
    """Register exercise ``id``: ``check(id, answer, cluster, **params)`` runs ``observe(cluster,
    **params)`` then ``judge(facts, answer, lang)``. Registering the same id again replaces it (a
    notebook cell run twice). Returns nothing: a notebook cell ending with it prints nothing."""
    REGISTRY[id] = Exercise(id, observe, judge, prediction)


_SEALED: dict[str, Any] = {}


@dataclass(repr=False)
class Note:
    """What :func:`predict` says: not a verdict, a receipt."""

    text: str
    sealed: bool

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        border = "#1565c0" if self.sealed else "#e65100"
        return (f'<div style="background:#e3f2fd;border-left:6px solid {border};padding:8px 12px;'
                f'font-family:sans-serif">{html.escape(self.text)}</div>')


def predict(exercise_id: str, answer: Any, variable: str = "prediction", lang: str | None = None) -> Note:
    """Seal the learner's prediction for ``exercise_id`` before the cells that reveal the answer."""
    lang = lang or i18n.get_language()
    _registered(exercise_id)
    if answer is None or (isinstance(answer, (str, list, tuple, set, dict)) and not answer) or (
            isinstance(answer, dict) and all(v is None for v in answer.values())):   # a template left as is
        return Note(i18n.t("ex.predict.none", lang, variable=variable), False)
    _SEALED[exercise_id] = answer
    shown = sorted(answer) if isinstance(answer, (set, frozenset)) else answer
    return Note(i18n.t("ex.predict.sealed", lang, id=exercise_id, answer=shown), True)


def _registered(exercise_id: str) -> Exercise:
    from . import registry  # noqa: F401  (registers every exercise)

    if exercise_id not in REGISTRY:
        from ..errors import BadInput

        raise BadInput("ex.unknown", id=exercise_id)
    return REGISTRY[exercise_id]


def check(exercise_id: str, answer: Any = None, cluster: Any = None, *, lang: str | None = None,
          **params: Any) -> Result:
    """Observe the cluster, judge the answer (the sealed prediction for a prediction exercise),
    record the exercise when it passes."""
    lang = lang or i18n.get_language()
    ex = _registered(exercise_id)
    if ex.prediction:
        if exercise_id not in _SEALED:
            result = failed(i18n.t("ex.predict.missing", lang, id=exercise_id))
            result.lang = lang
            return result
        answer = _SEALED[exercise_id]
    if cluster is None:
        from ..cluster import connect

        cluster = connect()
    variable = params.pop("variable", None)       # the name the learner's answer is in, for the messages
    try:
        facts = ex.observe(cluster, **params)
        if variable:
            facts = dict(facts, variable=variable)
    except NotObserved as why:
        result = failed(why.message(lang))
    else:
        result = ex.judge(facts, answer, lang)
    result.lang = lang
    if result.ok:
        from .reveal import record

        record(exercise_id)
    return result


__all__ = ["Exercise", "NotObserved", "exercise", "check", "predict", "REGISTRY", "Note"]
