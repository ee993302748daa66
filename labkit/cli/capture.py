"""``labkit capture SRC DST``: one connection's packets on every interface it crosses (as root, or
through the lab daemon's API for an ordinary user).

    labkit capture demo/client demo/blue:80 [--name N] [--udp] [--all] [--json]
"""
from __future__ import annotations

import argparse
import sys

from .. import i18n
from .target import add_cluster_options, lab_name_from


def register(subparsers: argparse._SubParsersAction) -> None:

    t = i18n.t
    p = subparsers.add_parser("capture", help=t("capture.cli.help"), description=t("capture.cli.help"))
    p.add_argument("src", metavar="SRC", help=t("trace.cli.src_help"))
    p.add_argument("dst", metavar="DST", help=t("trace.cli.dst_help"))
    add_cluster_options(p)
    p.add_argument("--protocol", default="tcp", choices=("tcp", "udp", "TCP", "UDP"), help=t("probe.cli.protocol"))
    p.add_argument("--all", action="store_true", help=t("capture.cli.all"))
    p.add_argument("--json", action="store_true", help=t("capture.cli.json"))
    p.add_argument("--lang", choices=i18n.LANGUAGES, default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..capture import capture

    if getattr(args, "lang", None):
        i18n.set_language(args.lang)
    result = capture(lab_name_from(args, "capture"), args.src, args.dst, protocol=args.protocol.lower())
    sys.stdout.write(result.to_json() + "\n" if args.json else result.to_text(all_packets=args.all))
    return 0 if result.answer else 1
