"""Reachability results: truth tables a notebook can print, query, export and display.

``Matrix`` is one table (rows: sources, columns: destinations) stored as one bitmask per row;
``Reachability`` bundles the ingress, egress and combined tables of one port/protocol, like
cyclonus and policy-assistant show them. Text tables use upstream's glyphs (``truthtable.go``):
``.`` allowed, ``X`` denied.
"""
from __future__ import annotations

import html
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .. import i18n
from ..errors import BadInput
from .selector import bits

if TYPE_CHECKING:
    from .engine import Engine
    from .explain import Explanation

ALLOWED_MARK, DENIED_MARK = ".", "X"
HTML_MAX_PODS = 80  # beyond this a coloured table stops being readable (and weighs megabytes)


class Matrix:
    """Allowed/denied for every ordered pair of pods (``pods`` are ``namespace/name`` keys)."""

    def __init__(self, pods: Sequence[str], rows: Sequence[int]) -> None:
        self.pods = tuple(pods)
        self.rows = list(rows)
        self._index = {p: i for i, p in enumerate(self.pods)}

    def _i(self, pod: str) -> int:
        try:
            return self._index[pod]
        except KeyError:
            raise BadInput("netpol.error.unknown_pod", pod=pod, known=", ".join(self.pods[:20]) or "-") from None

    def allowed(self, src: str, dst: str) -> bool:
        return bool(self.rows[self._i(src)] >> self._i(dst) & 1)

    def pairs(self) -> list[tuple[str, str]]:
        """Every allowed ordered pair, sorted."""
        return sorted((self.pods[s], self.pods[d]) for s, row in enumerate(self.rows) for d in bits(row))

    def denied_pairs(self) -> list[tuple[str, str]]:
        full = (1 << len(self.pods)) - 1
        return sorted((self.pods[s], self.pods[d]) for s, row in enumerate(self.rows) for d in bits(full & ~row))

    def count(self) -> int:
        """How many ordered pairs are allowed."""
        return sum(bin(row).count("1") for row in self.rows)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Matrix) and (self.pods, self.rows) == (other.pods, other.rows)

    def to_table(self, lang: str | None = None) -> str:
        """Aligned text table, one line per source; the header row lists destinations."""
        corner = i18n.t("netpol.table.corner", lang)
        first = max([len(corner)] + [len(p) for p in self.pods]) + 1
        width = max([1] + [len(p) for p in self.pods]) + 2
        lines = [corner.ljust(first) + "".join(p.center(width) for p in self.pods)]
        for s, src in enumerate(self.pods):
            row = self.rows[s]
            marks = (ALLOWED_MARK if row >> d & 1 else DENIED_MARK for d in range(len(self.pods)))
            lines.append(src.ljust(first) + "".join(m.center(width) for m in marks))
        return "\n".join(line.rstrip() for line in lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"pods": list(self.pods), "allowed": [list(p) for p in self.pairs()]}

    def to_html(self, caption: str = "", lang: str | None = None) -> str:
        """An HTML table (green allowed, red denied) with a tooltip per cell."""
        esc = html.escape
        if len(self.pods) > HTML_MAX_PODS:
            note = i18n.t("netpol.html.too_large", lang, pods=len(self.pods), allowed=self.count(),
                          total=len(self.pods) ** 2)
            return f"<p>{esc(caption)}</p><p><em>{esc(note)}</em></p>"
        ok, no = i18n.t("netpol.verdict.allowed", lang), i18n.t("netpol.verdict.denied", lang)
        head = "".join(f'<th style="padding:2px 6px">{esc(p)}</th>' for p in self.pods)
        body = []
        for s, src in enumerate(self.pods):
            cells = []
            for d, dst in enumerate(self.pods):
                allowed = self.rows[s] >> d & 1
                colour = "#c8f0c8" if allowed else "#f5c2c2"
                title = f"{src} -> {dst}: {ok if allowed else no}"
                mark = ALLOWED_MARK if allowed else DENIED_MARK
                cells.append(f'<td title="{esc(title)}" style="background:{colour};text-align:center">{mark}</td>')
            body.append(f'<tr><th style="text-align:left;padding:2px 6px">{esc(src)}</th>{"".join(cells)}</tr>')
        # the caption above the table, as wide as a line of text rather than squeezed to the table's width
        cap = f'<div style="max-width:36em;margin-bottom:4px">{esc(caption)}</div>' if caption else ""
        corner = esc(i18n.t("netpol.table.corner", lang))
        return (f'<div>{cap}<table style="border-collapse:collapse;font-family:monospace">'
                f"<tr><th>{corner}</th>{head}</tr>{''.join(body)}</table></div>")

    def _repr_html_(self) -> str:
        return self.to_html()


class Reachability:
    """The result of one query: ``.ingress``, ``.egress`` and ``.combined`` matrices.

    The shortcuts (``allowed``, ``pairs``, ``to_table``, ``to_json``) answer for the combined
    matrix, which is what a connection actually needs: the source's egress AND the
    destination's ingress.
    """

    def __init__(self, port: int, protocol: str, ingress: Matrix, egress: Matrix, combined: Matrix,
                 engine: Engine | None = None) -> None:
        self.port, self.protocol = port, protocol
        self.ingress, self.egress, self.combined = ingress, egress, combined
        self._engine = engine

    @property
    def pods(self) -> tuple[str, ...]:
        return self.combined.pods

    def view(self, direction: str) -> Matrix:
        """``"combined"``, ``"ingress"`` or ``"egress"``."""
        return {"combined": self.combined, "ingress": self.ingress, "egress": self.egress}[direction]

    def allowed(self, src: str, dst: str) -> bool:
        return self.combined.allowed(src, dst)

    def pairs(self) -> list[tuple[str, str]]:
        return self.combined.pairs()

    def caption(self, direction: str = "combined", lang: str | None = None) -> str:
        return i18n.t("netpol.table.caption", lang, view=i18n.t(f"netpol.view.{direction}", lang),
                      protocol=self.protocol, port=self.port)

    def to_table(self, lang: str | None = None, direction: str = "combined") -> str:
        """The caption line then the truth table (rows: source, columns: destination)."""
        return self.caption(direction, lang) + "\n" + self.view(direction).to_table(lang)

    def to_dict(self, direction: str = "combined") -> dict[str, Any]:
        return {"port": self.port, "protocol": self.protocol, **self.view(direction).to_dict()}

    def to_json(self, direction: str = "combined") -> str:
        """``{"port", "protocol", "pods", "allowed": [[src, dst], ...]}``, pairs sorted."""
        return json.dumps(self.to_dict(direction), indent=None)

    def explain(self, src: str, dst: str) -> Explanation:
        if self._engine is None:
            raise BadInput("netpol.error.no_engine")
        return self._engine.explain(src, dst, self.port, self.protocol)

    def _repr_html_(self) -> str:
        return "".join(
            f'<div style="display:inline-block;vertical-align:top;margin:0 1em 1em 0">'
            f"{self.view(d).to_html(self.caption(d))}</div>"
            for d in ("combined", "ingress", "egress")
        )

    def __repr__(self) -> str:
        return (f"<Reachability {self.protocol}/{self.port}: {self.combined.count()} of "
                f"{len(self.pods) ** 2} pairs allowed>")
