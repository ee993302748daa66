"""The kernel's neighbour (ARP) table, sized for the lab's pods, as nodes with many pods size it.

Every pod adds entries to one table that the whole machine shares: its own namespace resolves its
gateway, its node's namespace resolves the pod, so about two per pod. The table's thresholds are
kernel-wide: net/core/neighbour.c ``neigh_sysctl_register`` points ``default``'s ``gc_thresh*``
at the fields of ``struct neigh_table`` (one ARP table per machine, every namespace's entries
counted together), and on this 6.18 kernel they exist in the initial network namespace only (a
pod's or a node's namespace has no ``/proc/sys/net/ipv4/neigh/default/gc_thresh*``: checked). Past ``gc_thresh3`` (1,024 by default) the kernel refuses
new entries ("neighbour: arp_cache: neighbor table overflow!"), so a connection to a pod waits for
the garbage collector: at 1,000 pods, answering lagged Running by 17 s. Clusters with many pods
per machine raise these thresholds on their nodes (the case study in imroc/kubernetes-guide
troubleshooting/cases/network/arp-cache-overflow-causing-healthcheck-failed.md; OpenAI's
"Scaling Kubernetes to 2,500 nodes"); kind nodes share their host's kernel, so there it is the
host's setting, as here.

The lab raises them when they are too low for its pod cap, never lowers them while a lab runs, and
puts the machine's own values back when the last lab goes (``labkit down``, also after a crash):
the values found before the first raise are kept in ``/run/labkit/neighbour-thresholds.json``.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from .paths import RUN_ROOT

log = logging.getLogger(__name__)
ROOT = Path("/proc/sys/net/ipv4/neigh/default")
ENTRIES_PER_POD = 2       # the pod's gateway in its namespace, the pod in its node's namespace
HEADROOM = 4              # other labs, the host's own neighbours, a burst before the collector runs
SAVED = "neighbour-thresholds.json"


def wanted(max_pods: int, current: dict[str, int]) -> dict[str, int]:
    """The thresholds to write (pure): none when ``current`` already fits ``max_pods``.

    ``gc_thresh3`` (hard limit) and ``gc_thresh2`` (soft limit, above which entries older than
    5 s go) get ``HEADROOM`` times the lab's entries, the soft one half of that; never lowered."""
    hard = max_pods * ENTRIES_PER_POD * HEADROOM
    goals = {"gc_thresh3": hard, "gc_thresh2": hard // 2}
    return {key: value for key, value in goals.items() if current.get(key, 0) < value}


def _saved(root: Path, saved: Path | None) -> Path:
    return saved or (RUN_ROOT / SAVED if root == ROOT else root / SAVED)


def fit(max_pods: int, root: Path = ROOT, saved: Path | None = None) -> dict[str, int]:
    """Raise the machine's thresholds for ``max_pods`` pods; what was written (empty: nothing,
    or this process is not in the initial network namespace, where they are not exported). The
    values found before the first raise are kept in ``saved`` for :func:`restore`."""
    try:
        current = {f"gc_thresh{i}": int((root / f"gc_thresh{i}").read_text()) for i in (1, 2, 3)}
    except (OSError, ValueError):
        return {}
    changes = wanted(max_pods, current)
    keep = _saved(root, saved)
    if changes and not keep.exists():
        try:
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_text(json.dumps(current))
        except OSError as exc:
            log.warning("cannot keep the neighbour thresholds in %s: %s", keep, exc)
            return {}
    # the hard limit first: the kernel refuses gc_thresh2 > gc_thresh3 on some versions
    for key in sorted(changes, reverse=True):
        try:
            (root / key).write_text(str(changes[key]))
        except OSError as exc:
            log.warning("cannot raise net.ipv4.neigh.default.%s to %s: %s", key, changes[key], exc)
            return {}
    if changes:
        log.info("neighbour table raised for %s pods: %s (was %s)", max_pods, changes, current)
    return changes


def restore(root: Path = ROOT, saved: Path | None = None) -> dict[str, int]:
    """Put back the thresholds :func:`fit` found (when the last lab goes); what was written."""
    keep = _saved(root, saved)
    if not (root / "gc_thresh3").exists():
        # not the initial network namespace (a class learner's lab goes down inside their world):
        # the machine's values cannot be written from here, so the record stays for one that can
        return {}
    try:
        before = {k: int(v) for k, v in json.loads(keep.read_text()).items() if k in ("gc_thresh2", "gc_thresh3")}
    except (OSError, ValueError, AttributeError):
        return {}
    written = {}
    for key in sorted(before):                   # the soft limit first: never above the hard one
        try:
            (root / key).write_text(str(before[key]))
            written[key] = before[key]
        except OSError as exc:
            log.warning("cannot restore net.ipv4.neigh.default.%s to %s: %s", key, before[key], exc)
    keep.unlink(missing_ok=True)
    return written
