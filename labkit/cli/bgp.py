"""``labkit inspect bgp --node NODE [--routes]``: a node's BIRD (the calico flavor), through the node seam.

Prints what ``birdc show protocols`` (or ``show route``) prints on the node: as root straight from
the node's control socket, as an ordinary user through the lab daemon's API (read-only, ``birdc -r``).
``labkit bird stop|start --node NODE`` kills or restarts that BIRD (root: the lab's control socket;
otherwise the lab's API), to watch the other nodes withdraw its block.
"""
from __future__ import annotations

import argparse
import sys

from .. import i18n
from .kube_proxy import _inspect_group
from .target import add_cluster_options, connect_from

MESSAGES = {
    "bgp.cli.inspect_help": {"en": "a node's BIRD: BGP sessions (birdc show protocols) or its routes",
                             "fr": "le BIRD d'un nœud : sessions BGP (birdc show protocols) ou ses routes"},
    "bgp.cli.bird_help": {"en": "kill or restart a node's BIRD (labkit up --cni calico)",
                          "fr": "tuer ou relancer le BIRD d'un nœud (labkit up --cni calico)"},
    "bgp.cli.state": {"en": "BIRD on {node}: {state}", "fr": "BIRD sur {node} : {state}"},
    "bgp.cli.running": {"en": "running", "fr": "en marche"},
    "bgp.cli.stopped": {"en": "not running", "fr": "arrêté"},
}


def register(subparsers: argparse._SubParsersAction) -> None:
    inspect = _inspect_group(subparsers).add_parser("bgp", help=i18n.t("bgp.cli.inspect_help"))
    inspect.add_argument("--node", required=True, help="the node (worker, kubenet-worker...)")
    inspect.add_argument("--routes", action="store_true", help="birdc show route (default: show protocols)")
    add_cluster_options(inspect)
    inspect.set_defaults(func=_inspect)
    agent = subparsers.add_parser("bird", help=i18n.t("bgp.cli.bird_help"))
    agent.add_argument("action", choices=("stop", "start", "status"))
    agent.add_argument("--node", required=True)
    add_cluster_options(agent)
    agent.set_defaults(func=_agent)


def _inspect(args: argparse.Namespace) -> int:
    words = ["show", "route"] if args.routes else ["show", "protocols"]
    with connect_from(args) as cluster:
        sys.stdout.write(cluster.node(args.node).run(["birdc", *words]))
    return 0


def _agent(args: argparse.Namespace) -> int:
    from .. import bgp

    with connect_from(args) as cluster:
        run = {"stop": bgp.stop_bird, "start": bgp.start_bird}.get(args.action)
        answer = run(cluster, args.node) if run else bgp._agent(cluster, args.node, "status")
    state = i18n.t("bgp.cli.running" if answer["running"] else "bgp.cli.stopped")
    print(i18n.t("bgp.cli.state", node=answer["node"], state=state))
    return 0
