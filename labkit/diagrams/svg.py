"""A tiny SVG scene: boxes, texts and lines at coordinates labkit decided, written deterministically.

The diagrams are laid out by labkit (see :mod:`.layout`), not by graphviz: positions are a pure
function of the cluster (and of where the previous drawing put each pod), so adding a pod moves no
other element and an unchanged cluster redraws byte for byte. The SVG carries a ``viewBox`` and
``width="100%"``: it scales to its container (notebook output, slide, browser) instead of forcing
a pixel width. Every element that stands for a cluster object is a group with an ``id`` (the same
ids :mod:`labkit.trace` marks), a ``class`` (its kind, for the live view's hover and layer toggles),
``data-*`` facts and a ``<title>`` (the tooltip with the details that are not printed).

Text boxes are estimated from the font size and the characters (:func:`text_width`, from DejaVu
Sans / Verdana advance widths, the widest of the fonts the stack names): layouts use it to fit
labels, the geometry tests use it to prove that no label is crossed or cut.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape as _escape

FONT_STACK = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"

# advance widths in em, DejaVu Sans (Verdana is within a few percent); unknown characters count wide
_NARROW = {c: 0.32 for c in "ijl.,:;'|!`()[]{} "}
_NARROW.update({"f": 0.36, "t": 0.40, "r": 0.42, "I": 0.30, "1": 0.64, "-": 0.37, "/": 0.34, "\u202f": 0.2})
_WIDE = {c: 0.98 for c in "mwMW%@"}
_WIDE.update({c: 0.78 for c in "ABCDEFGHJKLNOPQRSTUVXYZ&"})
_WIDE.update({"→": 0.84, "×": 0.84, "⇐": 0.84, "⇒": 0.84, "…": 1.0, "✕": 0.84, "✓": 0.84, "⛔": 1.0, "·": 0.32})
BOLD_FACTOR = 1.1


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A conservative width of ``text`` at ``size`` (user units) in the font stack."""
    em = sum(_NARROW.get(c, _WIDE.get(c, 0.66)) for c in text)
    return em * size * (BOLD_FACTOR if bold else 1.0)


