"""The shape of the course, read from the sources (pure: no lab).

- Every notebook opens with its goals and their duration, and ends with a visible recap (before the
  progress cell, after the last exercise), the same in both languages.
- Every slide's lab box matches the notebook it points to: the objects it names (``nb03/web``) are
  created by that notebook, the numbers it quotes (replicas, requests) are the notebook's, and the
  labkit calls and command-line flags it names appear in it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from labkit.notebook_build import build

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "notebooks" / "src"
NAMES = sorted(p.stem for p in SRC.glob("*.py"))
LANGS = ("en", "fr")
GOALS = {"en": re.compile(r"\*\*Goals\*\* \(about (\d+) minutes\):"),
         "fr": re.compile(r"\*\*Objectifs\*\* \(environ (\d+) minutes\) :")}
RECAP = {"en": "## Recap", "fr": "## Récapitulatif"}
BOX = re.compile(r"\.lab\[\n(.*?)\n\]\n", re.S)
NOTEBOOK = re.compile(r"notebooks/(en|fr)/([\w-]+)\.ipynb")
OBJECT = re.compile(r"`(nb\d\d[\w-]*)/([a-z0-9][\w.-]*?)(?::\d+)?`")
COUNT = {"replicas": "--replicas={n}", "réplicas": "--replicas={n}", "requests": "seq {n}", "requêtes": "seq {n}"}
QUOTED_COUNT = re.compile(r"\b(\d+) (replicas|réplicas|requests|requêtes)\b")
CALL = re.compile(r"labkit\.\w+")
FLAG = re.compile(r"`[^`]*?(--[a-z][\w-]*(?:[ =][\w.-]+)?)[^`]*`")


def notebook(name: str, lang: str):
    return build((SRC / f"{name}.py").read_text(), lang, f"src/{name}.py", instructor=True)


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def _all_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


@pytest.mark.parametrize("name", NAMES)
def test_every_notebook_states_its_goals_and_duration_first(name):
    minutes = {}
    for lang in LANGS:
        first = next(c for c in notebook(name, lang).cells if c.cell_type == "markdown")
        found = GOALS[lang].search(first.source)
        assert found, f"{name} ({lang}): the first cell must state the goals and their duration"
        items = re.findall(r"^\d\. ", first.source[found.end():], flags=re.M)
        assert len(items) >= 2, f"{name} ({lang}): the goals are a numbered list"
        minutes[lang] = found.group(1)
    assert minutes["en"] == minutes["fr"], name


@pytest.mark.parametrize("name", NAMES)
def test_every_notebook_ends_with_a_visible_recap(name):
    for lang in LANGS:
        cells = notebook(name, lang).cells
        recaps = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(RECAP[lang])]
        assert len(recaps) == 1, f"{name} ({lang}): one '{RECAP[lang]}' section"
        recap = recaps[0]
        checks = [i for i, c in enumerate(cells) if c.cell_type == "code" and "ex.check(" in c.source]
        progress = [i for i, c in enumerate(cells) if c.cell_type == "code" and c.source.strip() == "labkit.progress()"]
        assert progress and recap < progress[-1], f"{name} ({lang}): the recap comes before the progress cell"
        assert not checks or recap > checks[-1], f"{name} ({lang}): the recap comes after the last exercise"
        listed = cells[recap].source.count("\n- ") >= 2 or cells[recap].source.count("\n| ") >= 3   # a list or a table
        assert listed, f"{name} ({lang}): the recap lists what we saw"


def _boxes():
    for lang in LANGS:
        for md in sorted((ROOT / "slides" / lang).glob("*.md")):
            for box in BOX.findall(md.read_text()):
                found = NOTEBOOK.search(box)
                assert found, f"{md.name}: a lab box names its notebook"
                yield lang, md.name, found.group(2), box


BOXES = list(_boxes())


def test_there_is_one_lab_box_per_notebook_and_language():
    assert sorted((lang, name) for lang, _, name, _ in BOXES) == sorted((lang, n) for lang in LANGS for n in NAMES)


def _creates(code: str, namespace: str, name: str) -> bool:
    """The notebook's code names the object: ``ns/name``, a kubectl line with ``-n ns`` and the name,
    or a manifest with both."""
    if f"{namespace}/{name}" in code:
        return True
    word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    for line in code.splitlines():
        if namespace in line and word.search(line):
            return True
    return bool(re.search(rf"name: {re.escape(name)}, namespace: {re.escape(namespace)}\b", code))


@pytest.mark.parametrize("lang,chapter,name,box", BOXES, ids=[f"{b[0]}-{b[2]}" for b in BOXES])
def test_a_lab_box_names_only_what_its_notebook_does(lang, chapter, name, box):
    nb = notebook(name, lang)
    code, text = _code(nb), _all_text(nb)
    for namespace, obj in OBJECT.findall(box):
        assert _creates(code, namespace, obj), f"{chapter}: {namespace}/{obj} is not in {name}"
    for n, word in QUOTED_COUNT.findall(box):
        assert COUNT[word].format(n=n) in code, f"{chapter}: '{n} {word}' is not what {name} does"
    for call in CALL.findall(box):
        assert call in text, f"{chapter}: {call} is not used in {name}"
    for flag in FLAG.findall(box):
        assert flag in text, f"{chapter}: {flag} does not appear in {name}"


def test_the_lab_box_check_catches_an_object_the_notebook_does_not_create():
    code = _code(notebook("03-pod-to-service", "en"))
    assert _creates(code, "nb03", "web") and _creates(code, "nb03", "client")
    assert not _creates(code, "demo", "blue") and not _creates(code, "nb03", "blue")
    assert "--replicas=4" not in code and "seq 300" not in code       # what the old lab box said
