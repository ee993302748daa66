"""From a drawing to bytes: SVG for slides and notebooks, PNG to look at.

The builders return a :class:`~.svg.Drawing` (its SVG is made by labkit, no layout engine runs);
PNG is the SVG rasterised by librsvg's ``rsvg-convert`` (Debian ``librsvg2-bin``); a missing
``rsvg-convert`` becomes a ``LabkitError`` that says what to install, not a traceback.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import BadInput, LabkitError
from .svg import Drawing

FORMATS = ("svg", "png")


def to_svg(drawing: Drawing) -> str:
    """The SVG text of ``drawing`` (UTF-8), ready for a slide, a notebook or ``images/``."""
    return drawing.svg


def to_png(drawing: Drawing, width: int = 1600) -> bytes:
    exe = shutil.which("rsvg-convert")
    if exe is None:
        raise LabkitError("diagrams.error.no_rsvg")
    done = subprocess.run([exe, "-w", str(width), "-f", "png"], input=drawing.svg.encode("utf-8"),
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise LabkitError("diagrams.error.png_failed", reason=reason[0] if reason else done.returncode)
    return done.stdout


def save(drawing: Drawing, path: str | Path) -> Path:
    """Write ``drawing`` as SVG or PNG, chosen by the file's suffix."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadInput("diagrams.error.bad_output", file=str(path))
    data = to_svg(drawing).encode("utf-8") if fmt == "svg" else to_png(drawing)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise LabkitError("diagrams.error.write_failed", file=str(path), reason=exc.strerror or exc) from exc
    return path
