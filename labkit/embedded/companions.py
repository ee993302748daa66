"""Companion labs: a second small lab, from a fixed list of presets, started for a lab's learners.

Notebooks compare the learner's lab with another shape (the ``bridge`` and ``flannel`` flavors,
kube-proxy's nftables mode, a BPF service proxy, no policy enforcer). Building a lab needs root;
a learner's kernel is not root. So the running lab's daemon (root) starts and stops these
*companion* labs on request (``labkit.apiserver.companions``), and root callers call this module
directly. Nothing a caller sends reaches a command line: a preset name is looked up in ``PRESETS``
and the companion's name is derived from the lab's (``<lab[:8]><suffix>``: ``kubenetbr``).

A companion is an ordinary lab with its own name (``labkit down --name kubenetbr`` removes it).
Its parent lists it in ``/run/labkit/<lab>/companions`` *before* building it, so the parent's
sweep (``labkit down``, also after a crash, and a class's teardown) removes it too. At most
``MAX_RUNNING`` companions of one lab run at once; starting a running one changes nothing.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput, LabkitError
from .paths import flocked, kubeconfig_file, lab_dir, state_file

MAX_RUNNING = 3
LIST_FILE = "companions"


@dataclass(frozen=True)
class Preset:
    suffix: str             # appended to the lab's name (at most 8 characters of it)
    values: dict            # LabSpec fields
    en: str
    fr: str


PRESETS: dict[str, Preset] = {
    "bridge": Preset("br", {"cni": "bridge", "nodes": 2},
                     "the bridge CNI flavor, 2 nodes", "la variante de CNI bridge, 2 nœuds"),
    "flannel": Preset("fl", {"cni": "flannel", "nodes": 2},
                      "the flannel CNI flavor (VXLAN), 2 nodes", "la variante de CNI flannel (VXLAN), 2 nœuds"),
    "nftables": Preset("nf", {"proxy_mode": "nftables", "nodes": 2},
                       "kube-proxy in nftables mode, 2 nodes", "kube-proxy en mode nftables, 2 nœuds"),
    "ebpf": Preset("eb", {"proxy_mode": "ebpf", "nodes": 2},
                   "a BPF socket load balancer instead of kube-proxy, 2 nodes",
                   "un répartiteur BPF au niveau des sockets à la place de kube-proxy, 2 nœuds"),
    "nopol": Preset("np", {"policy_controller": False, "nodes": 2},
                    "no NetworkPolicy enforcer, 2 nodes", "aucun contrôleur de NetworkPolicy, 2 nœuds"),
    "calico": Preset("ca", {"cni": "calico", "nodes": 2},
                     "the calico CNI flavor (BGP with BIRD), 2 nodes",
                     "la variante de CNI calico (BGP avec BIRD), 2 nœuds"),
}

MESSAGES = {
    "companion.unknown_preset": {
        "en": "no companion lab preset named {preset!r}: choose one of {choices}",
        "fr": "aucun préréglage de lab compagnon nommé {preset!r} : choisissez parmi {choices}",
    },
    "companion.nested": {
        "en": "{lab!r} is itself a companion lab of {parent!r}: ask {parent!r} for companion labs",
        "fr": "{lab!r} est lui-même un lab compagnon de {parent!r} : demandez les labs compagnons à {parent!r}",
    },
    "companion.too_many": {
        "en": "lab {lab!r} already runs {count} companion labs ({names}), the most it may: "
              "stop one first (labkit companion down PRESET)",
        "fr": "le lab {lab!r} fait déjà tourner {count} labs compagnons ({names}), le maximum : "
              "arrêtez-en un d'abord (labkit companion down PRÉRÉGLAGE)",
    },
    "companion.name_taken": {
        "en": "a lab named {name!r} exists and is not a companion of {lab!r}: remove it (sudo labkit down --name {name})",
        "fr": "un lab nommé {name!r} existe et n'est pas un compagnon de {lab!r} : supprimez-le (sudo labkit down --name {name})",
    },
    "companion.no_lab": {
        "en": "no lab named {lab!r} runs on this machine: companion labs are started by a running lab",
        "fr": "aucun lab nommé {lab!r} ne tourne sur cette machine : ce sont les labs en marche qui démarrent les labs compagnons",
    },
}


# --- pure ------------------------------------------------------------------------------------------
def preset(name: object) -> Preset:
    """The preset called ``name`` (BadInput for anything else, whatever its type)."""
    if not isinstance(name, str) or name not in PRESETS:
        raise BadInput("companion.unknown_preset", preset=str(name)[:40], choices=", ".join(PRESETS))
    return PRESETS[name]


def companion_name(lab: str, name: str) -> str:
    """The companion's lab name: the lab's first 8 characters and the preset's suffix."""
    return lab[:8] + preset(name).suffix


def preset_of(lab: str, companion: str) -> str | None:
    """Which preset of ``lab`` is called ``companion`` (None: none of them)."""
    return next((p for p in PRESETS if companion_name(lab, p) == companion), None)


