"""``labkit probe``: real packets between the pods of a running lab, compared with the policies.

    labkit probe [--name N] [--namespaces x,y,z] [--port 80] [--protocol TCP|UDP] [--json]

Prints the observed table and either "observed = predicted" or every differing cell. Exit code
0 when they agree, 1 when some cell differs (so a script can check enforcement), 2 for bad input.
"""
from __future__ import annotations

import argparse

from .. import i18n
from .target import add_cluster_options, lab_name_from


def register(subparsers: argparse._SubParsersAction) -> None:
    from .. import probe  # noqa: F401  (registers the probe.* messages)

    t = i18n.t
    p = subparsers.add_parser("probe", help=t("probe.cli.help"), description=t("probe.cli.help"))
    add_cluster_options(p)
    p.add_argument("--namespaces", default=None, metavar="X,Y,Z", help=t("probe.cli.namespaces"))
    p.add_argument("--port", default="80", help=t("probe.cli.port"))
    p.add_argument("--protocol", default="TCP", help=t("probe.cli.protocol"))
    p.add_argument("--timeout", type=float, default=2.0, help=t("probe.cli.timeout"))
    p.add_argument("--json", action="store_true", help=t("probe.cli.json"))
    p.add_argument("--services", action="store_true", help=t("probe.cli.services"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..probe import probe

    if args.services:
        from ..service_probe import service_reachability

        matrix = service_reachability(lab_name_from(args, "probe --services"), namespaces=args.namespaces,
                                      timeout=args.timeout)
        print(matrix.to_json() if args.json else matrix.to_text(), end="\n" if args.json else "")
        return 0 if matrix.ok else 1

    result = probe(lab_name_from(args, "probe"), port=args.port, protocol=args.protocol, namespaces=args.namespaces,
                   timeout=args.timeout)
    print(result.to_json() if args.json else result.to_table(), end="\n" if args.json else "")
    return 0 if result.ok else 1
