"""The policy layer, readable at 30 pods: groups of pods, the flows rules allow, a matrix of the rest.

Verdicts come from :mod:`labkit.netpol` (the same engine as ``labkit netpol``), for one port and
protocol; the groups, the flows and the matrix's counts come from :mod:`labkit.netpol.groups`:
this module only draws them. Pods are grouped by what the policies can tell apart: the namespace
and the values of the label keys any policy's pod selector names (replicas, and pods no policy
looks at, fall in one group). On the left, the groups inside their namespaces; a group a policy isolates has a thick red
border and says so; each flow a rule allows *into or out of an isolated group* is a red arrow
routed in its own lane, and the destination group lists the rule that allows it. On the right, a
compact matrix of every group pair (row → column): allowed, blocked (✕) or partly allowed, instead
of one arrow per blocked pair.
"""
from __future__ import annotations

from dataclasses import astuple
from typing import Any

from .. import i18n, netpol
from ..errors import BadInput
from ..netpol.groups import (
    Flow,
    PodClass,
    flows,
    pair_counts,
    pod_classes,
    selected_by,
    snapshot_engine,
)
from ..snapshot import ClusterSnapshot
from . import style
from .layout import _natural
from .style import MARGIN, SMALL, TEXT
from .svg import Drawing, Line, Rect, Scene, Text, fit, text_width

EXPLAIN_LIMIT = 30  # pods: beyond this, allowed arrows are not labelled with their rule


def check_port(port: Any) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise BadInput("diagrams.error.bad_port", port=port)
    return port


def policy_id(pol: netpol.NetworkPolicy) -> str:
    return f"pol/{pol.key}"


def describe(c: PodClass, lang: str | None) -> str:
    """A class's label values (or "other pods") and its size."""
    text = ", ".join(f"{k}={v}" for k, v in c.labels) or i18n.t("diagrams.pol.other_pods", lang)
    return f"{text} ×{len(c.pods)}"


def policy_network(snapshot: ClusterSnapshot, port: int = 80, protocol: str = "TCP", lang: str | None = None,
                   max_pods: int | None = None, slots=None, highlight=None, title: str | None = None) -> Drawing:
    """The policy layer of ``snapshot`` for ``port``/``protocol`` (see the module docstring)."""
    port = check_port(port)
    eng = snapshot_engine(snapshot)
    reach = eng.reachability(port, protocol)
    title = title or i18n.t("diagrams.title.policies", lang, protocol=protocol, port=port)
    scene = Scene("policies", style.WIDTH, title=title)
    top = style.title(scene, title)
    classes = pod_classes(eng, snapshot.networkpolicies)
    iso_in, iso_out = set(eng.isolated(netpol.INGRESS)), set(eng.isolated(netpol.EGRESS))
    selectors = selected_by(eng)
    drawn = flows(eng, reach, classes, iso_in, iso_out, port, protocol)
    lane_w = 12 + 12 * len(drawn)
    box_x, box_w = MARGIN + lane_w + 28, 440.0
    y = top
    where: dict[str, tuple[float, float, float]] = {}
    namespaces = sorted({c.namespace for c in classes} | {p.namespace for p in eng.policies}, key=_natural)
    for ns in namespaces:
        members = [c for c in classes if c.namespace == ns]
        pols = [p for p in eng.policies if p.namespace == ns]
        heights = [_class_height(c, drawn) for c in members]
        h = 40 + sum(hh + 10 for hh in heights) + (len(pols) * 24 + 8 if pols else 0) + 4
        frame = scene.group("nodes", f"ns/{ns}", "namespace", name=ns)
        frame.add(Rect(box_x - 14, y, box_w + 28, h, fill="#fafafa", stroke=style.GREY, width=2, rx=10))
        frame.add(Text(box_x, y + 26, fit(i18n.t("diagrams.ns.label", lang, name=ns), TEXT, box_w, True), TEXT, bold=True,
                       cls="node-title"))
        cy = y + 40
        for c, ch in zip(members, heights):
            _draw_class(scene, eng, c, box_x, cy, box_w, ch, drawn, iso_in, iso_out, selectors, lang)
            where[c.id] = (box_x, cy, ch)
            cy += ch + 10
        for pol in pols:
            chosen = [p.key for p in eng.pods if pol in selectors.get(p.key, [])]
            g = scene.group("policies", policy_id(pol), "policy", name=pol.key,
                            tip=_policy_tip(pol, snapshot, chosen, lang), targets=" ".join(f"p/{k}" for k in chosen))
            style.no_entry(g, box_x + 8, cy + 11, 7)
            g.add(Text(box_x + 22, cy + 16, fit(f"{i18n.t('diagrams.pol.policy', lang, name=pol.name)} · "
                                                f"{', '.join(pol.policy_types)}", SMALL, box_w - 22), SMALL,
                       color=style.RED, bold=True))
            cy += 24
        y += h + 14
    _draw_flows(scene, drawn, where, MARGIN + lane_w)
    mx = box_x + box_w + 40
    bottom = _draw_matrix(scene, classes, eng, reach, iso_in, iso_out, mx, top, lang, port, protocol)
    items = [(f"box:{style.RED}:{style.BLUE_FILL}:thick", i18n.t("diagrams.legend.isolated", lang)),
             (f"line:{style.RED}:arrow", i18n.t("diagrams.legend.allowed", lang)),
             (f"line:{style.RED}:dash:arrow", i18n.t("diagrams.legend.partly", lang))]
    y = style.legend(scene, max(y, bottom) + 6, items, i18n.t("diagrams.legend", lang))
    note = scene.group("legend", None, "legend-note")
    note.add(Text(MARGIN, y + SMALL, i18n.t("diagrams.pol.rest_allowed" if eng.policies else "diagrams.pol.no_policies",
                                            lang), SMALL, color=style.GREY))
    scene.height = y + SMALL + 14
    return Drawing(scene, None)


