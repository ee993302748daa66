"""Geometry of a drawn SVG: text boxes (font size × characters, conservatively) against edges and each other.

The text widths come from :func:`labkit.diagrams.svg.text_width` (DejaVu Sans / Verdana advance widths,
the widest fonts of the stack); the edges are the ``<path class="edge">`` polylines as written.
"""
from __future__ import annotations

from dataclasses import dataclass

from labkit.diagrams.svg import text_width

from diagram_helpers import NS, parse


@dataclass
class Label:
    text: str
    size: float
    box: tuple[float, float, float, float]


def labels(svg: str) -> list[Label]:
    out = []
    for t in parse(svg).iter(f"{NS}text"):
        size = float(t.get("font-size"))
        x, y = float(t.get("x")), float(t.get("y"))
        w = text_width(t.text or "", size, t.get("font-weight") == "bold")
        anchor = t.get("text-anchor", "start")
        x0 = x - (w / 2 if anchor == "middle" else w if anchor == "end" else 0)
        out.append(Label(t.text or "", size, (x0, y - 0.95 * size, x0 + w, y + 0.25 * size)))
    return out


def segments(svg: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    out = []
    for p in parse(svg).iter(f"{NS}path"):
        if p.get("class") != "edge":
            continue
        pts, closed = [], False
        for token in p.get("d").replace("M", " M ").replace("L", " L ").replace("Z", " Z ").split("M")[1:]:
            for part in token.split("L"):
                part = part.strip()
                if part.endswith("Z"):
                    closed, part = True, part[:-1].strip()
                if part:
                    x, y = part.split()
                    pts.append((float(x), float(y)))
        if closed:
            pts.append(pts[0])
        out += list(zip(pts, pts[1:]))
    return out


def view_box(svg: str) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in parse(svg).get("viewBox").split())


def _seg_hits_box(a, b, box, pad=1.0) -> bool:
    """Liang-Barsky clipping: does segment a-b pass through the (padded) box?"""
    x0, y0, x1, y1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    dx, dy = b[0] - a[0], b[1] - a[1]
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return False
    return True


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def problems(svg: str) -> list[str]:
    """Every text outside the viewBox, crossed by an edge, or overlapping another text."""
    vx, vy, vw, vh = view_box(svg)
    found = []
    texts = labels(svg)
    for t in texts:
        x0, y0, x1, y1 = t.box
        if x0 < vx or y0 < vy or x1 > vx + vw or y1 > vy + vh:
            found.append(f"outside the viewBox: {t.text!r} {t.box}")
    for a, b in segments(svg):
        for t in texts:
            if _seg_hits_box(a, b, t.box):
                found.append(f"edge {a}->{b} crosses {t.text!r}")
    for i, t in enumerate(texts):
        for u in texts[i + 1:]:
            if _overlap(t.box, u.box):
                found.append(f"{t.text!r} overlaps {u.text!r}")
    return found


def smallest_font_px(svg: str, width_px: float) -> float:
    """The smallest text, in CSS pixels, when the drawing is shown ``width_px`` wide."""
    return min(t.size for t in labels(svg)) * width_px / view_box(svg)[2]
