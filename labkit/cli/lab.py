"""``labkit up | down | status``: the embedded lab's lifecycle."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .. import i18n
from ..embedded.client import EmbeddedLab
from ..embedded.paths import kubeconfig_file
from ..embedded.topology import CNI_FLAVORS, DEFAULT_NAME, LabSpec
from ..embedded.userconfig import copy_for, invoking_user
from ..errors import LabkitError
from .target import add_cluster_options, connect_from, lab_name_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("up", help=i18n.t("cli.up_help"))
    p.add_argument("--name", default=DEFAULT_NAME)
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--cni", default="kindnet", metavar="|".join(CNI_FLAVORS))
    p.add_argument("--proxy-mode", default="iptables", metavar="iptables|nftables|ebpf")
    p.add_argument("--service-proxy", choices=("kube-proxy", "ebpf"), default="kube-proxy",
                   help="ebpf: no kube-proxy, a socket-level load balancer (BPF) in every node")
    p.add_argument("--node-cidr")
    p.add_argument("--pod-cidr")
    p.add_argument("--service-cidr")
    p.add_argument("--no-host-routes", action="store_true",
                   help="do not route the lab's networks from this machine")
    p.add_argument("--no-policy-controller", action="store_true",
                   help="run no NetworkPolicy enforcer: policies are stored and do nothing")
    p.add_argument("--max-pods", type=int, default=None,
                   help="how many pods the API accepts (default 250, at most 2000)")
    p.add_argument("--node-pod-prefix", type=int, default=None,
                   help="prefix of each node's pod subnet (default 24; 22 holds 1,000 pods)")
    p.set_defaults(func=cmd_up)

    p = subparsers.add_parser("down", help=i18n.t("cli.down_help"))
    p.add_argument("--name", default=DEFAULT_NAME)
    p.add_argument("--all", action="store_true", help="every lab of this machine (companion labs included)")
    p.set_defaults(func=cmd_down)

    p = subparsers.add_parser("reset", help=i18n.t("cli.reset_help"))
    p.add_argument("--name", default=DEFAULT_NAME)
    p.set_defaults(func=cmd_reset)

    p = subparsers.add_parser("kubeconfig", help=i18n.t("cli.kubeconfig_help"))
    p.add_argument("--name", default=DEFAULT_NAME)
    p.set_defaults(func=cmd_kubeconfig)

    p = subparsers.add_parser("status", help=i18n.t("cli.status_help"))
    add_cluster_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)


def cmd_up(args: argparse.Namespace) -> int:
    from ..embedded import lifecycle  # the lab's builder: heavy, and `status` needs none of it

    if os.geteuid() != 0:           # an ordinary user: say what they can do without root
        from ..embedded.companions import PRESETS

        raise LabkitError("lab.up_needs_root", presets="|".join(PRESETS))
    proxy_mode = "ebpf" if args.service_proxy == "ebpf" else args.proxy_mode
    values = {"name": args.name, "nodes": args.nodes, "cni": args.cni, "proxy_mode": proxy_mode,
              "host_routes": not args.no_host_routes, "policy_controller": not args.no_policy_controller}
    for key in ("max_pods", "node_pod_prefix"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    chosen = set()
    for flag, key in (("--node-cidr", "node_cidr"), ("--pod-cidr", "pod_cidr"),
                      ("--service-cidr", "service_cidr")):
        value = getattr(args, key)
        if value:
            values[key] = value
            chosen.add(flag)
    spec = LabSpec(**values)          # bad input stops here, before anything changes
    spec, started = lifecycle.up(spec, chosen)
    key = "lab.up" if started else "lab.already_up"
    api = EmbeddedLab(spec.name).status().get("api") or "-"
    print(i18n.t(key, name=spec.name, nodes=spec.nodes, cni=spec.cni, api=api))
    print(i18n.t("lab.kubeconfig_hint", path=kubeconfig_file(spec.name)))
    user = invoking_user()
    if user is not None:
        print(i18n.t("lab.user_kubeconfig_hint", user=user.pw_name, path=copy_for(spec.name, user)))
    if not spec.policy_controller:
        print(i18n.t("lab.no_policy_controller", name=spec.name))
    moved = other_ranges(spec)
    if moved:
        print(i18n.t("lab.other_ranges", name=spec.name, ranges=moved))
    return 0


def other_ranges(spec: LabSpec) -> str:
    """The ranges that differ from kind's defaults, as "what CIDR (default CIDR)" (empty if none)."""
    from ..embedded.topology import DEFAULT_NODE_CIDR, DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR

    pairs = (("nodes", spec.node_cidr, DEFAULT_NODE_CIDR), ("pods", spec.pod_cidr, DEFAULT_POD_CIDR),
             ("services", spec.service_cidr, DEFAULT_SERVICE_CIDR))
    return ", ".join(f"{what} {mine} ({default})" for what, mine, default in pairs if mine != default)


