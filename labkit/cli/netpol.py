"""``labkit netpol``: the policy engine from the shell, on YAML files, without a cluster.

    labkit netpol matrix FILE... [--port 80] [--protocol TCP] [--json] [--direction ingress]
    labkit netpol explain FILE... --from x/a --to y/b [--port 80] [--protocol TCP]

``labkit --lang fr netpol ...`` prints tables and explanations in French. Bad input (unreadable
YAML, invalid policy, unknown pod) is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse

from .. import i18n
from ..netpol import Engine, load_manifests


def register(subparsers: argparse._SubParsersAction) -> None:
    t = i18n.t
    group = subparsers.add_parser("netpol", help=t("netpol.cli.group"), description=t("netpol.cli.group"))
    commands = group.add_subparsers(dest="netpol_command", metavar="COMMAND", parser_class=type(group))
    group.set_defaults(func=lambda args: _usage(group))

    matrix = commands.add_parser("matrix", help=t("netpol.cli.matrix"), description=t("netpol.cli.matrix"))
    _common(matrix)
    matrix.add_argument("--json", action="store_true", help=t("netpol.cli.json"))
    matrix.add_argument("--direction", choices=("combined", "ingress", "egress"), default="combined",
                        help=t("netpol.cli.direction"))
    matrix.set_defaults(func=run_matrix)

    explain = commands.add_parser("explain", help=t("netpol.cli.explain"), description=t("netpol.cli.explain"))
    _common(explain)
    explain.add_argument("--from", dest="src", required=True, metavar="NS/POD", help=t("netpol.cli.from"))
    explain.add_argument("--to", dest="dst", required=True, metavar="NS/POD", help=t("netpol.cli.to"))
    explain.set_defaults(func=run_explain)


def _common(parser: argparse.ArgumentParser) -> None:
    t = i18n.t
    parser.add_argument("files", nargs="+", metavar="FILE", help=t("netpol.cli.files"))
    parser.add_argument("--port", default="80", help=t("netpol.cli.port"))
    parser.add_argument("--protocol", default="TCP", help=t("netpol.cli.protocol"))
    parser.add_argument("--ipblock-ignores-pods", action="store_true", help=t("netpol.cli.ipblock"))
    parser.add_argument("--no-self", action="store_true", help=t("netpol.cli.no_self"))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _engine(args: argparse.Namespace) -> Engine:
    namespaces, pods, policies = load_manifests(args.files)
    return Engine(namespaces, pods, policies, ipblock_matches_pods=not args.ipblock_ignores_pods,
                  allow_self=not args.no_self)


def run_matrix(args: argparse.Namespace) -> int:
    result = _engine(args).reachability(args.port, args.protocol)
    if args.json:
        print(result.to_json(args.direction))
    else:
        print(result.to_table(direction=args.direction), end="")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    print(_engine(args).explain(args.src, args.dst, args.port, args.protocol).render(), end="")
    return 0
