"""``labkit inspect socket-lb --node NODE``: the ebpf service proxy's maps of one node, read back.

What ``bpftool map dump`` prints for ``lb4_services`` and ``lb4_backends`` (through the node
seam: as root in the node, or through the lab daemon's API), shown as the services it means,
in the same table as ``labkit inspect kube-proxy``.
``labkit service-proxy stop|start|status --node NODE`` kills or restarts that node's service proxy
(kube-proxy, or the socket LB's agent): what its kernel holds keeps serving, nothing new is
programmed there until it is back (:mod:`labkit.agents`).
"""
from __future__ import annotations

import argparse

from .. import i18n
from ..bpf.maps import BACKENDS, SERVICES, dump_argv, service_map
from ..cluster import list_objects
from .kube_proxy import _inspect_group, print_service_map
from .target import add_cluster_options, connect_from

MESSAGES = {
    "socketlb.cli.help": {
        "en": "the ebpf service proxy's maps of a node (bpftool map dump), as services",
        "fr": "les tables du proxy de services ebpf d'un nœud (bpftool map dump), lues comme des services"},
    "socketlb.cli.agent_help": {
        "en": "kill or restart a node's service proxy (kube-proxy, or the ebpf socket LB's agent)",
        "fr": "tuer ou relancer le proxy de services d'un nœud (kube-proxy, ou l'agent du répartiteur ebpf)"},
    "socketlb.cli.state": {"en": "service proxy on {node}: {state}", "fr": "proxy de services sur {node} : {state}"},
    "socketlb.cli.running": {"en": "running", "fr": "en marche"},
    "socketlb.cli.stopped": {"en": "stopped (the kernel keeps what it had)",
                             "fr": "arrêté (le noyau garde ce qu'il avait)"},
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = _inspect_group(subparsers).add_parser("socket-lb", help=i18n.t("socketlb.cli.help"))
    p.add_argument("--node", required=True, help="worker, control-plane... (of the cluster --name)")
    p.add_argument("--json", action="store_true", help="print the service map as JSON")
    add_cluster_options(p)
    p.set_defaults(func=_inspect)
    agent = subparsers.add_parser("service-proxy", help=i18n.t("socketlb.cli.agent_help"))
    agent.add_argument("action", choices=("stop", "start", "status"))
    agent.add_argument("--node", required=True)
    add_cluster_options(agent)
    agent.set_defaults(func=_agent)


def _agent(args: argparse.Namespace) -> int:
    from .. import agents

    with connect_from(args) as cluster:
        answer = agents.call(cluster, args.node, "service-proxy", args.action)
    state = i18n.t("socketlb.cli.running" if answer["running"] else "socketlb.cli.stopped")
    print(i18n.t("socketlb.cli.state", node=answer["node"], state=state))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    with connect_from(args) as cluster:
        access = cluster.node(args.node)
        services = access.run(dump_argv(access.name, SERVICES))
        backends = access.run(dump_argv(access.name, BACKENDS))
        objects = list_objects(cluster.api, cluster.name)["services"]      # names for the addresses
    print_service_map(service_map(services, backends, objects), args.json)
    return 0
