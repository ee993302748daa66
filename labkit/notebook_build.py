"""One source per notebook, two notebooks out: ``notebooks/src/NN-name.py`` -> ``en/`` and ``fr/``.

The source is a Python file in the "percent" format (as jupytext reads it), where each cell starts
with a ``# %%`` line:

- ``# %% [markdown] en`` / ``# %% [markdown] fr``: prose in one language (each line starts with
  ``# ``); an English cell is immediately followed by its French counterpart, so both notebooks
  have the same structure;
- ``# %%``: code, shared by both languages (code, identifiers and comments are English);
- ``# %% solution``: the solution of an exercise, shipped hidden (collapsed, tagged ``solution``).

The builder adds a first code cell that sets ``LANG`` and labkit's language. It is pure (text in,
notebooks out) so a test can rebuild everything in memory and compare with the files in git.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

LANGS = ("en", "fr")
HEADER = re.compile(r"^# %%(?:\s+\[(markdown|md)\])?\s*(.*?)\s*$")


class SourceError(ValueError):
    pass


@dataclass
class Cell:
    kind: str                 # "markdown" or "code"
    lang: str | None          # "en", "fr", or None (both)
    lines: list[str] = field(default_factory=list)
    solution: bool = False
    line: int = 0

    @property
    def text(self) -> str:
        lines = list(self.lines)
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if self.kind == "markdown":
            lines = [l[2:] if l.startswith("# ") else l[1:] if l.startswith("#") else l for l in lines]
        return "\n".join(lines)


def parse(text: str, source: str = "<source>") -> list[Cell]:
    cells: list[Cell] = []
    current: Cell | None = None
    for number, line in enumerate(text.splitlines(), 1):
        match = HEADER.match(line)
        if match:
            kind = "markdown" if match.group(1) else "code"
            words = match.group(2).split()
            lang = next((w for w in words if w in LANGS), None)
            unknown = [w for w in words if w not in LANGS + ("solution",)]
            if unknown:
                raise SourceError(f"{source}:{number}: unknown cell option {unknown[0]!r}")
            current = Cell(kind, lang, solution="solution" in words, line=number)
            cells.append(current)
        elif current is None:
            if line.strip():
                raise SourceError(f"{source}:{number}: text before the first '# %%' cell")
        else:
            current.lines.append(line)
    _check_pairs(cells, source)
    return cells


def _check_pairs(cells: list[Cell], source: str) -> None:
    """Each English prose cell is followed by its French one (and no French cell stands alone)."""
    i = 0
    while i < len(cells):
        cell = cells[i]
        if cell.lang == "en":
            if i + 1 >= len(cells) or cells[i + 1].lang != "fr" or cells[i + 1].kind != cell.kind:
                raise SourceError(f"{source}:{cell.line}: English cell without the French cell after it")
            i += 2
            continue
        if cell.lang == "fr":
            raise SourceError(f"{source}:{cell.line}: French cell without the English cell before it")
        i += 1


def build(text: str, lang: str, source: str = "<source>") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}, "labkit": {"lang": lang, "source": source}}
    setup = nbformat.v4.new_code_cell(f'LANG = "{lang}"\nimport labkit\nlabkit.set_language(LANG)')
    setup.metadata = {"tags": ["setup"], "jupyter": {"source_hidden": True}}
    nb.cells.append(setup)
    for cell in parse(text, source):
        if cell.lang not in (None, lang):
            continue
        if cell.kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.text))
        else:
            code = nbformat.v4.new_code_cell(cell.text)
            if cell.solution:
                code.metadata = {"tags": ["solution"], "jupyter": {"source_hidden": True}}
            nb.cells.append(code)
    for index, c in enumerate(nb.cells):     # stable ids: rebuilding gives the same bytes
        c["id"] = f"{lang}-{index:03d}"
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + ("" if nbformat.writes(nb).endswith("\n") else "\n")


def build_all(root: Path) -> dict[Path, str]:
    """Every generated notebook path (under ``root``) and its content."""
    out = {}
    for src in sorted((root / "src").glob("*.py")):
        text = src.read_text()
        for lang in LANGS:
            out[root / lang / f"{src.stem}.ipynb"] = dumps(build(text, lang, f"src/{src.name}"))
    return out


def structure(nb: nbformat.NotebookNode) -> list[tuple[str, tuple[str, ...]]]:
    """Cell kinds and tags, in order: what must be the same in both languages."""
    return [(c.cell_type, tuple(c.metadata.get("tags", []))) for c in nb.cells]


def main() -> None:
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for path, content in build_all(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            print(f"wrote {path.relative_to(root.parent)}")


if __name__ == "__main__":
    main()
