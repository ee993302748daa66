"""What the notebook builder checks in a source beyond its syntax, one line per problem (pure).

:mod:`labkit.notebook_build` parses a source into cells; this module reads those cells as a course
author's reviewer would and returns each problem as ``"src/x.py:LINE: what is wrong, what to do"``:

- every exercise's solution is followed by a cell that checks it (``ex.check("02.5", ...)``);
- the French prose follows ``notebooks/GLOSSARY.md``: no word the glossary rules out, and where the
  glossary says "twin", an English cell that uses the term has a French twin that uses the French
  term (one notion, one French word, not two translations).

The glossary rules are the ones ``tests/unit/test_glossary.py`` applies to the course; here they
apply to any source the builder is given, with the line of the word.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

GLOSSARY = Path(__file__).resolve().parents[1] / "notebooks" / "GLOSSARY.md"
FENCED = re.compile(r"```.*?```", re.S)
SPAN = re.compile(r"`[^`]*`")            # a span may wrap to the next line
LINK = re.compile(r"\]\([^)]*\)|https?://\S+")


class SourceCell(Protocol):
    kind: str
    lang: str | None
    lines: list[str]
    solution: str | None
    line: int


@dataclass(frozen=True)
class Term:
    en: list[str]
    fr: list[str]
    twin: bool
    avoid: list[str]


def glossary(text: str) -> list[Term]:
    """The glossary's table rows: English | Français | twin | not in French."""
    terms = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("English", "") or set(cells[0]) <= {"-"}:
            continue
        en = [re.sub(r"\(.*?\)", "", t).strip() for t in cells[0].split(" / ")]
        terms.append(Term(en, [t.strip() for t in cells[1].split(" / ")], cells[2] == "yes",
                          [a.strip() for a in cells[3].split(",") if a.strip()]))
    return terms


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def prose(text: str) -> str:
    """What a reader reads as sentences: code, code spans and URLs blanked, lines kept in place."""
    return LINK.sub(_blank, SPAN.sub(_blank, FENCED.sub(_blank, text)))


def _word(term: str, lang: str) -> re.Pattern[str]:
    plural = r"(?:s|es)?" if lang == "en" else r"(?:s|x)?"
    return re.compile(rf"(?<![\w-]){re.escape(term)}{plural}(?![\w-])", re.I)


def uses(text: str, terms: Sequence[str], lang: str) -> bool:
    return any(_word(t, lang).search(text) for t in terms)


def _markdown_lines(cell: SourceCell) -> tuple[int, str]:
    """The cell's first source line number and its text with the ``# `` prefixes taken off."""
    lines = [l[2:] if l.startswith("# ") else l[1:] if l.startswith("#") else l for l in cell.lines]
    return cell.line + 1, "\n".join(lines)


def glossary_problems(cells: Sequence[SourceCell], source: str, terms: Sequence[Term]) -> Iterator[str]:
    for i, cell in enumerate(cells):
        if cell.kind != "markdown":
            continue
        first, text = _markdown_lines(cell)
        seen = prose(text)
        if cell.lang == "fr":
            for term in terms:
                for word in term.avoid:
                    found = re.search(rf"(?<![\w-]){re.escape(word)}", seen, re.I)
                    if found:
                        line = first + seen.count("\n", 0, found.start())
                        yield (f"{source}:{line}: the French text says « {found.group(0)} »: the glossary's word "
                               f"is « {' / '.join(term.fr)} » (notebooks/GLOSSARY.md)")
        elif cell.lang == "en" and i + 1 < len(cells) and cells[i + 1].lang == "fr":
            fr_first, fr_text = _markdown_lines(cells[i + 1])
            for term in terms:
                if term.twin and uses(seen, term.en, "en") and not uses(prose(fr_text), term.fr, "fr"):
                    yield (f"{source}:{fr_first - 1}: the English cell above says « {term.en[0]} »: this French "
                           f"cell should say « {' / '.join(term.fr)} » (notebooks/GLOSSARY.md: one notion, "
                           f"one French word)")


def check_problems(cells: Sequence[SourceCell], source: str) -> Iterator[str]:
    """Every solution is followed by a code cell that checks its exercise."""
    for i, cell in enumerate(cells):
        if not cell.solution:
            continue
        call = re.compile(rf"""\bcheck\(\s*["']{re.escape(cell.solution)}["']""")
        if not any(c.kind == "code" and call.search("\n".join(c.lines)) for c in cells[i + 1:]):
            yield (f"{source}:{cell.line}: exercise {cell.solution} has no check: add a code cell after its "
                   f"solution with ex.check(\"{cell.solution}\", ...) (docs/AUTHORING.md, \"An exercise\")")


def problems(cells: Sequence[SourceCell], source: str, terms: Sequence[Term] | None = None) -> list[str]:
    """Every problem of a parsed source, in source order."""
    if terms is None:
        terms = glossary(GLOSSARY.read_text(encoding="utf-8")) if GLOSSARY.exists() else []
    found = [*check_problems(cells, source), *glossary_problems(cells, source, terms)]
    return sorted(found, key=lambda p: int(p.split(":")[1]) if p.split(":")[1].isdigit() else 0)


__all__ = ["Term", "glossary", "prose", "uses", "problems", "glossary_problems", "check_problems", "GLOSSARY"]