def cmd_reset(args: argparse.Namespace) -> int:
    from ..classroom import client
    from ..embedded import lifecycle

    if client.in_class():          # a learner of `make class`: the class service resets their own lab
        client.check_own(args.name, DEFAULT_NAME)
        print(i18n.t("class.reset_done", name=client.reset_own()))
        return 0
    LabSpec(name=args.name)
    spec = lifecycle.reset(args.name)
    print(i18n.t("lab.reset", name=spec.name, nodes=spec.nodes, cni=spec.cni))
    return 0


def cmd_kubeconfig(args: argparse.Namespace) -> int:
    LabSpec(name=args.name)
    path = kubeconfig_file(args.name)
    if not path.exists():
        raise LabkitError("lab.not_running", name=args.name)
    print(path)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from ..embedded import lifecycle

    if args.all:
        names = lifecycle.all_labs()
        count = lifecycle.down_all()
        print(i18n.t("lab.down_all", labs=", ".join(names) or "-", count=count))
        return 0
    LabSpec(name=args.name)
    count = lifecycle.down(args.name)
    print(i18n.t("lab.down" if count else "lab.nothing_to_remove", name=args.name, count=count))
    return 0


def _status_through_api(args: argparse.Namespace) -> dict:
    """What an ordinary user can know of a lab: its nodes and pods, through its API."""
    from ..cluster import list_objects
    from ..nodes import lab_info

    with connect_from(args) as cluster:
        objects = list_objects(cluster.api, cluster.name)
        info = lab_info(cluster.api) if cluster.kind == "embedded" else {}   # the state files are root's
    nodes = [{"name": n["metadata"]["name"], "pod_cidr": n["spec"].get("podCIDR") or "-",
              "ip": next((a["address"] for a in n["status"].get("addresses") or [] if a["type"] == "InternalIP"), "-")}
             for n in objects["nodes"]]
    pods = [{"namespace": p["metadata"]["namespace"], "name": p["metadata"]["name"],
             "node": p["spec"].get("nodeName") or "-", "ip": p["status"].get("podIP") or "-"}
            for p in objects["pods"]]
    return {"name": cluster.name, "running": True, "cni": info.get("cni", "-"),
            "pod_cidr": info.get("podCIDR", "-"), "node_cidr": info.get("nodeCIDR", "-"),
            "policy_controller": info.get("policyController"), "nodes": nodes, "pods": pods}



def cmd_status(args: argparse.Namespace) -> int:
    from ..classroom import client

    if args.name:
        LabSpec(name=args.name)
    if os.geteuid() == 0:
        status = EmbeddedLab(lab_name_from(args, "status")).status()
    elif client.in_class():         # a learner of `make class`: their own lab, and advice they can follow
        client.check_status_name(args.name)
        try:
            lab_name_from(args, "status")
            status = _status_through_api(args)
        except LabkitError as error:
            raise client.own_lab_down(error, args.name) from error
    else:
        lab_name_from(args, "status")
        status = _status_through_api(args)
    if args.json:
        json.dump(status, sys.stdout, indent=2)
        print()
        return 0
    state = i18n.t("lab.state.running" if status["running"] else "lab.state.stopped")
    print(i18n.t("lab.status", name=status["name"], state=state, cni=status["cni"], pods=status["pod_cidr"],
                 nodes=status["node_cidr"]))
    if status.get("policy_controller") is False:
        print(i18n.t("lab.no_policy_controller", name=status["name"]))
    print(f"{'NODE':24} {'IP':15} {'POD CIDR':16}")
    for n in status["nodes"]:
        print(f"{n['name']:24} {n['ip']:15} {n['pod_cidr']:16}")
    if status["pods"]:
        print(f"\n{'NAMESPACE':12} {'POD':24} {'IP':15} NODE")
        for p in status["pods"]:
            print(f"{p['namespace']:12} {p['name']:24} {p['ip']:15} {p['node']}")
    return 0