# --- I/O (root) ------------------------------------------------------------------------------------
def listed(lab: str) -> list[str]:
    """The companions lab ``lab`` ever started (and not stopped): what its sweep removes."""
    try:
        return sorted({n for n in (lab_dir(lab) / LIST_FILE).read_text().split() if n})
    except OSError:
        return []


def _write_list(lab: str, names: set[str]) -> None:
    path = lab_dir(lab) / LIST_FILE
    tmp = path.with_name(f".{LIST_FILE}.tmp")
    tmp.write_text("".join(f"{n}\n" for n in sorted(names)))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def parent_of(name: str) -> str | None:
    """The lab whose companion ``name`` is (found by the parents' lists)."""
    root = lab_dir(name).parent
    if not root.is_dir():
        return None
    return next((d.name for d in sorted(root.iterdir()) if d.name != name and name in listed(d.name)), None)


@contextlib.contextmanager
def _locked(lab: str) -> Iterator[None]:
    """One companion change at a time per lab (the daemon and a root caller may race)."""
    with flocked(os.open(lab_dir(lab) / ".companions.lock", os.O_RDWR | os.O_CREAT, 0o600)):
        yield


def _check_parent(lab: str) -> None:
    from . import lifecycle

    lifecycle.require_root()
    if not state_file(lab).exists():
        raise LabkitError("companion.no_lab", lab=lab)
    parent = parent_of(lab)
    if parent is not None:
        raise BadInput("companion.nested", lab=lab, parent=parent)


def _copy_beside_parents(lab: str, name: str) -> None:
    """The companion's kubeconfig for every user who holds a copy of the parent's (``sudo make lab``'s
    user, a class's learner): beside that copy, theirs, mode 0600, listed so that the sweep removes it."""
    from .userconfig import COPIES, copy_beside

    try:
        lines = (lab_dir(lab) / COPIES).read_text().splitlines()
    except OSError:
        return
    for line in lines:
        parent_copy = Path(line)
        try:
            if parent_copy.stat().st_uid != 0:
                copy_beside(name, parent_copy)
        except OSError:
            continue


def describe(lab: str, name: str, kind: str, running: bool, started: bool = False) -> dict:
    """What a caller learns of one companion (the kubeconfig is added by the API for its client)."""
    from .state import LabState

    info: dict = {"preset": kind, "name": name, "lab": lab, "running": running, "started": started,
                  "description": {"en": PRESETS[kind].en, "fr": PRESETS[kind].fr}}
    state = LabState.load(name) if running else None
    if state is not None:
        spec = state.spec
        info.update(nodes=spec.nodes, cni=spec.cni, proxyMode=spec.proxy_mode,
                    policyController=spec.policy_controller, nodeCIDR=spec.node_cidr,
                    podCIDR=spec.pod_cidr, serviceCIDR=spec.service_cidr)
    return info


def status(lab: str) -> list[dict]:
    """Every preset of lab ``lab``: its companion's name and whether it runs."""
    from .control import daemon_alive

    if not state_file(lab).exists():
        raise LabkitError("companion.no_lab", lab=lab)
    mine = set(listed(lab))
    return [describe(lab, n, kind, n in mine and daemon_alive(n))
            for kind in PRESETS for n in [companion_name(lab, kind)]]


def start(lab: str, kind: str) -> dict:
    """Make sure the companion ``kind`` of lab ``lab`` runs (idempotent); returns ``describe``."""
    from . import lifecycle
    from .topology import LabSpec

    chosen = preset(kind)
    _check_parent(lab)
    name = companion_name(lab, kind)
    with _locked(lab):
        mine = set(listed(lab))
        if name not in mine and lifecycle.exists(name):
            raise LabkitError("companion.name_taken", name=name, lab=lab)
        running = sorted(n for n in mine if n != name and lifecycle.daemon_alive(n))
        if name not in running and len(running) >= MAX_RUNNING:
            raise BadInput("companion.too_many", lab=lab, count=len(running), names=", ".join(running))
        _write_list(lab, mine | {name})          # listed first: a crash from here on is swept with the lab
        _, started = lifecycle.up(LabSpec(name=name, **chosen.values))
    _copy_beside_parents(lab, name)
    return describe(lab, name, kind, True, started)


def stop(lab: str, kind: str) -> dict:
    """Remove the companion ``kind`` of lab ``lab`` (idempotent); returns ``describe``."""
    from . import lifecycle

    preset(kind)
    _check_parent(lab)
    name = companion_name(lab, kind)
    with _locked(lab):
        mine = set(listed(lab))
        if name not in mine:
            if lifecycle.exists(name):
                raise LabkitError("companion.name_taken", name=name, lab=lab)
            return describe(lab, name, kind, False)
        lifecycle.down(name)
        _write_list(lab, mine - {name})
    return describe(lab, name, kind, False)


def kubeconfig_text(name: str) -> str:
    return kubeconfig_file(name).read_text()
