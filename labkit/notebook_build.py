"""One source per notebook, two notebooks out: ``notebooks/src/NN-name.py`` -> ``en/`` and ``fr/``.

The source is a Python file in the "percent" format (as jupytext reads it), where each cell starts
with a ``# %%`` line:

- ``# %% [markdown] en`` / ``# %% [markdown] fr``: prose in one language (each line starts with
  ``# ``); an English cell is immediately followed by its French counterpart, so both notebooks
  have the same structure;
- ``# %%``: code, shared by both languages (code, identifiers and comments are English);
- ``# %% [markdown] en hint`` / ``fr hint``: a hint of the next exercise, shown collapsed (the first
  one is "Hint 1", the next "Hint 2"...);
- ``# %% solution NN.k``: the solution of exercise ``NN.k`` (nbgrader's "solution region").

Two builds come out of one source. The **learner** notebooks (``notebooks/en``, ``notebooks/fr``,
in git) carry no executable solution: a solution is a collapsed markdown ``<details>`` with the
code to copy, and ``labkit.solution("NN.k")`` prints it. The **instructor** build
(``--instructor``, written to ``notebooks/instructor/``, not in git) keeps each solution as a code
cell, for rehearsal and for the tests. The solutions and hints also go to
``labkit/exercises/solutions.json``, which ``labkit.solution`` reads.

The builder adds a first code cell that sets ``LANG`` and labkit's language, and defines
``tr(en, fr)`` for text a shared code cell prints. It is pure (text in,
notebooks out) so a test can rebuild everything in memory and compare with the files in git.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

LANGS = ("en", "fr")
HEADER = re.compile(r"^# %%(?:\s+\[(markdown|md)\])?\s*(.*?)\s*$")
NEAR_HEADER = re.compile(r"^\s*#\s*%%")          # '#%%', ' # %%', '# %%%': not read as a header
EXERCISE_ID = re.compile(r"^\d\d\.\d+$")
ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "labkit" / "exercises" / "solutions.json"

LABELS = {
    "hint": {"en": "Hint {n}", "fr": "Indice {n}"},
    "solution": {"en": "Solution of exercise {id}", "fr": "Solution de l'exercice {id}"},
    "copy": {"en": "Copy it into the empty cell above and run it, or run `labkit.solution(\"{id}\")` "
                   "in a new cell to print it.",
             "fr": "Copiez-la dans la cellule vide au-dessus et exécutez-la, ou lancez "
                   "`labkit.solution(\"{id}\")` dans une nouvelle cellule pour l'afficher."},
    # a draft built outside notebooks/src: labkit.solution() does not know its exercises
    "copy_draft": {"en": "Copy it into the empty cell above and run it.",
                   "fr": "Copiez-la dans la cellule vide au-dessus et exécutez-la."},
}


class SourceError(ValueError):
    pass


@dataclass
class Cell:
    kind: str                 # "markdown" or "code"
    lang: str | None          # "en", "fr", or None (both)
    lines: list[str] = field(default_factory=list)
    solution: str | None = None   # the exercise id of a solution cell
    hint: bool = False
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
        match = HEADER.match(line) if re.match(r"# %%(\s|$)", line) else None
        if match is None and NEAR_HEADER.match(line):
            raise SourceError(f"{source}:{number}: {line.strip()!r} is not a cell header: write '# %%' then a "
                              "space (a line the builder does not read as a header joins the cell above, "
                              "where a solution would run)")
        if match:
            kind = "markdown" if match.group(1) else "code"
            words = match.group(2).split()
            lang = next((w for w in words if w in LANGS), None)
            ids = [w for w in words if EXERCISE_ID.match(w)]
            unknown = [w for w in words if w not in LANGS + ("solution", "hint") and w not in ids]
            if unknown:
                raise SourceError(f"{source}:{number}: unknown cell option {unknown[0]!r}")
            solution = None
            if "solution" in words:
                if kind != "code" or len(ids) != 1:
                    raise SourceError(f"{source}:{number}: a solution is a code cell with one exercise id "
                                      "('# %% solution 02.5')")
                solution = ids[0]
            elif ids:
                raise SourceError(f"{source}:{number}: an exercise id only goes with 'solution'")
            if "hint" in words and (kind != "markdown" or lang is None):
                raise SourceError(f"{source}:{number}: a hint is a markdown cell in one language")
            if kind == "markdown" and lang is None:
                raise SourceError(f"{source}:{number}: a markdown cell says its language: '# %% [markdown] en', "
                                  "then its French text in '# %% [markdown] fr'")
            if solution and lang is not None:
                raise SourceError(f"{source}:{number}: a solution is shared by both languages: "
                                  f"'# %% solution {solution}', without '{lang}'")
            current = Cell(kind, lang, solution=solution, hint="hint" in words, line=number)
            cells.append(current)
        elif current is None:
            if line.strip():
                raise SourceError(f"{source}:{number}: text before the first '# %%' cell")
        else:
            current.lines.append(line)
    _check_pairs(cells, source)
    _check_solutions(cells, source)
    _check_text(cells, source)
    return cells


def _check_text(cells: list[Cell], source: str) -> None:
    """No prose cell, hint or solution is empty (an empty French cell is a missing translation)."""
    names = {"en": "English", "fr": "French"}
    for cell in cells:
        if (cell.lang or cell.solution) and not cell.text.strip():
            what = f"solution of {cell.solution}" if cell.solution else f"{names[cell.lang or 'en']} cell"
            raise SourceError(f"{source}:{cell.line}: the {what} is empty: write its text under the header")


def _check_pairs(cells: list[Cell], source: str) -> None:
    """Each English prose cell is followed by its French one (and no French cell stands alone)."""
    i = 0
    while i < len(cells):
        cell = cells[i]
        if cell.lang == "en":
            if (i + 1 >= len(cells) or cells[i + 1].lang != "fr" or cells[i + 1].kind != cell.kind
                    or cells[i + 1].hint != cell.hint):
                form = "# %% fr" if cell.kind == "code" else "# %% [markdown] fr" + (" hint" if cell.hint else "")
                raise SourceError(f"{source}:{cell.line}: English cell without its French text: put a "
                                  f"'{form}' cell right after it")
            i += 2
            continue
        if cell.lang == "fr":
            raise SourceError(f"{source}:{cell.line}: French cell without the English cell right before it")
        i += 1


def _check_solutions(cells: list[Cell], source: str) -> None:
    """Exercise ids are unique, and hints lead to a solution."""
    seen, pending_hint = set(), None
    for cell in cells:
        if cell.solution:
            if cell.solution in seen:
                raise SourceError(f"{source}:{cell.line}: exercise {cell.solution} has two solutions")
            seen.add(cell.solution)
            pending_hint = None
        elif cell.hint and pending_hint is None:
            pending_hint = cell
    if pending_hint is not None:
        raise SourceError(f"{source}:{pending_hint.line}: a hint with no solution after it: hints come before "
                          "their exercise's '# %% solution NN.k' cell")


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary><b>{summary}</b></summary>\n\n{body}\n\n</details>"


def solution_markdown(code: str, exercise: str, lang: str, in_course: bool = True) -> str:
    """The learner's view of a solution: collapsed, to copy, never run by itself."""
    body = f"```python\n{code}\n```\n\n" + LABELS["copy" if in_course else "copy_draft"][lang].format(id=exercise)
    return _details(LABELS["solution"][lang].format(id=exercise), body)