def _class_height(c: PodClass, flows: list[Flow]) -> float:
    return 48 + 20 * sum(1 for f in flows if f.dst.id == c.id)


def _draw_class(scene, eng, c: PodClass, x, y, w, h, flows, iso_in, iso_out, selectors, lang) -> None:
    keys = [p.key for p in c.pods]
    dirs = []
    if any(k in iso_in for k in keys):
        dirs.append(i18n.t("diagrams.pol.ingress", lang))
    if any(k in iso_out for k in keys):
        dirs.append(i18n.t("diagrams.pol.egress", lang))
    pols = sorted({p.key for k in keys for p in selectors.get(k, [])})
    tip = "\n".join([f"{c.name}: {describe(c, lang)}", *keys[:40], *(i18n.t("diagrams.pol.policy", lang, name=p) for p in pols)])
    g = scene.group("pods", c.id, "podclass", tip=tip, pods=" ".join(f"p/{k}" for k in keys),
                    isolated="1" if dirs else "0")
    g.add(Rect(x, y, w, h, fill=style.BLUE_FILL, stroke=style.RED if dirs else style.BLUE, width=4 if dirs else 1.5, rx=8))
    g.add(Text(x + 10, y + 20, fit(f"{c.name} · {describe(c, lang)}", TEXT, w - 20, True), TEXT, bold=True))
    if dirs:
        style.no_entry(g, x + 17, y + 35, 7)
        state = i18n.t("diagrams.pol.isolated", lang, directions=", ".join(dirs))
    else:
        state = i18n.t("diagrams.pol.open", lang)
    g.add(Text(x + (30 if dirs else 10), y + 40, fit(state, SMALL, w - 40), SMALL, color=style.RED if dirs else style.GREY))
    ty = y + 40
    for f in (f for f in flows if f.dst.id == c.id):
        ty += 20
        part = "" if f.allowed == f.decided else f" ({f.allowed}/{f.decided})"
        g.add(Text(x + 22, ty, fit(i18n.t("diagrams.pol.allowed_from", lang, group=f"{f.src.name}{part}",
                                          rules=", ".join(f.rules) or "-"), SMALL, w - 32), SMALL,
                   color=style.RED))


def _draw_flows(scene: Scene, flows: list[Flow], where: dict, lane_right: float) -> None:
    """Each flow in its own vertical lane left of the groups: out of the source, into the destination."""
    outs: dict[str, int] = {}
    for i, f in enumerate(flows):
        sx, sy, sh = where[f.src.id]
        dx, dy, dh = where[f.dst.id]
        k = outs.get(f.src.id, 0)
        outs[f.src.id] = k + 1
        y0 = sy + 12 + (k * 7) % max(8, sh - 20)
        row = [g for g in flows if g.dst.id == f.dst.id].index(f)
        y1 = dy + 55 + 20 * row
        lx = lane_right - 12 * i
        g = scene.group("edges", f"flow/{f.src.id}/{f.dst.id}", "flow", tip="\n".join(f.rules),
                        **{"from": f.src.id, "to": f.dst.id})
        g.add(Line([(sx, y0), (lx, y0), (lx, y1), (dx - 2, y1)], stroke=style.RED, width=2.5,
                   dash=None if f.allowed == f.decided else "8 5", arrow="arrow-red"))


