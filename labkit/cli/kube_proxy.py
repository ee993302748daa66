"""``labkit kube-proxy render`` and ``labkit inspect kube-proxy``.

``render`` turns manifests into the exact input kube-proxy feeds ``iptables-restore`` or
``nft -f``; ``inspect kube-proxy`` reads what ``iptables-save``/``nft`` printed and shows the
services back. Reading text stays separate from where the text comes from, so a ``--node``
source can be added next to FILE without touching the parsers.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import sys

from .. import i18n
from ..errors import BadInput
from ..inspect.kube_proxy import read_service_map
from ..inspect.servicemap import ServiceMap, format_table
from ..kubeproxy.iptables import render_iptables
from ..kubeproxy.manifests import load_manifests
from ..kubeproxy.model import NodeContext
from ..kubeproxy.nftables import render_nftables
from .target import add_cluster_options, connect_from

# kind's defaults, which the embedded lab mirrors (DESIGN.md).
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/16"


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("kube-proxy", help=i18n.t("kubeproxy.cli.group_help"))
    commands = group.add_subparsers(dest="kube_proxy_command", metavar="COMMAND")
    render = commands.add_parser("render", help=i18n.t("kubeproxy.cli.render_help"))
    render.add_argument("--mode", choices=("iptables", "nftables"), default="iptables")
    render.add_argument("--node-ip", action="append", default=[], metavar="IP",
                        help="a node IP that accepts NodePort traffic (repeat the option for several)")
    render.add_argument("--node-name", default="", help="node name: endpoints with this nodeName are local")
    render.add_argument("--cluster-cidr", default=DEFAULT_CLUSTER_CIDR, help="pod CIDR (local traffic detector)")
    render.add_argument("--service-cidr", action="append", default=None, metavar="CIDR")
    render.add_argument("--masquerade-all", action="store_true")
    render.add_argument("--nft-form", choices=("recreate", "dump"), default="recreate",
                        help="nftables: one delete-and-recreate transaction, or one add line per object")
    render.add_argument("files", nargs="+", metavar="FILE")
    render.set_defaults(func=_render)
    group.set_defaults(func=lambda args: _help(group))

    inspect_commands = _inspect_group(subparsers)
    inspect = inspect_commands.add_parser("kube-proxy", help=i18n.t("kubeproxy.cli.inspect_help"))
    inspect.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    inspect.add_argument("--json", action="store_true", help="print the service map as JSON")
    inspect.add_argument("--node", help="read the rules of this node (of the cluster --name, KUBECONFIG "
                         "or --context names, as for labkit draw)")
    add_cluster_options(inspect)
    inspect.set_defaults(func=_inspect)


def _inspect_group(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The ``inspect`` group's sub-commands, shared with other command modules that add to it."""
    parser = subparsers.choices.get("inspect")
    if parser is None:
        parser = subparsers.add_parser("inspect", help=i18n.t("kubeproxy.cli.inspect_group_help"))
        parser.set_defaults(func=lambda args: _help(parser))
        return parser.add_subparsers(dest="inspect_command", metavar="WHAT")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="inspect_command", metavar="WHAT")


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _checked(values: list[str], option: str, network: bool) -> tuple[str, ...]:
    result = []
    for value in values:
        try:
            result.append(str(ipaddress.ip_network(value, strict=False) if network else ipaddress.ip_address(value)))
        except ValueError:
            key = f"kubeproxy.option.{'not_cidr' if network else 'not_ip'}"
            raise BadInput(key, option=option, value=value) from None
    return tuple(result)


def _render(args: argparse.Namespace) -> int:
    node_ips = _checked(args.node_ip, "--node-ip", network=False)
    cidr = _checked([args.cluster_cidr], "--cluster-cidr", network=True)[0]
    service_cidrs = _checked(args.service_cidr or [DEFAULT_SERVICE_CIDR], "--service-cidr", network=True)
    ctx = NodeContext(node_name=args.node_name, node_ips=node_ips, cluster_cidr=cidr,
                      service_cidrs=service_cidrs, masquerade_all=args.masquerade_all)
    inp = load_manifests(args.files, node_name=args.node_name)
    if not inp.services:
        raise BadInput("kubeproxy.no_services", files=", ".join(args.files))
    if args.mode == "iptables":
        sys.stdout.write(render_iptables(inp, ctx))
    else:
        ruleset = render_nftables(inp, ctx)
        sys.stdout.write(ruleset.transaction() if args.nft_form == "recreate" else ruleset.dump())
    return 0


def node_rules(args: argparse.Namespace, node: str) -> tuple[str, str]:
    """The kube-proxy rules a node holds, as its own tools print them: nftables mode's table when
    the node has one, else ``iptables-save``."""
    from ..errors import LabkitError

    with connect_from(args) as cluster:
        access = cluster.node(node)
        try:
            return access.run(["nft", "list", "table", "ip", "kube-proxy"]), f"{access.name}: nft"
        except LabkitError:
            return access.run(["iptables-save"]), f"{access.name}: iptables-save"


def _inspect(args: argparse.Namespace) -> int:
    if args.node:
        text, source = node_rules(args, args.node)
    elif args.file == "-":
        text, source = sys.stdin.read(), "<stdin>"
    else:
        try:
            with open(args.file, encoding="utf-8") as fh:
                text, source = fh.read(), args.file
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput("kubeproxy.file_unreadable", file=args.file, reason=exc) from exc
    print_service_map(read_service_map(text, source), args.json)
    return 0


def print_service_map(smap: ServiceMap, as_json: bool) -> None:
    """A service map on stdout: JSON, or the table ``labkit inspect kube-proxy`` prints."""
    if as_json:
        json.dump(smap.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(smap))
