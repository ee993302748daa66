"""The second pod network (Multus), read from what Multus writes on each pod, drawn on the pod layer.

A pod attached to a NetworkAttachmentDefinition carries the ``k8s.v1.cni.cncf.io/network-status``
annotation: one entry per interface, the cluster network's marked ``"default": true``, each other
one ``{"name": "<namespace>/<nad>", "interface": "net1", "ips": [...], "mac": ...}``
(k8snetworkplumbingwg network-attachment-definition-client ``pkg/apis/k8s.cni.cncf.io/v1/types.go``
``NetworkStatus``; the lab writes it as Multus does, see ``labkit.embedded.multus``). The pod layer
marks each attached pod with a purple tab on its right edge and draws, under the node network, one
purple bar per second network with the pods' ``net1`` addresses as a table (names, no edges: nothing
crosses the pods or the routes).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .. import i18n
from ..snapshot import ClusterSnapshot
from . import style
from .style import MARGIN, SMALL, TEXT
from .svg import Rect, Scene, Text, fit

STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
PURPLE, PURPLE_FILL = "#6a3d9a", "#ece3f5"
MAX_ROWS = 8
ROW_H = SMALL + 8

MESSAGES = {
    "diagrams.multus.bar": {"en": "second network {name} (Multus): {count} pods, interface {interfaces}",
                            "fr": "second réseau {name} (Multus) : {count} pods, interface {interfaces}"},
    "diagrams.multus.row": {"en": "{pod} on {node}: {interface} {ips}", "fr": "{pod} sur {node} : {interface} {ips}"},
    "diagrams.multus.more": {"en": "+{count} more pods (hover the bar)", "fr": "+{count} autres pods (survolez la barre)"},
    "diagrams.multus.tip": {"en": "{name}: a second network added by Multus (NetworkAttachmentDefinition); "
                                  "its traffic does not use the pod network's routes",
                            "fr": "{name} : un second réseau ajouté par Multus (NetworkAttachmentDefinition) ; "
                                  "son trafic n'emprunte pas les routes du réseau des pods"},
    "diagrams.multus.pod_tip": {"en": "second network {name}: {interface} {ips}",
                                "fr": "second réseau {name} : {interface} {ips}"},
    "diagrams.legend.multus": {"en": "pod with a second interface (Multus)",
                               "fr": "pod avec une seconde interface (Multus)"},
}


@dataclass(frozen=True)
class Attachment:
    pod: str           # namespace/name
    node: str
    network: str       # namespace/name of the NetworkAttachmentDefinition
    interface: str     # net1, net2...
    ips: tuple[str, ...]


def attachments(snapshot: ClusterSnapshot) -> list[Attachment]:
    """Every non-default interface listed in the pods' network-status annotations, by network then pod."""
    out = []
    for p in snapshot.pods:
        meta = p.get("metadata") or {}
        text = (meta.get("annotations") or {}).get(STATUS_ANNOTATION)
        if not text:
            continue
        try:
            entries = json.loads(text)
        except ValueError:
            continue
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        node = (p.get("spec") or {}).get("nodeName") or "?"
        for e in entries if isinstance(entries, list) else []:
            if isinstance(e, dict) and not e.get("default") and e.get("interface"):
                out.append(Attachment(key, node, str(e.get("name") or "?"), str(e["interface"]),
                                      tuple(str(i) for i in e.get("ips") or ())))
    return sorted(out, key=lambda a: (a.network, a.pod, a.interface))


def by_pod(found: list[Attachment]) -> dict[str, list[Attachment]]:
    out: dict[str, list[Attachment]] = {}
    for a in found:
        out.setdefault(a.pod, []).append(a)
    return out


def pod_tip(found: list[Attachment], lang: str | None) -> str:
    return "\n".join(i18n.t("diagrams.multus.pod_tip", lang, name=a.network, interface=a.interface,
                            ips=", ".join(a.ips) or "-") for a in found)


def mark_pod(scene: Scene, pod_key: str, cell, found: list[Attachment], lang: str | None) -> None:
    """A purple tab on the right edge of a pod's box (its second interface; details on hover)."""
    g = scene.group("pods", f"multus/{pod_key}", "multus-pod", tip=pod_tip(found, lang))
    g.add(Rect(cell.x + cell.w - 9, cell.y + 3, 7, cell.h - 6, fill=PURPLE, stroke=PURPLE, width=1, rx=2))


def short_node(node: str, prefix: str) -> str:
    return node[len(prefix):] if prefix and node.startswith(prefix) else node


def draw_networks(scene: Scene, snapshot: ClusterSnapshot, found: list[Attachment], top: float,
                  lang: str | None) -> float:
    """One bar per second network under ``top`` with its pods' addresses; returns the y below."""
    y = top
    networks: dict[str, list[Attachment]] = {}
    for a in found:
        networks.setdefault(a.network, []).append(a)
    width = style.WIDTH - 2 * MARGIN
    for name, members in networks.items():
        y += 16
        interfaces = ", ".join(sorted({a.interface for a in members}))
        g = scene.group("pods", f"net2/{name}", "network2", tip="\n".join(
            [i18n.t("diagrams.multus.tip", lang, name=name)]
            + [f"{a.pod} {a.interface} {', '.join(a.ips)}" for a in members]))
        g.add(Rect(MARGIN, y, width, 34, fill=PURPLE_FILL, stroke=PURPLE, width=2.5, rx=6))
        label = i18n.t("diagrams.multus.bar", lang, name=name, count=len({a.pod for a in members}),
                       interfaces=interfaces)
        g.add(Text(style.WIDTH / 2, y + 23, fit(label, TEXT, width - 16), TEXT, anchor="middle", color=PURPLE,
                   bold=True))
        y += 34 + 6
        prefix = f"{snapshot.name}-"
        for a in members[:MAX_ROWS]:
            y += ROW_H
            row = i18n.t("diagrams.multus.row", lang, pod=a.pod, node=short_node(a.node, prefix),
                         interface=a.interface, ips=", ".join(a.ips) or "-")
            g.add(Text(MARGIN + 16, y, fit(row, SMALL, width - 32), SMALL, color=style.INK))
        if len(members) > MAX_ROWS:
            y += ROW_H
            g.add(Text(MARGIN + 16, y, i18n.t("diagrams.multus.more", lang, count=len(members) - MAX_ROWS), SMALL,
                       color=style.MUTED))
        y += 6
    return y
