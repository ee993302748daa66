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
import re

from .. import i18n
from ..errors import LabkitError

MESSAGES = {
    "target.name_help": {
        "en": "embedded lab to use (default: KUBECONFIG / --context, then the running lab)",
        "fr": "lab embarqué à utiliser (par défaut : KUBECONFIG / --context, puis le lab qui tourne)"},
    "target.context_help": {"en": "kubeconfig context to use", "fr": "contexte du kubeconfig à utiliser"},
    "target.kubeconfig_help": {"en": "kubeconfig file (default: KUBECONFIG, then ~/.kube/config)",
                               "fr": "fichier kubeconfig (par défaut : KUBECONFIG, puis ~/.kube/config)"},
    # a kind cluster (``kind-*`` context): it has no embedded lab's daemon to ask
    "target.needs_embedded": {
        "en": "`labkit {command}` works on an embedded lab, and {name} is a kind cluster: pass --name LAB "
              "(a running lab; `labkit up` starts one)",
        "fr": "`labkit {command}` travaille sur un lab embarqué, et {name} est un cluster kind : passez --name LAB "
              "(un lab qui tourne ; `labkit up` en démarre un)"},
    # any other cluster whose API answered, and no embedded lab's daemon behind it
    "target.not_a_lab": {
        "en": "`labkit {command}` works on an embedded lab, and context {name} ({server}) is another Kubernetes cluster: "
              "pass --name LAB (a running lab; `labkit up` starts one)",
        "fr": "`labkit {command}` travaille sur un lab embarqué, et le contexte {name} ({server}) est un autre "
              "cluster Kubernetes : passez --name LAB (un lab qui tourne ; `labkit up` en démarre un)"},
    # the kubeconfig's server did not answer: most often a lab whose daemon is down
    "target.not_answering": {
        "en": "`labkit {command}` works on an embedded lab, and the API of context {name} ({server}) does not answer "
              "({error}): if it is a lab, start it again (`labkit up --name LAB`), or pass --name LAB to use "
              "a running lab",
        "fr": "`labkit {command}` travaille sur un lab embarqué, et l'API du contexte {name} ({server}) ne répond pas "
              "({error}) : si c'est un lab, redémarrez-le (`labkit up --name LAB`), ou passez --name LAB pour "
              "utiliser un lab qui tourne"},
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
    if cluster.kind == "embedded" and cluster.lab:
        return cluster.lab
    if cluster.kind == "kind":
        raise LabkitError("target.needs_embedded", exit_code=2, command=command, name=cluster.name,
                          kind=cluster.kind)
    server = getattr(getattr(cluster.api, "configuration", None), "host", None) or "?"
    silent = _silence(cluster.api)
    if silent is not None:      # connect() could not ask it whether it is a lab: say so, not "another cluster"
        raise LabkitError("target.not_answering", exit_code=1, command=command, name=cluster.name,
                          server=server, error=silent)
    raise LabkitError("target.not_a_lab", exit_code=2, command=command, name=cluster.name, server=server)


def _silence(api) -> str | None:
    """None when the cluster's API answers ``GET /version`` (any HTTP status), else why not, short
    (``Connection refused``: urllib3 wraps the OS error in two layers of connection details)."""
    from kubernetes.client.exceptions import ApiException

    from ..nodes import api_get

    try:
        api_get(api, "/version", timeout=5)
    except ApiException as exc:
        if exc.status:
            return None                 # it answered (401, 403, ...): a server is there
        return _short(str(exc.reason))  # status 0: the client's own failure (TLS)
    except Exception as exc:  # noqa: BLE001 - refused, timed out, no such host: the server did not answer
        return _short(str(getattr(exc, "reason", None) or exc))
    return None


def _short(text: str) -> str:
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    return (errno.group(1) if errno else text.rsplit(": ", 1)[-1]).strip() or "?"
