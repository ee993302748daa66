"""``labkit probe``: real packets between the pods of a running lab, compared with the policies.

    labkit probe [--name N] [--namespaces x,y,z] [--port 80] [--protocol TCP|UDP] [--json]

Prints the observed table and either "observed = predicted" or every differing cell. Exit code
0 when they agree, 1 when some cell differs (so a script can check enforcement), 2 for bad input.
"""
from __future__ import annotations

import argparse
import os
import subprocess

from .. import i18n
from .target import add_cluster_options, lab_name_from


def register(subparsers: argparse._SubParsersAction) -> None:

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


def kubectl_exec(kubeconfig: str, context: str | None = None):
    """An ``Exec`` through the lab's API (``kubectl exec``), for an ordinary user: no namespace entered."""
    def run(key: str, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        namespace, pod = key.split("/", 1)
        cmd = ["kubectl", f"--kubeconfig={kubeconfig}", *(["--context", context] if context else []),
               "-n", namespace, "exec", pod, "--", *argv]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return run


def _exec_for(args: argparse.Namespace, name: str):
    """None (the lab's own exec, root) or, for an ordinary user, ``kubectl exec`` with their kubeconfig."""
    if os.geteuid() == 0:
        return None
    from ..embedded.userconfig import readable_kubeconfig

    kubeconfig = (args.kubeconfig or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
                  or str(readable_kubeconfig(name)))
    return kubectl_exec(kubeconfig, args.context)


def run(args: argparse.Namespace) -> int:
    from ..netpol.probe import probe

    if args.services:
        from ..service_probe import service_reachability

        matrix = service_reachability(lab_name_from(args, "probe --services"), namespaces=args.namespaces,
                                      timeout=args.timeout)
        print(matrix.to_json() if args.json else matrix.to_text(), end="\n" if args.json else "")
        return 0 if matrix.ok else 1

    name = lab_name_from(args, "probe")
    result = probe(name, run=_exec_for(args, name), port=args.port, protocol=args.protocol, namespaces=args.namespaces,
                   timeout=args.timeout)
    print(result.to_json() if args.json else result.to_table(), end="\n" if args.json else "")
    return 0 if result.ok else 1
