"""The bilingual notebook build: one source, two notebooks with the same structure, never stale;
learner notebooks carry no executable solution, the instructor build does."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from labkit.notebook_build import (CATALOG, SourceError, build, build_all, catalog_text, lint, main, parse,
                                   structure)

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
    "# %%\nx = None\n#%% solution 01.1\nx = 2\n",           # a mistyped header: the solution would run
    "# %%\nx = None\n # %% solution 01.1\nx = 2\n",
    "# %% [markdown]\n# Hello\n",                           # prose in no language: in both notebooks
    "# %% en solution 01.1\nx = 2\n",                      # a solution in one language
    "# %% [markdown] en\n# Hello\n# %% [markdown] fr\n\n# %%\nx\n",   # an empty French cell
    "# %% [markdown] en\n# Hello\n# %% [markdown] fr\n#\n",
    "# %% solution 01.1\n\n",                                # an empty solution
])
def test_malformed_sources_are_refused_with_their_line(bad):
    with pytest.raises(SourceError) as info:
        parse(bad, "src/x.py")
    assert re.match(r"src/x\.py:\d+: ", str(info.value)) and "\n" not in str(info.value)


def test_a_mistyped_solution_header_is_refused_at_its_line_instead_of_running():
    with pytest.raises(SourceError, match=r"^src/x\.py:3: '#%% solution 01\.1' is not a cell header"):
        parse("# %%\nx = None\n#%% solution 01.1\nx = 2\n", "src/x.py")


def test_a_missing_french_cell_names_the_header_to_add():
    with pytest.raises(SourceError, match=r"^src/x\.py:1: .*'# %% \[markdown\] fr hint'"):
        parse("# %% [markdown] en hint\n# a\n# %% solution 01.1\nx\n", "src/x.py")
    with pytest.raises(SourceError, match=r"^src/x\.py:4: the French cell is empty"):
        parse("# %% [markdown] en\n# Hello\n\n# %% [markdown] fr\n\n# %%\nx\n", "src/x.py")


EXERCISE = """# %% [markdown] en
# Put the answer in `x`.
# %% [markdown] fr
# Mettez la réponse dans `x`.
# %%
x = None
# %% [markdown] en hint
# Look.
# %% [markdown] fr hint
# Regardez.
# %% solution 01.1
x = 2
"""


def test_an_exercise_without_a_check_is_named_with_its_solution_line():
    assert lint(EXERCISE, "src/x.py") == [
        'src/x.py:11: exercise 01.1 has no check: add a code cell after its solution with ex.check("01.1", ...) '
        '(docs/AUTHORING.md, "An exercise")']
    assert lint(EXERCISE + '# %%\nex.check("01.1", x, cluster)\n', "src/x.py") == []
    assert lint(EXERCISE.replace("# %% solution", '# %%\nex.check("01.1", x)\n# %% solution'), "src/x.py")   # before


def test_a_glossary_term_translated_two_ways_is_named_with_its_line():
    text = ("# %% [markdown] en\n# The live diagram.\n#\n# A node.\n"
            "# %% [markdown] fr\n# Le schéma en direct.\n#\n# Un noeud, et un `diagramme`.\n")
    assert lint(text, "src/x.py") == [
        "src/x.py:5: the English cell above says « node »: this French cell should say « nœud » "
        "(notebooks/GLOSSARY.md: one notion, one French word)",
        "src/x.py:8: the French text says « noeud »: the glossary's word is « nœud » (notebooks/GLOSSARY.md)"]
    assert lint(text.replace("noeud", "nœud"), "src/x.py") == []     # code spans keep their spelling


def test_the_builder_prints_one_line_per_problem_and_writes_nothing(tmp_path, capsys):
    src = tmp_path / "90-draft.py"
    src.write_text(EXERCISE.replace("Regardez.", "Regardez le diagramme."))
    assert main([str(src), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith(f"{src}:") for line in err), err
    assert not (tmp_path / "out").exists()
    src.write_text(EXERCISE + '# %%\nex.check("01.1", x)\n')
    assert main([str(src), "--out", str(tmp_path / "out")]) == 0
    en = nbformat.read(tmp_path / "out" / "en" / "90-draft.ipynb", 4)
    fr = nbformat.read(tmp_path / "out" / "fr" / "90-draft.ipynb", 4)
    assert structure(en) == structure(fr) and "Mettez" in fr.cells[1].source
    assert not [c for c in en.cells if c.cell_type == "code" and "x = 2" in c.source]
    assert main(["--check", str(src)]) == 0 and not capsys.readouterr().err


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
        for lang in ("en", "fr"):
            assert len(entry["hints"][lang]) >= 2, (
                f"exercise {exercise} has {len(entry['hints'][lang])} hint(s) in {lang}: the course gives two per "
                f"language ('# %% [markdown] en hint' then 'fr hint', before its solution)")
        assert entry["code"].strip(), exercise


def test_every_exercise_has_a_registered_check_after_its_solution_and_predictions_come_first():
    from labkit.exercises import registry  # noqa: F401  (fills REGISTRY)
    from labkit.exercises.core import REGISTRY

    entries = json.loads(catalog_text(NOTEBOOKS))
    assert len(entries) >= 20
    unchecked, stale = sorted(set(entries) - set(REGISTRY)), sorted(set(REGISTRY) - set(entries))
    assert not unchecked, (f"exercises with no registered check: {unchecked}: register their observe and judge "
                           "in labkit/exercises/registry.py (docs/AUTHORING.md, \"An exercise\")")
    assert not stale, f"checks registered for no exercise of notebooks/src: {stale} (labkit/exercises/registry.py)"
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
