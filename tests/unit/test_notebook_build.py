"""The bilingual notebook build: one source, two notebooks with the same structure, never stale."""
from pathlib import Path

import nbformat
import pytest

from labkit.notebook_build import SourceError, build, build_all, parse, structure

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
# %% solution
x = 2
"""


def test_each_language_keeps_its_prose_and_shares_the_code():
    en, fr = build(SOURCE, "en"), build(SOURCE, "fr")
    assert [c.source for c in en.cells if c.cell_type == "markdown"] == ["# Hello", "Now you."]
    assert [c.source for c in fr.cells if c.cell_type == "markdown"] == ["# Bonjour", "À vous."]
    assert [c.source for c in en.cells[1:] if c.cell_type == "code"] == ["x = 1", "x = 2"]
    assert structure(en) == structure(fr)
    assert 'LANG = "fr"' in fr.cells[0].source
    solution = en.cells[-1]
    assert solution.metadata["tags"] == ["solution"] and solution.metadata["jupyter"]["source_hidden"]


@pytest.mark.parametrize("bad", [
    "# %% [markdown] en\n# Hello\n# %%\nx = 1\n",           # English prose without French
    "# %% [markdown] fr\n# Bonjour\n",                      # French alone
    "stray\n# %%\nx = 1\n",                                 # text before the first cell
    "# %% [markdown] de\n# Hallo\n",                        # unknown option
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
    extra = {p for lang in ("en", "fr") for p in (NOTEBOOKS / lang).glob("*.ipynb")} - set(generated)
    assert not extra, f"notebooks without a source: {extra}"
