"""The class roster: who may log in (pure).

The file lists one login per line; ``admin`` after a login makes that person an instructor (a
JupyterHub admin who sees the instructor's page). Blank lines and ``#`` comments are ignored::

    # kubenet-lab, Tuesday's class
    alice
    bob
    teacher admin

A login names the learner's lab too (``labkit up --name <login>``: nodes ``<login>-control-plane``,
``<login>-worker``...), so it follows the lab names' rule: a lowercase letter, then lowercase
letters and digits, at most 10 characters. Their companion labs are named after it as well
(``<login[:8]>br``...) and node namespaces are the machine's, so no two logins may share a lab name:
``learner01`` and ``learner02`` (same first 8 letters) or ``bob`` and ``bobbr`` are refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..embedded.companions import PRESETS, companion_name
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
    "class.roster.shared_names": {
        "en": "roster line {line}: {login!r} and {other!r} (line {other_line}) would both own the lab {name!r} "
              "(companion labs take a login's first 8 letters): choose another login",
        "fr": "liste, ligne {line} : {login!r} et {other!r} (ligne {other_line}) auraient tous deux le lab "
              "{name!r} (les labs compagnons prennent les 8 premières lettres d'un identifiant) : choisissez "
              "un autre identifiant"},
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


def lab_names(login: str) -> set[str]:
    """Every lab name a learner's world may hold: their lab and its companions (pure)."""
    return {login} | {companion_name(login, preset) for preset in PRESETS}


RESERVED_LABS = frozenset(lab_names("kubenet"))       # `make lab`'s lab and its companions


def parse(text: str) -> Roster:
    """The roster in ``text``; :class:`BadInput` (EN/FR, with the line) for anything else."""
    people: list[Person] = []
    seen: set[str] = set()
    owners: dict[str, tuple[str, int]] = {}         # lab name -> (login, line) of who holds it
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        login, flags = words[0], words[1:]
        if not LOGIN_RE.match(login):
            raise BadInput("class.roster.bad_login", line=number, login=login)
        if login in RESERVED or lab_names(login) & RESERVED_LABS:
            raise BadInput("class.roster.reserved", line=number, login=login)
        if login in seen:
            raise BadInput("class.roster.duplicate", line=number, login=login)
        for word in flags:
            if word != "admin":
                raise BadInput("class.roster.bad_flag", line=number, word=word)
        for name in sorted(lab_names(login)):
            if name in owners:
                other, other_line = owners[name]
                raise BadInput("class.roster.shared_names", line=number, login=login, other=other,
                               other_line=other_line, name=name)
        owners.update({name: (login, number) for name in lab_names(login)})
        seen.add(login)
        people.append(Person(login, admin="admin" in flags))
    if not people:
        raise BadInput("class.roster.empty")
    return Roster(tuple(people))
