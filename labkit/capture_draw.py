"""A capture drawn on the pod-network diagram: numbered capture points, and the addresses seen there.

Pure drawing: :func:`draw` takes a :class:`labkit.capture.Capture` (its rows, its snapshot, the
predicted trace of the connection) and returns the pod-network drawing with the path painted (the
endpoint that answered), a numbered badge on each interface where tcpdump saw the packet (a pod, a
host veth, the bridge, the VXLAN device, the node's uplink), and below the nodes one line per
packet: number, where, interface, direction, the addresses seen there, and what changed (DNAT,
un-DNAT, SNAT in orange; VXLAN's outer header). The request is blue, the reply green.
"""
from __future__ import annotations

from typing import Any

from . import i18n
from .diagrams import pods as pod_diagram
from .diagrams import style
from .diagrams.svg import Circle, Rect, Scene, Text, fit, text_width

MESSAGES = {
    "capture.draw_title": {"en": "Capture: {src} → {dst}, packets at each interface",
                           "fr": "Capture : {src} → {dst}, les paquets à chaque interface"},
    "capture.draw_heading": {"en": "What tcpdump saw, in time order (request in blue, reply in green, "
                                   "NAT in orange)",
                             "fr": "Ce que tcpdump a vu, dans l'ordre (requête en bleu, réponse en vert, "
                                   "NAT en orange)"},
    "capture.draw_row": {"en": "{where} · {ifname} · {dir}", "fr": "{where} · {ifname} · {dir}"},
    "capture.draw_nothing": {"en": "no packet of this connection was captured",
                             "fr": "aucun paquet de cette connexion n'a été capturé"},
}

BADGE_R = 10
ROW_H = style.SMALL + 8


def anchor_id(scene: Scene, where: str, ifname: str) -> str | None:
    """The diagram element where a packet was seen: the pod itself for its eth0, else the node's
    device (veth, bridge, vxlan, uplink) by name, else the node's router; None when not drawn."""
    if "/" in where:
        key = f"p/{where}"
        return key if key in scene.anchors else None
    for candidate in (pod_diagram.if_id(where, ifname), f"rt/{where}"):
        if candidate in scene.anchors:
            return candidate
    return None


def _badge_xy(anchor: tuple[float, float, float, float]) -> tuple[float, float]:
    x, y, w, h = anchor
    if w == 0:                                   # a point (a veth on the bus): just left of it
        return x - BADGE_R - 2, y
    return x + w - 2, y + 2                      # a box: its top-right corner


def overlay(capture: Any, lang: str | None):
    """The pod diagram's overlay (see ``labkit.diagrams.pods.Overlay``) for ``capture``."""
    def draw(scene: Scene, y: float) -> float:
        rows = capture.shown()
        points: dict[str, list[int]] = {}
        for n, row in enumerate(rows, start=1):
            eid = anchor_id(scene, row.seen.where, row.seen.ifname)
            if eid is not None:
                points.setdefault(eid, []).append(n)
        nat = {n for n, row in enumerate(rows, start=1) if any(k != "vxlan" for k, _ in row.notes)}
        for eid, numbers in points.items():
            bx, by = _badge_xy(scene.anchors[eid])
            g = scene.group("capture", f"capture/{eid}", "capture-point", tip=eid, numbers=",".join(map(str, numbers)))
            label = ",".join(map(str, numbers))
            w = max(2 * BADGE_R, text_width(label, style.SMALL - 2, True) + 10)
            colour = style.HIGHLIGHT if nat & set(numbers) else style.INK
            if w <= 2 * BADGE_R:
                g.add(Circle(bx, by, BADGE_R, colour, "white", 1.5))
            else:
                g.add(Rect(bx - w / 2, by - BADGE_R, w, 2 * BADGE_R, fill=colour, stroke="white", width=1.5,
                           rx=BADGE_R))
            g.add(Text(bx, by + 4.5, label, style.SMALL - 2, anchor="middle", bold=True, color="white",
                       cls="capture-number"))
        g = scene.group("capture", "capture/steps", "capture-steps")
        y += 30
        g.add(Text(style.MARGIN, y, i18n.t("capture.draw_heading", lang), style.TEXT, bold=True))
        if not rows:
            y += ROW_H
            g.add(Text(style.MARGIN, y, i18n.t("capture.draw_nothing", lang), style.SMALL, color=style.RED))
        cols = (style.MARGIN, style.MARGIN + 34, style.MARGIN + 300, style.MARGIN + 640)
        for n, row in enumerate(rows, start=1):
            s = row.seen
            y += ROW_H
            colour = style.HIGHLIGHT if n in nat else style.BLUE if row.forward else style.GREEN
            place = s.where if "/" in s.where else pod_diagram.short(capture.snapshot, s.where)
            where = i18n.t("capture.draw_row", lang, where=place, ifname=s.ifname,
                           dir=i18n.t(f"capture.dir.{s.direction}", lang))
            step = scene.group("capture", f"capture/step/{n}", "capture-step", src=s.src, dst=s.dst, where=s.where,
                               ifname=s.ifname, nat="1" if n in nat else "0")
            step.add(Text(cols[0], y, f"{n}.", style.SMALL, bold=True, color=colour))
            step.add(Text(cols[1], y, fit(where, style.SMALL, cols[2] - cols[1] - 8), style.SMALL))
            step.add(Text(cols[2], y, fit(f"{s.src} → {s.dst}  {s.flags}".rstrip(), style.SMALL, cols[3] - cols[2] - 8),
                          style.SMALL, bold=n in nat, color=colour))
            note, room = row.note_text(lang), style.WIDTH - style.MARGIN - cols[3]
            x = cols[3]
            if text_width(note, style.SMALL) > room:          # a long note (VXLAN's outer header): its own line
                y += ROW_H
                x, room = cols[2], style.WIDTH - style.MARGIN - cols[2]
            step.add(Text(x, y, fit(note, style.SMALL, room), style.SMALL,
                          color=style.HIGHLIGHT if n in nat else style.GREY))
        return y + 8
    return draw


def draw(capture: Any, lang: str | None = None):
    """The pod-network diagram of ``capture.snapshot`` with the captured path drawn on it."""
    from .trace import path_highlight

    predicted = getattr(capture, "predicted", None)
    endpoint = None
    if capture.answer:
        endpoint = f"{capture.answer.get('pod_ip')}:{capture.answer.get('port')}"
    highlight = path_highlight(predicted, endpoint) if predicted is not None else None
    title = i18n.t("capture.draw_title", lang, src=capture.source, dst=capture.destination)
    return pod_diagram.pod_network(capture.snapshot, lang, highlight=highlight, title=title,
                                   overlay=overlay(capture, lang))