def fit(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` cut (with an ellipsis) to fit ``width``; the full text belongs in a tooltip."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip("…") + "…"           # a name already shortened keeps one ellipsis


def fit_middle(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` cut in the middle to fit ``width``, keeping its end: pods of one Deployment differ
    only at the end of their names (``frontend-deployment-…x2k4p``), so the end is what tells them
    apart; the full name belongs in a tooltip."""
    if text_width(text, size, bold) <= width:
        return text
    tail = text.rsplit("-", 1)[1] if "-" in text[1:] else ""
    tail = tail.lstrip("…")                  # ``web-…x2k8p``: its tail is ``x2k8p``, one ellipsis in all
    tail = tail if 0 < len(tail) <= 8 else text[-6:]
    head = text[:len(text) - len(tail)].rstrip("…")
    while head and text_width(head + "…" + tail, size, bold) > width:
        head = head[:-1]
    if not head:
        return fit(text, size, width, bold)
    return head + "…" + tail


def esc(text: str) -> str:
    return _escape(str(text), quote=True)


def num(v: float) -> str:
    """Coordinates with one decimal at most: stable bytes, small files."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


@dataclass
class Text:
    x: float
    y: float                      # the baseline
    text: str
    size: float
    anchor: str = "start"         # start | middle | end
    bold: bool = False
    color: str = "#222222"
    cls: str = "label"

    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) that the glyphs stay inside (ascender 0.95 em, descender 0.25 em)."""
        w = text_width(self.text, self.size, self.bold)
        x0 = self.x - (w / 2 if self.anchor == "middle" else w if self.anchor == "end" else 0)
        return (x0, self.y - 0.95 * self.size, x0 + w, self.y + 0.25 * self.size)

    def svg(self) -> str:
        weight = ' font-weight="bold"' if self.bold else ""
        anchor = f' text-anchor="{self.anchor}"' if self.anchor != "start" else ""
        return (f'<text class="{self.cls}" x="{num(self.x)}" y="{num(self.y)}" font-size="{num(self.size)}"'
                f'{anchor}{weight} fill="{self.color}">{esc(self.text)}</text>')


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str = "none"
    stroke: str = "#555555"
    width: float = 1.5
    rx: float = 8
    dash: str | None = None

    def svg(self) -> str:
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        return (f'<rect x="{num(self.x)}" y="{num(self.y)}" width="{num(self.w)}" height="{num(self.h)}" '
                f'rx="{num(self.rx)}" fill="{self.fill}" stroke="{self.stroke}" stroke-width="{num(self.width)}"{dash}/>')


@dataclass
class Line:
    """A polyline (``points``), optionally closed, with an arrow at the end."""

    points: list[tuple[float, float]]
    stroke: str = "#555555"
    width: float = 2.0
    dash: str | None = None
    arrow: str | None = None       # a marker id defined by the scene (see MARKERS)
    closed: bool = False
    rounded: float = 0.0           # corner radius of a closed rectangle-like ring

    def d(self) -> str:
        pts = self.points
        out = "M" + " L".join(f"{num(x)} {num(y)}" for x, y in pts)
        return out + (" Z" if self.closed else "")

    def svg(self) -> str:
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        arrow = f' marker-end="url(#{self.arrow})"' if self.arrow else ""
        return (f'<path class="edge" d="{self.d()}" fill="none" stroke="{self.stroke}" '
                f'stroke-width="{num(self.width)}" stroke-linejoin="round"{dash}{arrow}/>')


@dataclass
class Circle:
    x: float
    y: float
    r: float
    fill: str
    stroke: str
    width: float = 2.0

    def svg(self) -> str:
        return (f'<circle cx="{num(self.x)}" cy="{num(self.y)}" r="{num(self.r)}" fill="{self.fill}" '
                f'stroke="{self.stroke}" stroke-width="{num(self.width)}"/>')


@dataclass
class Group:
    """Elements that stand for one object: ``id``, ``cls``, ``data`` attributes, a tooltip."""

    id: str | None
    cls: str
    items: list = field(default_factory=list)
    tip: str = ""
    data: dict[str, str] = field(default_factory=dict)

    def add(self, item):
        self.items.append(item)
        return item

    def svg(self) -> str:
        attrs = f' id="{esc(self.id)}"' if self.id else ""
        attrs += "".join(f' data-{k}="{esc(v)}"' for k, v in sorted(self.data.items()))
        tip = f"<title>{esc(self.tip)}</title>" if self.tip else ""
        return f'<g class="{self.cls}"{attrs}>{tip}' + "".join(i.svg() for i in self.items) + "</g>"


MARKERS = {
    "arrow-green": "#23803a", "arrow-red": "#c62828", "arrow-grey": "#555555", "arrow-blue": "#1f5fbf",
    "arrow-hl": "#ff8f00",
}


class Scene:
    """Layers (``<g class="layer-…">``) of groups, in drawing order, on a ``width`` × ``height`` canvas."""

    def __init__(self, name: str, width: float, height: float = 0.0, title: str = "") -> None:
        self.name, self.width, self.height, self.title = name, width, height, title
        self.layers: dict[str, list[Group]] = {}
        self.anchors: dict[str, tuple[float, float, float, float]] = {}   # id -> (x, y, w, h) as drawn

    def anchor(self, gid: str, x: float, y: float, w: float = 0.0, h: float = 0.0) -> None:
        """Record where the element ``gid`` was drawn, for an overlay drawn on top (see ``pods.Overlay``)."""
        self.anchors[gid] = (x, y, w, h)

    def group(self, layer: str, gid: str | None, cls: str, tip: str = "", **data: str) -> Group:
        g = Group(gid, cls, tip=tip, data={k.replace("_", "-"): str(v) for k, v in data.items() if v is not None})
        self.layers.setdefault(layer, []).append(g)
        return g

    def groups(self):
        for layer in self.layers.values():
            yield from layer

    def texts(self) -> list[Text]:
        return [i for g in self.groups() for i in g.items if isinstance(i, Text)]

    def svg(self) -> str:
        w, h = num(self.width), num(self.height)
        defs = "".join(
            f'<marker id="{m}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" '
            f'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="{c}"/></marker>'
            for m, c in MARKERS.items())
        body = "".join(f'<g class="layer layer-{esc(k)}">' + "".join(g.svg() for g in v) + "</g>"
                       for k, v in self.layers.items())
        title = f"<title>{esc(self.title)}</title>" if self.title else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<svg xmlns="http://www.w3.org/2000/svg" class="labkit-diagram" data-diagram="{esc(self.name)}" '
                f'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMin meet" '
                f'font-family="{FONT_STACK}" style="max-width:100%;height:auto;background:white">'
                f"{title}<defs>{defs}</defs>"
                f'<rect class="background" x="0" y="0" width="{w}" height="{h}" fill="white"/>'
                f"{body}</svg>\n")


class Drawing:
    """What the diagram builders return: the SVG text, shown by Jupyter, written by :func:`save`."""

    def __init__(self, scene: Scene, layout=None) -> None:
        self.scene = scene
        self.layout = layout          # the slots the live view hands back to keep pods in place
        self.svg = scene.svg()

    @property
    def source(self) -> str:
        return self.svg

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        """Inline in the output area (JupyterLab prefers HTML): the drawing takes the area's width,
        where an ``<img>`` of the SVG would be sized by the browser's default for images."""
        body = self.svg.split("?>", 1)[1].strip() if self.svg.startswith("<?xml") else self.svg
        return f'<div class="labkit-drawing" style="width:100%;max-width:100%;overflow-x:auto">{body}</div>'

    def __str__(self) -> str:
        return self.svg
