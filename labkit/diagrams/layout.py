"""Where things go: the deterministic placement every layer shares (pure functions, no drawing).

* Nodes in a fixed order: control plane first, then by name (numbers compared as numbers), at
  most :data:`NODES_PER_ROW` side by side, further nodes on the next row.
* Pods in a grid inside their node, one slot each. Without memory a node's pods take slots in
  address order (what host-local IPAM hands out, so a new pod usually lands last); with the slots
  of the previous drawing (the live view keeps them) every pod keeps its slot and a new pod takes
  the first free one: adding a pod moves no other pod, deleting it gives the first drawing back.
* Room for pods is reserved ahead, in capacities from :data:`CAPACITIES` (4, 8, 12, 16 pods, then
  about x1.5 a step: 24, 32, 48, 64 ...), always with at least one free slot. In the pod and overview
  layers every node box has the capacity of the fullest node (one height for all, so a row of nodes
  stays a row); in the services layer, where nodes are stacked and a pod is a row, each node has its
  own: 2 pods for an empty node, then steps of 4 (:data:`SERVICES_STEP`: a node of 16 pods reserves
  20 rows, not 24). A pod added
  within the capacity, also one that opens a new row of the grid, moves no other element. Only the
  pod that takes a node's last free slot makes the grid grow to the next capacity (the boxes below,
  the legend, move down once); deleting it gives the smaller picture back. From a node of n pods,
  that happens after between 1 and about n/2 further pods (at least 4 below 16 pods), so rarely
  while a learner adds pods one by one, and never in the byte-identical redraws.
"""
from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass

from ..snapshot import ClusterSnapshot, NodeNetwork
from ..wiring import PodInfo

NODES_PER_ROW = 3



def capacities():
    """4, 8, 12, 16, 24, 32, 48, 64, 96 ...: the pod counts a node's grid is sized for."""
    yield from (4, 8, 12)
    c = 16
    while True:
        yield c
        yield c * 3 // 2
        c *= 2


SERVICES_STEP = 4
CAPACITIES = tuple(c for c, _ in zip(capacities(), range(8)))   # the first ones, for the docs and tests

Slots = dict[str, dict[str, int]]   # node name -> pod key -> slot index


def _natural(text: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def node_order(snapshot: ClusterSnapshot) -> list[NodeNetwork]:
    """Control plane first, then workers by name (``worker2`` before ``worker10``)."""
    return sorted(snapshot.nodes, key=lambda n: (0 if "control-plane" in n.roles else 1, _natural(n.name)))


def _ip_key(p: PodInfo) -> tuple:
    try:
        return (0, int(ipaddress.ip_address(p.ip)), p.key) if p.ip else (1, 0, p.key)
    except ValueError:
        return (1, 0, p.key)


def assign_slots(pods_by_node: dict[str, list[PodInfo]], previous: Slots | None = None) -> Slots:
    """Pod key -> slot per node, keeping the slots of ``previous`` for pods still there."""
    out: Slots = {}
    for node, pods in pods_by_node.items():
        kept = {k: s for k, s in ((previous or {}).get(node) or {}).items() if k in {p.key for p in pods}}
        taken = set(kept.values())
        slots = dict(kept)
        free = (i for i in range(10**6) if i not in taken)
        for p in sorted(pods, key=_ip_key):
            if p.key not in slots:
                slots[p.key] = next(free)
        out[node] = dict(sorted(slots.items(), key=lambda kv: kv[1]))
    return out


def used_slots(slots: Slots) -> int:
    """The slots the fullest node's grid spans (its highest slot + 1)."""
    return max((max(s.values()) + 1 for s in slots.values() if s), default=0)


def capacity(used: int, step: int | None = None) -> int:
    """The pods a grid holding ``used`` slots is sized for: the first of :func:`capacities` with a free
    slot, or with ``step`` the first multiple of it (2 below 2 pods)."""
    if step:
        return 2 if used < 2 else (used // step + 1) * step      # an empty node stays small
    return next(c for c in capacities() if c > used)


def rows_needed(slots: Slots, cols: int, step: int | None = None) -> int:
    """Rows of ``cols`` pods for the fullest node of ``slots`` (see the module docstring)."""
    return math.ceil(capacity(used_slots(slots), step) / cols)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass(frozen=True)
class Grid:
    """The pod grid of every node: ``cols`` × ``rows`` cells of ``cell_w`` × ``cell_h``."""

    cols: int
    rows: int
    cell_w: float
    cell_h: float
    gap_x: float
    gap_y: float

    @property
    def width(self) -> float:
        return self.cols * self.cell_w + (self.cols - 1) * self.gap_x

    @property
    def height(self) -> float:
        return self.rows * self.cell_h + (self.rows - 1) * self.gap_y

    def cell(self, x0: float, y0: float, slot: int) -> Box:
        r, c = divmod(slot, self.cols)
        return Box(x0 + c * (self.cell_w + self.gap_x), y0 + r * (self.cell_h + self.gap_y), self.cell_w, self.cell_h)


def node_boxes(count: int, left: float, top: float, width: float, height: float, gap: float,
               row_gap: float | None = None) -> list[Box]:
    """``count`` node boxes of ``width`` × ``height``, :data:`NODES_PER_ROW` per row, ``row_gap``
    (default ``gap``) between rows: a fourth node starts a second row and moves none of the first three."""
    out = []
    for i in range(count):
        r, c = divmod(i, NODES_PER_ROW)
        out.append(Box(left + c * (width + gap), top + r * (height + (gap if row_gap is None else row_gap)), width,
                       height))
    return out


def rows_of(boxes: list[Box]) -> list[list[int]]:
    """The indexes of ``boxes`` row by row (boxes of a row share their top)."""
    out: dict[float, list[int]] = {}
    for i, b in enumerate(boxes):
        out.setdefault(b.y, []).append(i)
    return [out[y] for y in sorted(out)]
