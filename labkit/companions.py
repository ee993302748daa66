"""``labkit.companion(preset)``: a second small lab beside yours, for a kernel that is root or not.

The presets are fixed (``labkit.embedded.companions.PRESETS``: ``bridge``, ``flannel``,
``nftables``, ``ebpf``, ``nopol``). As root, the lab is built here; otherwise the running lab's
daemon builds it (``PUT /labkit/v1/companions/<preset>`` with the lab's token) and hands over its
kubeconfig, kept as ``~/.kube/labkit-<companion>.yaml`` (mode 0600) so that ``labkit.connect``,
``kubectl`` and ``labkit draw`` reach it. ``labkit down`` of your lab removes its companions.
"""
from __future__ import annotations

import json
import os
from typing import Any

from . import i18n
from .embedded import companions as presets
from .errors import BadInput, LabkitError

MESSAGES = {
    "companion.up": {
        "en": "companion lab {name} ({description}) runs beside {lab}: nodes {nodes}, pods {pods}, services {services}",
        "fr": "le lab compagnon {name} ({description}) tourne à côté de {lab} : nœuds {nodes}, pods {pods}, services {services}",
    },
    "companion.down": {
        "en": "companion lab {name} of {lab} removed",
        "fr": "lab compagnon {name} de {lab} supprimé",
    },
    "companion.refused": {
        "en": "lab {lab!r} did not {action} its companion lab {preset!r}: {error}",
        "fr": "le lab {lab!r} n'a pas pu {action_fr} son lab compagnon {preset!r} : {error}",
    },
    "companion.not_embedded": {
        "en": "companion labs come from a running embedded lab, and {name!r} is not one: pass lab=... (--name)",
        "fr": "les labs compagnons viennent d'un lab embarqué en marche, et {name!r} n'en est pas un : "
              "passez lab=... (--name)",
    },
}

_VERBS = {"PUT": ("start", "démarrer"), "DELETE": ("stop", "arrêter"), "GET": ("list", "lister")}


def parent_lab(lab: str | None = None) -> str:
    """The lab that starts the companions: ``lab``, else ``LABKIT_LAB``, else the one ``connect()`` finds."""
    if lab:
        return lab
    if os.environ.get("LABKIT_LAB"):
        return os.environ["LABKIT_LAB"]
    from .cluster import connect

    with connect() as cluster:
        if cluster.kind != "embedded" or not cluster.lab:
            raise BadInput("companion.not_embedded", name=cluster.name, kind=cluster.kind)
        return cluster.lab


def _ask(lab: str, method: str, preset: str = "") -> Any:
    """One request to lab ``lab``'s companion endpoint, with this user's copy of its kubeconfig."""
    from .apiserver.companions import COMPANIONS_PATH
    from .cluster import connect
    from .nodes import _status_message

    path = f"{COMPANIONS_PATH}/{preset}" if preset else COMPANIONS_PATH
    with connect(lab=lab) as cluster:
        params = cluster.api.param_serialize(method, path, auth_settings=["BearerToken"])
        resp = cluster.api.call_api(*params, _request_timeout=180)
        resp.read()
    if resp.status != 200:
        verb, verb_fr = _VERBS[method]
        raise LabkitError("companion.refused", exit_code=2 if resp.status < 500 else 1, lab=lab,
                          action=verb, action_fr=verb_fr, preset=preset or "*",
                          error=_status_message(resp.data))
    return json.loads(resp.data)


def _keep_kubeconfig(info: dict) -> None:
    """This user's copy of the companion's kubeconfig (the daemon may have written it already)."""
    from .embedded.userconfig import user_kubeconfig

    text = info.get("kubeconfig")
    target = user_kubeconfig(info["name"])
    if not text or (target.exists() and target.read_text() == text):
        return
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, target)


def _drop_kubeconfig(name: str) -> None:
    from .embedded.userconfig import user_kubeconfig

    target = user_kubeconfig(name)
    if target.exists() and target.stat().st_uid == os.geteuid():
        target.unlink()


def change(preset: str, lab: str | None = None, stop: bool = False) -> dict:
    """Start (or with ``stop``, remove) the companion ``preset`` of the lab; what it is now."""
    presets.preset(preset)                      # BadInput, with the choices, before anything
    parent = parent_lab(lab)
    if os.geteuid() == 0:
        return presets.stop(parent, preset) if stop else presets.start(parent, preset)
    info = _ask(parent, "DELETE" if stop else "PUT", preset)
    if stop:
        _drop_kubeconfig(info["name"])
    else:
        _keep_kubeconfig(info)
    return info


def status(lab: str | None = None) -> list[dict]:
    """Every preset of the lab: its companion's name, and whether it runs."""
    parent = parent_lab(lab)
    return presets.status(parent) if os.geteuid() == 0 else _ask(parent, "GET")


def describe(info: dict, lang: str | None = None) -> str:
    """One line saying what ``change`` did."""
    lang = lang or i18n.get_language()
    if not info["running"]:
        return i18n.t("companion.down", lang, name=info["name"], lab=info["lab"])
    return i18n.t("companion.up", lang, name=info["name"], lab=info["lab"],
                  description=info["description"]["fr" if lang == "fr" else "en"],
                  nodes=info.get("nodeCIDR", "-"), pods=info.get("podCIDR", "-"),
                  services=info.get("serviceCIDR", "-"))


def companion(preset: str, lab: str | None = None, *, stop: bool = False, quiet: bool = False) -> Any:
    """A second small lab beside yours, from a fixed list of presets, connected (a ``Cluster``).

    ``preset``: ``bridge``, ``flannel`` (2 nodes of that CNI flavor), ``nftables`` (kube-proxy's
    nftables mode), ``ebpf`` (a BPF socket load balancer instead of kube-proxy), ``nopol`` (no
    NetworkPolicy enforcer). ``lab``: yours (default ``LABKIT_LAB``, else the running lab).
    Starting one that runs changes nothing; ``stop=True`` removes it (and returns None). No root
    needed: your lab's daemon builds it. At most three run at once per lab.
    """
    info = change(preset, lab, stop)
    if not quiet:
        print(describe(info))
    if stop:
        return None
    from .cluster import connect

    return connect(lab=info["name"])
