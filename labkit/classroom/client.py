"""A learner's side of the class service: ``labkit reset`` from a learner's server or kernel.

The learner is not root, so their lab is reset by the class service: the request carries their
server's hub token (``JUPYTERHUB_API_TOKEN``), which identifies them; the service resets that
learner's lab and nobody else's.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from .. import i18n
from ..errors import BadInput, LabkitError

RESET_TIMEOUT = 120.0


def in_class() -> bool:
    return os.geteuid() != 0 and bool(os.environ.get("LABKIT_CLASS_SERVICE")) \
        and bool(os.environ.get("JUPYTERHUB_API_TOKEN"))


def check_own(asked: str, default: str) -> None:
    """``labkit reset --name X`` in a class: the service resets the learner's own lab whatever X
    says, so another name is refused (it used to reset one's own lab, a typo wiping one's work)."""
    own = os.environ.get("LABKIT_LAB", "")
    if asked not in (default, own):
        raise BadInput("class.reset_not_yours", asked=asked, own=own)


# what connecting to a learner's own lab says when the lab is down (advice for whoever runs the lab)
LAB_DOWN = frozenset({"lab.not_running", "cluster.api_unreachable", "cluster.api_failed",
                      "cluster.lab_kubeconfig_unreadable", "cluster.no_kubeconfig", "target.not_answering"})


def check_status_name(asked: str | None) -> None:
    """``labkit status --name X`` in a class: a learner sees their own lab and its companions only
    (another's kubeconfig is not theirs to read; "start it with sudo" was advice they cannot follow)."""
    from .roster import lab_names

    own = os.environ.get("LABKIT_LAB", "")
    if asked and own and asked not in lab_names(own):
        raise BadInput("class.status_not_yours", asked=asked, own=own)


def own_lab_down(error: LabkitError, asked: str | None) -> LabkitError:
    """A learner's own lab that does not answer: what *they* can do (``labkit reset``, which the class
    service runs as root and which rebuilds a lab that is down), not ``labkit up`` or sudo."""
    own = os.environ.get("LABKIT_LAB", "")
    # with the daemon gone, the learner's KUBECONFIG names a server that does not answer
    # (target.not_answering, in LAB_DOWN); a server that answers but is not recognised as a lab
    # (target.needs_embedded / target.not_a_lab) under the learner's own name is their lab too
    unrecognised = error.key in ("target.needs_embedded", "target.not_a_lab") and error.params.get("name") == own
    if own and asked in (None, own) and (error.key in LAB_DOWN or unrecognised):
        return LabkitError("class.own_lab_down", exit_code=error.exit_code, name=own)
    return error


def reset_own() -> str:
    """Ask the class service to reset this learner's lab; returns the lab's name."""
    url = os.environ["LABKIT_CLASS_SERVICE"].rstrip("/") + "/services/class/api/reset"
    req = urllib.request.Request(url, method="POST", data=b"",
                                 headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"})
    try:
        with urllib.request.urlopen(req, timeout=RESET_TIMEOUT) as answer:
            return str(json.loads(answer.read())["reset"])
    except urllib.error.HTTPError as exc:
        raise LabkitError("class.reset_failed", error=_said(exc)) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise LabkitError("class.reset_failed", error=str(exc)) from exc


def _said(answer: urllib.error.HTTPError) -> str:
    """What the service said in the learner's language (its JSON ``message``), else the HTTP status."""
    try:
        message = json.loads(answer.read())["message"]
        return str(message.get(i18n.get_language(), message["en"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"HTTP {answer.code}"
