"""One message catalog for English and French.

Every user-facing string (errors, CLI output, diagram labels) is looked up here by key so that
`set_language("fr")` switches the whole library at once. Each module keeps its messages next to
the code that uses them, as a module-level literal ``MESSAGES = {key: {"en": ..., "fr": ...}}``;
nothing registers anything at import. On first use the catalog reads every ``MESSAGES`` table of
the labkit package from the source (``ast.literal_eval``: no module is imported, so looking up a
message never pulls in the Kubernetes client, a widget or a subprocess), refusing a key defined
twice and a message without both languages.
"""
from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

LANGUAGES = ("en", "fr")
PACKAGE = Path(__file__).resolve().parent
TABLE = "MESSAGES"

_catalog: dict[str, dict[str, str]] = {}
_sources: dict[str, str] = {}           # key -> the file (relative to labkit/) that defines it
_loaded = False
_language = "en"


def _language_from_env() -> str:
    for var in ("LABKIT_LANG", "LANGUAGE", "LC_ALL", "LANG"):
        value = os.environ.get(var, "")
        if value.lower().startswith("fr"):
            return "fr"
        if value.lower().startswith("en"):
            return "en"
    return "en"


_language = _language_from_env()


# A top-level ``MESSAGES = {`` (or ``MESSAGES: ... = {``) and the next top-level statement.
_TABLE_START = re.compile(rf"^{TABLE}\s*(?::[^=\n]*)?=", re.M)
_NEXT_STATEMENT = re.compile(r"^[^\s}\])#]", re.M)


def _statements(text: str, path: Path, fast: bool) -> list[ast.stmt]:
    """The module's top-level statements that may assign ``MESSAGES``. ``fast``: parse only each
    table's own lines (parsing all 60 modules costs 0.2 s of CPU, every ``labkit`` command pays
    it); a chunk that does not parse alone falls back to the whole file."""
    if fast:
        found: list[ast.stmt] = []
        for start in _TABLE_START.finditer(text):
            end = _NEXT_STATEMENT.search(text, start.end())
            chunk = text[start.start():end.start() if end else len(text)]
            try:
                body = ast.parse(chunk).body
            except SyntaxError:
                break
            lineno = text.count("\n", 0, start.start())
            for node in body:
                ast.increment_lineno(node, lineno)
            found.extend(body)
        else:
            return found
    return ast.parse(text, str(path)).body


def tables(package: Path = PACKAGE, fast: bool = True) -> list[tuple[str, dict[str, dict[str, str]]]]:
    """Every module-level ``MESSAGES`` literal under ``package``: ``[(relative path, table)]``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if TABLE not in text:
            continue
        rel = path.relative_to(package).as_posix()
        for node in _statements(text, path, fast):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            else:
                continue
            if not any(isinstance(t, ast.Name) and t.id == TABLE for t in targets):
                continue
            try:
                table = ast.literal_eval(node.value)    # type: ignore[arg-type]
            except ValueError as exc:
                raise ValueError(f"labkit/{rel}:{node.lineno}: {TABLE} must be a literal dict "
                                 f"({exc})") from None
            found.append((rel, table))
    return found


def _add(into: dict[str, dict[str, str]], sources: dict[str, str],
         messages: Mapping[str, Mapping[str, str]], source: str) -> None:
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} ({source}) lacks {missing}")
        if key in into and sources[key] != source:
            raise ValueError(f"message {key!r} is defined twice: labkit/{sources[key]} and "
                             f"labkit/{source}")
        into[key] = dict(texts)
        sources[key] = source


def build(package: Path = PACKAGE) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The catalog of every table under ``package`` and, for each key, the file defining it."""
    catalog: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for rel, table in tables(package):
        _add(catalog, sources, table, rel)
    return catalog, sources


def load() -> None:
    """Read every table (once; later calls do nothing)."""
    global _catalog, _sources, _loaded
    if _loaded:
        return
    catalog, sources = build()
    for key, texts in _catalog.items():                     # what register() added before
        _add(catalog, sources, {key: texts}, _sources[key])
    _catalog, _sources, _loaded = catalog, sources, True


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add a table built at run time (module tables need no call: they are read on first use).

    Both languages are required; a key another file defines is refused."""
    caller = sys._getframe(1).f_globals.get("__file__") or "?"
    try:
        source = Path(caller).resolve().relative_to(PACKAGE).as_posix()
    except ValueError:
        source = str(caller)
    load()
    _add(_catalog, _sources, messages, source)


def set_language(lang: str) -> None:
    """Switch labkit's messages and diagram labels (``"en"`` or ``"fr"``)."""
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    _language = lang


def get_language() -> str:
    return _language


def t(key: str, lang: str | None = None, **params: object) -> str:
    """The message ``key`` in ``lang`` (default: the current language), formatted with ``params``."""
    load()
    texts = _catalog.get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in the catalog")
    return texts[lang or _language].format(**params)


def number(value: float, spec: str = "", lang: str | None = None) -> str:
    """``value`` formatted with ``spec`` (Python's format mini-language, e.g. ``",.1f"``) in the
    language's conventions: ``1,234.5`` in English, ``1\u202f234,5`` in French (decimal comma, a
    narrow no-break space between thousands, as the glossary asks)."""
    text = format(value, spec)
    if (lang or _language) == "fr":
        return text.replace(",", "\u202f").replace(".", ",")
    return text


def keys() -> list[str]:
    load()
    return sorted(_catalog)


def source(key: str) -> str:
    """The file (relative to ``labkit/``) whose table defines ``key``."""
    load()
    return _sources[key]