CELL = 30


def _draw_matrix(scene, classes, eng, reach, iso_in, iso_out, x, y, lang, port, protocol) -> float:
    """Row → column: ✓ allowed, ✕ blocked, ½ partly; green background where nothing isolates the pair."""
    cap = scene.group("matrix", None, "matrix-caption")
    width = scene.width - MARGIN - x
    cap.add(Text(x, y + SMALL, fit(i18n.t("diagrams.pol.matrix", lang), SMALL, width, True), SMALL, bold=True))
    cap.add(Text(x, y + TEXT + 20, fit(i18n.t("diagrams.pol.matrix_hint", lang), SMALL, width), SMALL, color=style.GREY))
    n = len(classes)
    label_w = max((text_width(c.name, SMALL) for c in classes), default=20) + 10
    ox, oy = x + label_w, y + 70
    for j, c in enumerate(classes):
        g = scene.group("matrix", None, "matrix-head")
        g.add(Text(ox + j * CELL + CELL / 2, oy - 8, str(c.number), SMALL, anchor="middle"))
    for i, s in enumerate(classes):
        g = scene.group("matrix", None, "matrix-head")
        g.add(Text(ox - 6, oy + i * CELL + 20, s.name, SMALL, anchor="end"))
        for j, d in enumerate(classes):
            allowed, total, decided = astuple(pair_counts(reach, s, d, iso_in, iso_out))
            if total == 0:
                sym, fill, colour, key = "·", "white", style.GREY, "self"
            elif allowed == total:
                sym, fill, colour, key = "✓", "#e8f5e9" if not decided else "#c8e6c9", style.GREEN, "allowed"
            elif allowed == 0:
                sym, fill, colour, key = "✕", style.RED_FILL, style.RED, "blocked"
            else:
                sym, fill, colour, key = "½", "#fff3e0", style.RED, "partly"
            cell = scene.group("matrix", f"cell/{s.id}/{d.id}", f"cell cell-{key}",
                               tip=f"{s.name} → {d.name}: {allowed}/{total}", **{"from": s.id, "to": d.id})
            cell.add(Rect(ox + j * CELL, oy + i * CELL, CELL, CELL, fill=fill, stroke="#bbbbbb", width=1, rx=0))
            cell.add(Text(ox + j * CELL + CELL / 2, oy + i * CELL + 20, sym, SMALL, anchor="middle", color=colour, bold=True))
    y = oy + n * CELL + 12
    for sym, key, fill, colour in (("✓", "diagrams.pol.cell_allowed", "#e8f5e9", style.GREEN),
                                    ("✕", "diagrams.pol.cell_blocked", style.RED_FILL, style.RED),
                                    ("½", "diagrams.pol.cell_partly", "#fff3e0", style.RED)):
        g = scene.group("matrix", None, "matrix-key")
        g.add(Rect(x, y, CELL, CELL, fill=fill, stroke="#bbbbbb", width=1, rx=0))
        g.add(Text(x + CELL / 2, y + 20, sym, SMALL, anchor="middle", color=colour, bold=True))
        g.add(Text(x + CELL + 8, y + 20, fit(i18n.t(key, lang), SMALL, width - CELL - 8), SMALL))
        y += CELL + 6
    return y


def _policy_tip(pol, snapshot, chosen, lang) -> str:
    import json

    raw: dict[str, Any] = next((p for p in snapshot.networkpolicies if p["metadata"].get("name") == pol.name
                and p["metadata"].get("namespace", "default") == pol.namespace), {})
    spec = json.dumps(raw.get("spec") or {}, sort_keys=True)
    return "\n".join([i18n.t("diagrams.pol.policy", lang, name=pol.key), ", ".join(pol.policy_types),
                      i18n.t("diagrams.tip.selects", lang, pods=", ".join(chosen) or "-"),
                      spec if len(spec) < 600 else spec[:597] + "…"])
