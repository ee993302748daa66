"""From a Digraph to bytes: SVG for slides and notebooks, PNG to look at.

Rendering runs Debian's ``dot`` through the ``graphviz`` package; a missing ``dot`` becomes a
``LabkitError`` that says what to install, not a traceback.
"""
from __future__ import annotations

from pathlib import Path

import graphviz

from ..errors import BadInput, LabkitError
from . import messages  # noqa: F401  (registers the catalog)

FORMATS = ("svg", "png")


def _pipe(graph: graphviz.Digraph, fmt: str) -> bytes:
    try:
        return graph.pipe(format=fmt, engine="dot")
    except graphviz.ExecutableNotFound as exc:
        raise LabkitError("diagrams.error.no_dot") from exc
    except graphviz.CalledProcessError as exc:
        raise LabkitError("diagrams.error.dot_failed", reason=str(exc).splitlines()[0]) from exc


def to_svg(graph: graphviz.Digraph) -> str:
    """The SVG text of ``graph`` (UTF-8), ready for a slide, a notebook or ``images/``."""
    return _pipe(graph, "svg").decode("utf-8")


def to_png(graph: graphviz.Digraph) -> bytes:
    return _pipe(graph, "png")


def save(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Write ``graph`` as SVG or PNG, chosen by the file's suffix."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadInput("diagrams.error.bad_output", file=str(path))
    data = to_svg(graph).encode("utf-8") if fmt == "svg" else to_png(graph)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise LabkitError("diagrams.error.write_failed", file=str(path), reason=exc.strerror or exc) from exc
    return path