def build(text: str, lang: str, source: str = "<source>", instructor: bool = False,
          in_course: bool = True) -> nbformat.NotebookNode:
    """One language's notebook. ``in_course=False``: a draft outside ``notebooks/src``, whose
    solutions are not in ``labkit.solution``'s catalog (their cells do not point to it)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}, "labkit": {"lang": lang, "source": source}}
    if instructor:
        nb.metadata["labkit"]["instructor"] = True
    setup = nbformat.v4.new_code_cell(
        f'LANG = "{lang}"\nimport os\nimport labkit\nlabkit.set_language(LANG)\n'
        'os.environ["LABKIT_LANG"] = LANG      # `!labkit ...` in a cell speaks it too\n\n\n'
        'def tr(en, fr):\n    """Printed text in the notebook\'s language."""\n    return fr if LANG == "fr" else en')
    setup.metadata = {"tags": ["setup"], "jupyter": {"source_hidden": True}}
    nb.cells.append(setup)
    hints = 0
    for cell in parse(text, source):
        if cell.lang not in (None, lang):
            continue
        if cell.hint:
            hints += 1
            md = nbformat.v4.new_markdown_cell(_details(LABELS["hint"][lang].format(n=hints), cell.text))
            md.metadata = {"tags": ["hint"]}
            nb.cells.append(md)
        elif cell.kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.text))
        elif cell.solution and not instructor:
            hints = 0
            md = nbformat.v4.new_markdown_cell(solution_markdown(cell.text, cell.solution, lang, in_course))
            md.metadata = {"tags": ["solution"], "labkit": {"exercise": cell.solution}}
            nb.cells.append(md)
        else:
            code = nbformat.v4.new_code_cell(cell.text)
            if cell.solution:
                hints = 0
                code.metadata = {"tags": ["solution"], "labkit": {"exercise": cell.solution}}
            nb.cells.append(code)
    for index, c in enumerate(nb.cells):     # stable ids: rebuilding gives the same bytes
        c["id"] = f"{lang}-{index:03d}"
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    text = nbformat.writes(nb)
    return text + ("" if text.endswith("\n") else "\n")


