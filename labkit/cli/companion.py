"""``labkit companion up|down|status``: a second small lab beside yours, no root needed.

The running lab's daemon builds it from a fixed list of presets (``labkit.companions``); as root,
it is built directly. ``labkit down`` of the lab removes its companions too.
"""
from __future__ import annotations

import argparse
import json
import sys

from .. import i18n
from ..embedded.companions import PRESETS

MESSAGES = {
    "companion.cli.help": {
        "en": "start, stop or list a second small lab beside yours (presets: {presets}); no root needed",
        "fr": "démarre, arrête ou liste un second petit lab à côté du vôtre (préréglages : {presets}) ; sans root"},
    "companion.cli.name_help": {
        "en": "your lab (default: LABKIT_LAB, else the running lab)",
        "fr": "votre lab (défaut : LABKIT_LAB, sinon le lab en marche)"},
    "companion.cli.running": {"en": "running", "fr": "en marche"},
    "companion.cli.stopped": {"en": "stopped", "fr": "arrêté"},
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("companion", help=i18n.t("companion.cli.help", presets=", ".join(PRESETS)))
    actions = p.add_subparsers(dest="action", metavar="up|down|status", required=True)
    for action in ("up", "down"):
        a = actions.add_parser(action)
        a.add_argument("preset", metavar="|".join(PRESETS))
        a.add_argument("--name", default=None, help=i18n.t("companion.cli.name_help"))
        a.set_defaults(func=cmd_change)
    a = actions.add_parser("status")
    a.add_argument("--name", default=None, help=i18n.t("companion.cli.name_help"))
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_status)


def cmd_change(args: argparse.Namespace) -> int:
    from .. import companions

    info = companions.change(args.preset, args.name, stop=args.action == "down")
    print(companions.describe(info))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .. import companions

    rows = companions.status(args.name)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    lang = "fr" if i18n.get_language() == "fr" else "en"
    for row in rows:
        state = i18n.t("companion.cli.running" if row["running"] else "companion.cli.stopped")
        print(f"{row['preset']:9} {row['name']:11} {state:9} {row['description'][lang]}")
    return 0
