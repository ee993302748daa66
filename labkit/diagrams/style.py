"""Colours, type sizes and the pieces every picture shares: its title, its legend.

Three layers, three colours, as in the chapter's own pictures: blue for the pod network, green for
Services, red for policies; the traced path is orange. Sizes are in the drawing's units; the layer
views are :data:`WIDTH` units wide: in JupyterLab at 1,280 px with the file browser open the output
area is about 850 px wide, where the smallest text (:data:`SMALL`, 14) is still 12 px; on a
1,280 × 720 slide the pictures are enlarged, never shrunk.

A legend item shows the mark exactly as the picture draws it (a line of the same colour, width and
dashes, an arrowhead, a box, a cell of the matrix), so two marks of a legend cannot look alike.
"""
from __future__ import annotations

from .svg import Circle, Line, Rect, Scene, Text, fit, text_width

WIDTH = 1000
MARGIN = 20
TITLE = 24
HEAD = 18
TEXT = 15
SMALL = 14

BLUE, BLUE_FILL = "#1f5fbf", "#dce8fa"
GREEN, GREEN_FILL = "#23803a", "#ddf2e1"
RED, RED_FILL = "#c62828", "#fbe0e0"
GREY, NODE_FILL = "#555555", "#f1f1f1"
DEVICE_FILL = "#ffffff"
HIGHLIGHT = "#ff8f00"
MUTED = "#8a8a8a"
INK = "#222222"


def title(scene: Scene, text: str, size: float = TITLE) -> float:
    """The title, centred on top; returns the y below it."""
    g = scene.group("frame", None, "title")
    room = scene.width - 2 * MARGIN
    fitted = size
    while fitted > HEAD and text_width(text, fitted, True) > room:
        fitted -= 1
    g.add(Text(scene.width / 2, MARGIN + size, fit(text, fitted, room, True), fitted, anchor="middle", bold=True,
               cls="title"))
    return MARGIN + size * 1.6


def legend(scene: Scene, y: float, items: list[tuple[str, str]], heading: str, size: float = TEXT) -> float:
    """A legend row (wrapping) at ``y``: ``items`` are (mark, text); returns the y below it.

    Marks: ``line:<colour>[:dash][:arrow]``, ``box:<stroke>:<fill>``, ``ring``, ``cell:<colour>:<symbol>``.
    """
    g = scene.group("legend", "legend", "legend")
    x, row_h, sample = MARGIN, size * 2.0, size * 3
    g.add(Text(x, y + size, heading, size, bold=True, cls="legend-heading"))
    x += text_width(heading, size, True) + size
    for mark, text in items:
        need = sample + 8 + text_width(text, size) + size * 1.5
        if x + need > scene.width - MARGIN:
            x, y = MARGIN, y + row_h
        _mark(g, mark, x, y + size * 0.65, sample, size)
        g.add(Text(x + sample + 8, y + size, text, size, cls="legend-text"))
        x += need
    return y + row_h


def _mark(g, mark: str, x: float, cy: float, w: float, size: float) -> None:
    kind, *rest = mark.split(":")
    if kind == "line":
        colour = rest[0]
        dash = "8 5" if "dash" in rest else None
        width = 4.0 if "thick" in rest else 2.5
        g.add(Line([(x, cy), (x + w, cy)], stroke=colour, width=width, dash=dash,
                   arrow=_arrow(colour) if "arrow" in rest else None))
    elif kind == "box":
        g.add(Rect(x, cy - size * 0.6, w, size * 1.2, fill=rest[1], stroke=rest[0], width=2.5 if "thick" in rest else 1.5,
                   rx=4))
    elif kind == "ring":
        g.add(Line([(x, cy), (x + w, cy)], stroke=BLUE, width=6))
        g.add(Circle(x + w / 2, cy, size * 0.45, "white", BLUE, 2.5))
    elif kind == "cell":
        g.add(Rect(x + w / 2 - size * 0.7, cy - size * 0.7, size * 1.4, size * 1.4, fill=rest[1], stroke=GREY, width=1, rx=2))


def _arrow(colour: str) -> str:
    return {GREEN: "arrow-green", RED: "arrow-red", BLUE: "arrow-blue", HIGHLIGHT: "arrow-hl"}.get(colour, "arrow-grey")


def arrow(colour: str) -> str:
    return _arrow(colour)


def no_entry(g, cx: float, cy: float, r: float = 9) -> None:
    """The chapter's "no entry" sign: a red disc with a white bar (drawn, so no font lacks it)."""
    g.add(Circle(cx, cy, r, RED, RED, 1))
    g.add(Rect(cx - r * 0.65, cy - r * 0.2, r * 1.3, r * 0.4, fill="white", stroke="white", width=0.5, rx=1))
