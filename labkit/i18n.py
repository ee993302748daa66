"""One message catalog for English and French.

Every user-facing string (errors, CLI output, diagram labels) is looked up here by key so that
`set_language("fr")` switches the whole library at once. Each subpackage keeps its own
``MESSAGES`` table next to the code that uses it and registers it at import time, so parts of the
library can grow their messages without touching one shared file.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("en", "fr")

_catalog: dict[str, dict[str, str]] = {}
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


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add a table ``{key: {"en": ..., "fr": ...}}``; both languages are required."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} lacks {missing}")
        _catalog[key] = dict(texts)


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
    texts = _catalog.get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in the catalog")
    return texts[lang or _language].format(**params)


def keys() -> list[str]:
    return sorted(_catalog)