def catalog(root: Path) -> dict:
    """Every exercise's solution and hints, in both languages: what ``labkit.solution`` prints."""
    out: dict = {}
    for src in sorted((root / "src").glob("*.py")):
        hints: dict[str, list[str]] = {lang: [] for lang in LANGS}
        for cell in parse(src.read_text(), f"src/{src.name}"):
            if cell.hint:
                hints[cell.lang].append(cell.text)
            elif cell.solution:
                out[cell.solution] = {"notebook": src.stem, "code": cell.text, "hints": hints}
                hints = {lang: [] for lang in LANGS}
    return out


def catalog_text(root: Path) -> str:
    return json.dumps(catalog(root), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def build_all(root: Path, instructor: bool = False) -> dict[Path, str]:
    """Every generated notebook path and its content: ``root/<lang>/`` (learner) or
    ``root/instructor/<lang>/``."""
    out = {}
    base = root / "instructor" if instructor else root
    for src in sorted((root / "src").glob("*.py")):
        text = src.read_text()
        for lang in LANGS:
            out[base / lang / f"{src.stem}.ipynb"] = dumps(build(text, lang, f"src/{src.name}", instructor))
    return out


def structure(nb: nbformat.NotebookNode) -> list[tuple[str, tuple[str, ...]]]:
    """Cell kinds and tags, in order: what must be the same in both languages."""
    return [(c.cell_type, tuple(c.metadata.get("tags", []))) for c in nb.cells]


def lint(text: str, source: str) -> list[str]:
    """Every problem of one source, one line each (``src/x.py:LINE: ...``); empty when it builds."""
    from .notebook_lint import problems

    try:
        cells = parse(text, source)
    except SourceError as error:
        return [str(error)]
    return problems(cells, source)


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != content:
        path.write_text(content)
        print(f"wrote {_shown(path)}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """``make notebooks``: every source of ``notebooks/src`` (and the solutions catalog); with
    files: those sources only, to ``--out DIR/en|fr`` (a draft, outside the course). A source
    with a problem stops the build before anything is written: one line per problem, exit 1."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m labkit.notebook_build",
                                     description="Build the EN and FR notebooks from their sources.")
    parser.add_argument("sources", nargs="*", type=Path, help="sources to build (default: notebooks/src/*.py)")
    parser.add_argument("--instructor", action="store_true", help="keep each solution as a code cell")
    parser.add_argument("--out", type=Path, help="where SOURCES' notebooks go (DIR/en, DIR/fr)")
    parser.add_argument("--check", action="store_true", help="only check the sources, write nothing")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    root = ROOT / "notebooks"
    sources = args.sources or sorted((root / "src").glob("*.py"))
    if args.sources and not args.out and not args.check:
        parser.error("give --out DIR for the notebooks of these sources (notebooks/ is built from notebooks/src)")
    found = []
    for src in sources:
        if not src.is_file():
            found.append(f"{src}: no such source file")
            continue
        name = f"src/{src.name}" if not args.sources else str(src)
        found.extend(lint(src.read_text(encoding="utf-8"), name))
    for problem in found:
        print(problem, file=sys.stderr)
    if found or args.check:
        return 1 if found else 0
    if not args.sources:
        for path, content in build_all(root, instructor=args.instructor).items():
            _write(path, content)
        _write(CATALOG, catalog_text(root))
        return 0
    base = args.out / "instructor" if args.instructor else args.out
    for src in sources:
        text = src.read_text(encoding="utf-8")
        for lang in LANGS:
            _write(base / lang / f"{src.stem}.ipynb", dumps(build(text, lang, str(src), args.instructor, in_course=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
