"""Colours, fonts and the common graph frame of every diagram.

Three layers, three colours, as in the seed chapter's pictures: blue for pod-to-pod, green for
pod-to-service, red for policies. Sizes are chosen for a projector: 16 pt node labels, 14 pt
edge labels, a 22 pt title; ``dot`` lays out (never ``splines=ortho``, circo or neato with
``overlap=false``: they take seconds, see toolchain notes).
"""
from __future__ import annotations

import graphviz

FONT = "Helvetica"
MONO = "Courier"
NODE_SIZE = "16"
EDGE_SIZE = "14"
TITLE_SIZE = "22"

BLUE, BLUE_FILL = "#1f5fbf", "#dce8fa"
GREEN, GREEN_FILL = "#23803a", "#ddf2e1"
RED, RED_FILL = "#c62828", "#fbe0e0"
GREY, NODE_FILL = "#555555", "#f4f4f4"
DEVICE_FILL = "#ffffff"
HIGHLIGHT = "#ff8f00"
MUTED = "#9a9a9a"


def new_graph(name: str, title: str, rankdir: str = "TB") -> graphviz.Digraph:
    """A Digraph with the house style and ``title`` on top."""
    g = graphviz.Digraph(name=name)
    g.attr(rankdir=rankdir, label=title, labelloc="t", labeljust="c", fontname=FONT, fontsize=TITLE_SIZE,
           nodesep="0.3", ranksep="0.45", newrank="true", bgcolor="white", pad="0.2")
    g.attr("node", fontname=FONT, fontsize=NODE_SIZE, shape="box", style="rounded,filled",
           fillcolor=DEVICE_FILL, color=GREY, margin="0.12,0.06")
    g.attr("edge", fontname=FONT, fontsize=EDGE_SIZE, color=GREY, arrowsize="0.8")
    return g


def node_cluster_attrs(label: str) -> dict[str, str]:
    """A Kubernetes node drawn as a box around its pods and devices."""
    return dict(label=label, style="rounded,filled", fillcolor=NODE_FILL, color=GREY, penwidth="1.5",
                fontname=FONT, fontsize="18", labeljust="l", margin="12")


LINES = {"solid": "━━━━", "dashed": "┅┅┅┅", "dotted": "┉┉┉┉", "bold": "━━━━"}


def legend(g: graphviz.Digraph, items: list[tuple[str, str, str]], title: str, name: str = "legend") -> str:
    """A legend node (an HTML table: a line sample in its colour, then the text) at the bottom.

    ``items`` are ``(text, colour, line style)``; the node is returned so callers can anchor it.
    """
    rows = "".join(
        f'<TR><TD ALIGN="LEFT"><FONT COLOR="{colour}" POINT-SIZE="{EDGE_SIZE}">{LINES.get(line, LINES["solid"])}</FONT></TD>'
        f'<TD ALIGN="LEFT">{escape(text)}</TD></TR>'
        for text, colour, line in items)
    label = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
             f'<TR><TD COLSPAN="2" ALIGN="LEFT"><B>{escape(title)}</B></TD></TR>{rows}</TABLE>>')
    with g.subgraph(name=f"{name}_rank") as s:
        s.attr(rank="sink")
        s.node(name, label, shape="box", style="rounded", color=MUTED, fontsize=EDGE_SIZE, margin="0.1,0.05")
    return name


def escape(text: str) -> str:
    """Text for an HTML-like label (newlines become line breaks)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text.replace("\n", "<BR/>")
