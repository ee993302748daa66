"""The bilingual notebook build: one source, two notebooks with the same structure, never stale;
learner notebooks carry no executable solution, the instructor build does."""
import json
from pathlib import Path

import nbformat
import pytest

from labkit.notebook_build import CATALOG, SourceError, build, build_all, catalog_text, parse, structure

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

SOURCE = """# %% [markdown] en
# # Hello
# %% [markdown] fr
# # Bonjour
# %%
x = 1
# %% [markdown] en
# Now you.
# %% [markdown] fr
# À vous.
# %% en
answer = None  # your answer
# %% fr
answer = None  # votre réponse
# %% [markdown] en hint
# Look at x.
# %% [markdown] fr hint
# Regardez x.
# %% [markdown] en hint
# x is 1.
# %% [markdown] fr hint
# x vaut 1.
# %% solution 01.1
x = 2
"""


def test_each_language_keeps_its_prose_and_shares_the_code():
    en, fr = build(SOURCE, "en"), build(SOURCE, "fr")
    assert [c.source for c in en.cells if c.cell_type == "markdown"][:2] == ["# Hello", "Now you."]
    assert [c.source for c in fr.cells if c.cell_type == "markdown"][:2] == ["# Bonjour", "À vous."]
    assert [c.source for c in en.cells[1:] if c.cell_type == "code"] == ["x = 1", "answer = None  # your answer"]
    assert [c.source for c in fr.cells[1:] if c.cell_type == "code"][1] == "answer = None  # votre réponse"
    assert structure(en) == structure(fr)
    assert 'LANG = "fr"' in fr.cells[0].source


def test_learner_notebook_reveals_hints_then_the_solution_and_runs_none():
    en, fr = build(SOURCE, "en"), build(SOURCE, "fr")
    hints = [c.source for c in fr.cells if "hint" in c.metadata.get("tags", [])]
    assert len(hints) == 2 and "Indice 1" in hints[0] and "Regardez x." in hints[0] and "Indice 2" in hints[1]
    solution = en.cells[-1]
    assert solution.cell_type == "markdown" and solution.metadata["tags"] == ["solution"]
    assert "<details>" in solution.source and "x = 2" in solution.source
    assert 'labkit.solution("01.1")' in solution.source
    assert "Solution de l'exercice 01.1" in fr.cells[-1].source
    assert not [c for c in en.cells if c.cell_type == "code" and "x = 2" in c.source]


def test_instructor_build_keeps_the_solution_as_code():
    nb = build(SOURCE, "en", instructor=True)
    solution = nb.cells[-1]
    assert solution.cell_type == "code" and solution.source == "x = 2"
    assert solution.metadata["labkit"]["exercise"] == "01.1" and nb.metadata["labkit"]["instructor"]


@pytest.mark.parametrize("bad", [
    "# %% [markdown] en\n# Hello\n# %%\nx = 1\n",           # English prose without French
    "# %% [markdown] fr\n# Bonjour\n",                      # French alone
    "stray\n# %%\nx = 1\n",                                 # text before the first cell
    "# %% [markdown] de\n# Hallo\n",                        # unknown option
    "# %% solution\nx = 1\n",                               # a solution without its exercise id
    "# %% solution 01.1\nx = 1\n# %% solution 01.1\nx = 2\n",   # the same exercise twice
    "# %% [markdown] en hint\n# a\n# %% [markdown] fr hint\n# b\n",   # a hint with no solution
    "# %% [markdown] en hint\n# a\n# %% [markdown] fr\n# b\n# %% solution 01.1\nx\n",   # hint paired with prose
])
def test_malformed_sources_are_refused_with_their_line(bad):
    with pytest.raises(SourceError) as info:
        parse(bad, "src/x.py")
    assert "src/x.py:" in str(info.value)


def test_generated_notebooks_are_fresh_and_match_across_languages():
    generated = build_all(NOTEBOOKS)
    for path, content in generated.items():
        assert path.exists(), f"{path} missing: run `make notebooks`"
        assert path.read_text() == content, f"{path} is stale: run `make notebooks`"
    for src in (NOTEBOOKS / "src").glob("*.py"):
        en = nbformat.reads(generated[NOTEBOOKS / "en" / f"{src.stem}.ipynb"], 4)
        fr = nbformat.reads(generated[NOTEBOOKS / "fr" / f"{src.stem}.ipynb"], 4)
        assert structure(en) == structure(fr)
        nbformat.validate(en)
        assert not [c for c in en.cells + fr.cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]
    extra = {p for lang in ("en", "fr") for p in (NOTEBOOKS / lang).glob("*.ipynb")} - set(generated)
    assert not extra, f"notebooks without a source: {extra}"
    assert CATALOG.read_text() == catalog_text(NOTEBOOKS), "labkit/exercises/solutions.json is stale: run `make notebooks`"


def test_every_exercise_has_two_hints_in_each_language_before_its_solution():
    entries = json.loads(catalog_text(NOTEBOOKS))
    assert len(entries) >= 13
    for exercise, entry in entries.items():
        assert len(entry["hints"]["en"]) >= 2 and len(entry["hints"]["fr"]) >= 2, exercise
        assert entry["code"].strip(), exercise


def test_every_exercise_has_a_registered_check_after_its_solution_and_predictions_come_first():
    from labkit.exercises import registry  # noqa: F401  (fills REGISTRY)
    from labkit.exercises.core import REGISTRY

    entries = json.loads(catalog_text(NOTEBOOKS))
    assert len(entries) >= 20 and set(entries) == set(REGISTRY)
    by_notebook = {}
    for exercise, entry in entries.items():
        by_notebook.setdefault(entry["notebook"], []).append(exercise)
    assert set(by_notebook) == {p.stem for p in (NOTEBOOKS / "src").glob("*.py")}
    for stem, exercises in by_notebook.items():
        text = (NOTEBOOKS / "src" / f"{stem}.py").read_text()
        for exercise in exercises:
            solution, check = text.index(f"# %% solution {exercise}\n"), text.index(f'ex.check("{exercise}"')
            assert solution < check, exercise
            if REGISTRY[exercise].prediction:
                assert solution < text.index(f'ex.predict("{exercise}"') < check, exercise
