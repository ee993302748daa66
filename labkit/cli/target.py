"""Which cluster a command works on: one rule for every command, the rule of ``labkit.connect()``.

``--name LAB`` (an embedded lab) first; then ``--kubeconfig``/``KUBECONFIG`` and ``--context``;
then the running embedded lab. ``draw``, ``trace``, ``probe``, ``inspect kube-proxy --node`` and
``status`` all take these options and call :func:`connect_from`, so that ``KUBECONFIG`` pointing at
a second lab (or a kind cluster) is honoured everywhere, and an ordinary user reads an embedded
lab's nodes through its daemon's API.
"""
from __future__ import annotations

import argparse
import os

from .. import i18n
from ..errors import LabkitError

MESSAGES = {
    "target.name_help": {
        "en": "embedded lab to use (default: KUBECONFIG / --context, then the running lab)",
        "fr": "lab embarqué à utiliser (par défaut : KUBECONFIG / --context, puis le lab qui tourne)"},
    "target.context_help": {"en": "kubeconfig context to use", "fr": "contexte du kubeconfig à utiliser"},
    "target.kubeconfig_help": {"en": "kubeconfig file (default: KUBECONFIG, then ~/.kube/config)",
                               "fr": "fichier kubeconfig (par défaut : KUBECONFIG, puis ~/.kube/config)"},
    "target.needs_embedded": {
        "en": "`labkit {command}` works on an embedded lab, and {name} is a {kind} cluster: pass --name LAB",
        "fr": "`labkit {command}` travaille sur un lab embarqué, et {name} est un cluster {kind} : passez --name LAB"},
}


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default=None, help=i18n.t("target.name_help"))
    parser.add_argument("--context", default=None, help=i18n.t("target.context_help"))
    parser.add_argument("--kubeconfig", default=None, help=i18n.t("target.kubeconfig_help"))


def connect_from(args: argparse.Namespace):
    """The cluster the options name (see the module docstring)."""
    from ..cluster import connect

    return connect(context=getattr(args, "context", None), kubeconfig=getattr(args, "kubeconfig", None),
                   lab=getattr(args, "name", None))


def lab_name_from(args: argparse.Namespace, command: str) -> str:
    """The embedded lab the options name, for commands that only work on one."""
    if getattr(args, "name", None):
        return args.name
    if not (getattr(args, "context", None) or getattr(args, "kubeconfig", None) or os.environ.get("KUBECONFIG")):
        from ..embedded.control import running_labs

        labs = running_labs()          # connect()'s own rule, without building an API client
        if labs:
            return "kubenet" if "kubenet" in labs else labs[0]
    cluster = connect_from(args)
    if cluster.kind != "embedded" or not cluster.lab:
        raise LabkitError("target.needs_embedded", exit_code=2, command=command, name=cluster.name,
                          kind=cluster.kind)
    return cluster.lab
