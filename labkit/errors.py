"""The library's error type: every failure a learner can meet says what went wrong, in their language.

Errors are translated once, at the boundary where the outside world answered (a command, the
kernel, a file), into ``LabkitError`` with a catalog key, so the same error prints in English or
French. ``exit_code`` tells the CLI how to end: 2 for bad input (nothing was changed), 1 for a
failure while doing the work.
"""
from __future__ import annotations

from . import i18n

BAD_INPUT = 2
FAILURE = 1


class LabkitError(Exception):
    """An error with a message in English and French (``str()`` uses the current language)."""

    def __init__(self, key: str, exit_code: int = FAILURE, **params: object) -> None:
        self.key = key
        self.params = params
        self.exit_code = exit_code
        super().__init__(self.message("en"))

    def message(self, lang: str | None = None) -> str:
        return i18n.t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class BadInput(LabkitError):
    """The request itself is wrong; nothing was changed."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key, exit_code=BAD_INPUT, **params)
