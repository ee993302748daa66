"""``labkit kind config | up | down | versions``: kind clusters for each network stack."""
from __future__ import annotations

import argparse
import json

from .. import i18n
from ..kind import config, versions
from ..kind import lifecycle as runner
from ..kind.config import CNIS, DEFAULT_NAME, PROXY_MODES, KindPlan


def _plan_options(p: argparse.ArgumentParser) -> None:
    # No argparse ``choices``: KindPlan checks the values and says what is wrong in EN or FR.
    p.add_argument("--cni", default="kindnet", metavar="|".join(CNIS))
    p.add_argument("--proxy-mode", default="iptables", metavar="|".join(PROXY_MODES))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--name", default=DEFAULT_NAME)


def register(subparsers: argparse._SubParsersAction) -> None:
    kind = subparsers.add_parser("kind", help=i18n.t("cli.kind_help"))
    sub = kind.add_subparsers(dest="kind_command", metavar="SUBCOMMAND")

    p = sub.add_parser("config", help="print the kind cluster config for a CNI and kube-proxy mode")
    _plan_options(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("up", help="create the kind cluster, install the CNI, route its subnets")
    _plan_options(p)
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="delete the kind cluster and the host routes to it")
    p.add_argument("--name", default=DEFAULT_NAME)
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("versions", help="the pinned versions of kind, the node image and each CNI")
    p.set_defaults(func=cmd_versions)


def _plan(args: argparse.Namespace) -> KindPlan:
    return KindPlan(cni=args.cni, proxy_mode=args.proxy_mode, workers=args.workers, name=args.name)


def cmd_config(args: argparse.Namespace) -> int:
    print(config.render(_plan(args)), end="")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    runner.up(_plan(args))
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    runner.down(args.name)
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    print(json.dumps(versions.all_versions(), indent=1))
    return 0
