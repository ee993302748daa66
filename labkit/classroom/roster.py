"""The class roster: who may log in (pure).

The file lists one login per line; ``admin`` after a login makes that person an instructor (a
JupyterHub admin who sees the instructor's page). Blank lines and ``#`` comments are ignored::

    # kubenet-lab, Tuesday's class
    alice
    bob
    teacher admin

A login names the learner's lab too (``labkit up --name <login>``: nodes ``<login>-control-plane``,
``<login>-worker``...), so it follows the lab names' rule: a lowercase letter, then lowercase
letters and digits, at most 10 characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadInput

LOGIN_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
# Lab names other parts of labkit use: a learner's lab must never sweep (or be swept by) one of them.
RESERVED = frozenset({"kubenet", "root", "admin", "hub", "class"})

MESSAGES = {
    "class.roster.bad_login": {
        "en": "roster line {line}: {login!r} is not a valid login (a lowercase letter, then lowercase letters or "
              "digits, at most 10 characters)",
        "fr": "liste, ligne {line} : {login!r} n'est pas un identifiant valide (une lettre minuscule, puis des "
              "minuscules ou des chiffres, 10 caractères au plus)"},
    "class.roster.reserved": {
        "en": "roster line {line}: {login!r} is reserved, choose another login",
        "fr": "liste, ligne {line} : {login!r} est réservé, choisissez un autre identifiant"},
    "class.roster.duplicate": {
        "en": "roster line {line}: {login!r} is listed twice",
        "fr": "liste, ligne {line} : {login!r} figure deux fois"},
    "class.roster.bad_flag": {
        "en": "roster line {line}: unknown word {word!r} after the login (only `admin` is known)",
        "fr": "liste, ligne {line} : mot inconnu {word!r} après l'identifiant (seul `admin` est connu)"},
    "class.roster.empty": {
        "en": "the roster lists no learner: write one login per line",
        "fr": "la liste ne contient aucun apprenant : écrivez un identifiant par ligne"},
}


@dataclass(frozen=True)
class Person:
    login: str
    admin: bool = False


@dataclass(frozen=True)
class Roster:
    people: tuple[Person, ...]

    @property
    def logins(self) -> list[str]:
        return [p.login for p in self.people]

    @property
    def admins(self) -> list[str]:
        return [p.login for p in self.people if p.admin]


def parse(text: str) -> Roster:
    """The roster in ``text``; :class:`BadInput` (EN/FR, with the line) for anything else."""
    people: list[Person] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        login, flags = words[0], words[1:]
        if not LOGIN_RE.match(login):
            raise BadInput("class.roster.bad_login", line=number, login=login)
        if login in RESERVED:
            raise BadInput("class.roster.reserved", line=number, login=login)
        if login in seen:
            raise BadInput("class.roster.duplicate", line=number, login=login)
        for word in flags:
            if word != "admin":
                raise BadInput("class.roster.bad_flag", line=number, word=word)
        seen.add(login)
        people.append(Person(login, admin="admin" in flags))
    if not people:
        raise BadInput("class.roster.empty")
    return Roster(tuple(people))
