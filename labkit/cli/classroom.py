"""``labkit class up|down``: the commands behind ``make class`` and ``make class-down``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import i18n
from ..errors import LabkitError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("class", help=i18n.t("class.cli.help"))
    sub = p.add_subparsers(dest="class_command", metavar="up|down")
    up = sub.add_parser("up", help="start the hub for the learners of a roster (root)")
    up.add_argument("--roster", default="class.txt", help="one login per line; `admin` after instructors'")
    up.add_argument("--ip", default="0.0.0.0", help="where the hub listens (default: every address)")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--network", default="100.72.0.0/16", help="the hub-to-learners network (free here)")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop the hub, remove every learner's lab, user and process (root)")
    down.add_argument("--purge", action="store_true", help="also remove the installs under /opt/kubenet-class")
    down.set_defaults(func=cmd_down)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_up(args: argparse.Namespace) -> int:
    from ..classroom import lifecycle, plan, roster
    from ..classroom.host import REPO, learners_address
    from ..classroom.messages import counted

    lifecycle.require_root()
    path = Path(args.roster)
    if not path.exists():
        raise LabkitError("class.no_roster", path=str(path))
    people = roster.parse(path.read_text())
    the_plan = plan.make_plan(people, network=args.network, public_ip=args.ip, public_port=args.port,
                              repo=str(REPO), hub_python=sys.executable, previous=lifecycle.previous_plan())
    lifecycle.up(the_plan, say=lambda text: print(text, flush=True))
    url = f"http://{learners_address(args.ip)}:{args.port}/"
    print(counted("class.up", len(people.people), url=url))
    if people.admins:
        print(i18n.t("class.instructor", url=url, admins=", ".join(people.admins)))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from ..classroom import lifecycle
    from ..classroom.messages import counted

    print(counted("class.down", lifecycle.down(purge=args.purge)))
    return 0
