"""``labkit inspect socket-lb --node NODE``: the ebpf service proxy's maps of one node, read back.

What ``bpftool map dump`` prints for ``lb4_services`` and ``lb4_backends`` (through the node
seam: as root in the node, or through the lab daemon's API), shown as the services it means,
in the same table as ``labkit inspect kube-proxy``.
"""
from __future__ import annotations

import argparse
import json
import sys

from .. import i18n
from ..bpf.maps import BACKENDS, SERVICES, dump_argv, service_map
from ..cluster import list_objects
from ..inspect.servicemap import format_table
from .kube_proxy import _inspect_group
from .target import add_cluster_options, connect_from

MESSAGES = {
    "socketlb.cli.help": {
        "en": "the ebpf service proxy's maps of a node (bpftool map dump), as services",
        "fr": "les tables du proxy de services ebpf d'un nœud (bpftool map dump), lues comme des services"},
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = _inspect_group(subparsers).add_parser("socket-lb", help=i18n.t("socketlb.cli.help"))
    p.add_argument("--node", required=True, help="worker, control-plane... (of the cluster --name)")
    p.add_argument("--json", action="store_true", help="print the service map as JSON")
    add_cluster_options(p)
    p.set_defaults(func=_inspect)


def _inspect(args: argparse.Namespace) -> int:
    with connect_from(args) as cluster:
        access = cluster.node(args.node)
        services = access.run(dump_argv(access.name, SERVICES))
        backends = access.run(dump_argv(access.name, BACKENDS))
        objects = list_objects(cluster.api, cluster.name)["services"]      # names for the addresses
    smap = service_map(services, backends, objects)
    if args.json:
        json.dump(smap.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(smap))
    return 0
