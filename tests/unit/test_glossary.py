"""The glossary (``notebooks/GLOSSARY.md``) holds in the French notebooks and slides (pure: no lab).

- No French prose uses a word the glossary rules out (« diagramme », « saveur », « emballe »…).
- Where the glossary says "twin", an English notebook cell that uses the term has a French twin
  that uses the French term (the same notion, one word).
- labkit's French messages (every ``MESSAGES`` table: checks, proofs, diagrams) follow the same table.
- French prose writes numbers the French way: ``0,1 s``, not ``0.1 s``; ``1 000 Services``; English
  prose the English way: ``1,000``, not ``1 000``; ``17.1 s``, not ``17,1 s``.
Code (fenced blocks, inline code spans, message placeholders) keeps its spelling and is left out.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from labkit import i18n
from labkit.notebook_build import parse
from labkit.notebook_lint import glossary, prose, uses  # the builder's own reading of the glossary

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "notebooks" / "GLOSSARY.md"
EN_DECIMAL = re.compile(r"(?<![\w.,])\d+\.\d+\s?(?:s|ms|µs|%|Go|Mo|Gio|Mio)(?!\w)")
EN_THOUSANDS = re.compile(r"(?<![\w.,])\d{1,3},\d{3}(?!\d)(?=\s+(?:Services|pods|nœuds|règles|requêtes|connexions|lignes))"
                          r"|(?<=\| )\d{1,3},\d{3}(?= \|)")                  # a table cell: | 1,000 |
FR_THOUSANDS = re.compile(r"(?<![\w.,])\d{1,3}[ \u00a0\u202f]\d{3}(?![\d,.])")   # 1 000 in English prose
FR_DECIMAL = re.compile(r"(?<![\w.,])\d+,\d+\s?(?:s|ms|µs|%|GB|MB|GiB|MiB)(?!\w)")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def avoided(text: str, words: list[str]) -> list[str]:
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}", text, re.I)]


TERMS = glossary(GLOSSARY.read_text())
NOTEBOOKS = sorted((ROOT / "notebooks" / "src").glob("*.py"))
SLIDES = sorted((ROOT / "slides" / "fr").glob("*.md"))


def french_texts():
    """(where, prose) of every French notebook cell and every French slide chapter."""
    for src in NOTEBOOKS:
        for cell in parse(src.read_text(), src.name):
            if cell.lang == "fr" and cell.kind == "markdown":
                yield f"{src.name}:{cell.line}", prose(cell.text)
    for md in SLIDES:
        text = "\n".join(line for line in md.read_text().splitlines() if not line.startswith((":EN:", ":FR:")))
        yield f"slides/fr/{md.name}", prose(text)


def english_texts():
    """(where, prose) of every English notebook cell and every English slide chapter."""
    for src in NOTEBOOKS:
        for cell in parse(src.read_text(), src.name):
            if cell.lang == "en" and cell.kind == "markdown":
                yield f"{src.name}:{cell.line}", prose(cell.text)
    for md in sorted((ROOT / "slides" / "en").glob("*.md")):
        text = "\n".join(line for line in md.read_text().splitlines() if not line.startswith((":EN:", ":FR:")))
        yield f"slides/en/{md.name}", prose(text)


def french_messages():
    """(where, prose) of every French message of labkit's catalog, placeholders left out."""
    for rel, table in i18n.tables():
        for key, texts in table.items():
            yield f"labkit/{rel}:{key}", PLACEHOLDER.sub(" ", prose(texts["fr"]))


def twins():
    """(where, English prose, French prose) of every pair of prose cells of the notebooks."""
    for src in NOTEBOOKS:
        cells = parse(src.read_text(), src.name)
        for en, fr in zip(cells, cells[1:]):
            if en.lang == "en" and fr.lang == "fr" and en.kind == "markdown":
                yield f"{src.name}:{en.line}", prose(en.text), prose(fr.text)


def test_the_glossary_is_read():
    assert len(TERMS) >= 20 and any(t.fr == ["schéma"] and "diagramme" in t.avoid for t in TERMS)
    assert sum(t.twin for t in TERMS) >= 8


def test_french_prose_uses_no_word_the_glossary_rules_out():
    found = [f"{where}: « {w} » ({'/'.join(t.fr)})" for where, text in french_texts()
             for t in TERMS for w in avoided(text, t.avoid)]
    assert not found, "\n".join(found)


def test_labkit_french_messages_use_no_word_the_glossary_rules_out():
    found = [f"{where}: « {w} » ({'/'.join(t.fr)})" for where, text in french_messages()
             for t in TERMS for w in avoided(text, t.avoid)]
    assert not found, "\n".join(found)


def test_a_term_in_an_english_cell_has_its_french_term_in_the_twin():
    missing = [f"{where}: {t.en[0]} -> {'/'.join(t.fr)}" for where, en, fr in twins()
               for t in TERMS if t.twin and uses(en, t.en, "en") and not uses(fr, t.fr, "fr")]
    assert not missing, "\n".join(missing)


def test_french_prose_writes_numbers_the_french_way():
    found = [f"{where}: {m.group(0)!r}" for where, text in french_texts()
             for m in [*EN_DECIMAL.finditer(text), *EN_THOUSANDS.finditer(text)]]
    assert not found, "\n".join(found)


def test_english_prose_writes_numbers_the_english_way():
    found = [f"{where}: {m.group(0)!r}" for where, text in english_texts()
             for m in [*FR_THOUSANDS.finditer(text), *FR_DECIMAL.finditer(text)]]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text,bad", [("Le diagramme en direct", ["diagramme"]), ("une saveur de CNI", ["saveur"]),
                                      ("le `--cni bridge` et un pont", []),
                                      ("le client atteint le serveur", ["atteint"]),
                                      ("aucun pod ne l'atteignait", ["atteignait"]),
                                      ("le client joint le serveur", [])])
def test_the_checks_catch_what_they_should(text, bad):
    words = [w for t in TERMS for w in t.avoid]
    assert avoided(prose(text), words) == bad
    assert EN_DECIMAL.search("en 17.1 s") and not EN_DECIMAL.search("en 17,1 s et Kubernetes 1.31")
    assert EN_THOUSANDS.search("1,000 Services") and not EN_THOUSANDS.search("0,25, 0,333 et 0,5")
    assert EN_THOUSANDS.search("| 1,000 | 503 ms |")
    assert FR_THOUSANDS.search("| 1 000 | 503 ms |") and FR_THOUSANDS.search("up to 30 000 Services")
    assert not FR_THOUSANDS.search("kubenet 1 000000") and not FR_THOUSANDS.search("ports 80, 443")
    assert FR_DECIMAL.search("| 17,1 s |") and not FR_DECIMAL.search("ports 80,443 and 8080")
    assert uses("three nodes", ["node"], "en") and not uses("a nodeName", ["node"], "en")
