"""The kube-proxy benchmark as a figure (matplotlib): programming time, first-packet latency, memory.

Three panels against the number of services, one line per mode (and per sync kind or service).
The programming panel draws CPU time (the lab's, ``nft``'s or ``iptables-restore``'s and the kernel's
work for them, best of the runs), which a busy machine does not inflate as it does wall time; a
point recorded before the CPU time was (wall time only) is drawn hollow.
The iptables lines grow with the services, the nftables ones stay flat where upstream's design
says they should (latency, partial syncs), and the text of notebook 05 says why the first full
load of an nftables table still grows (the kernel names each anonymous map by scanning them all).
"""
from __future__ import annotations

import math

from .. import i18n
from .kube_proxy_model import Result

COLORS = {"iptables": "#d62728", "nftables": "#1f77b4"}


def figure(results: list[Result]):
    """A matplotlib Figure (three panels) of ``results``; the caller saves or shows it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    # type that reads on a 1,280 x 720 slide (>= 14 px once the picture is fitted to it)
    with matplotlib.rc_context({"font.size": 13, "legend.fontsize": 11, "axes.titlesize": 14}):
        fig = Figure(figsize=(12.4, 4.0), layout="constrained")   # as wide as the slide allows
        axes = fig.subplots(1, 3)
        _draw(fig, axes, results)
    number = FuncFormatter(lambda value, _pos: i18n.number(value, ",g"))   # 10 000 and 0,8 in French
    for ax in axes:
        ax.tick_params(labelsize=12)
        ax.xaxis.set_major_formatter(number)
        ax.yaxis.set_major_formatter(number)
        if ax.get_xscale() == "log":
            ax.xaxis.set_minor_formatter(NullFormatter())
        if ax.get_yscale() == "log":
            ax.yaxis.set_minor_formatter(NullFormatter())
    return fig


def _draw(fig, axes, results: list[Result]) -> None:
    modes = sorted({r.mode for r in results})
    for mode in modes:
        rows = sorted((r for r in results if r.mode == mode), key=lambda r: r.services)
        x = [r.services for r in rows]
        color = COLORS.get(mode)
        axes[0].plot(x, [r.full_sync for r in rows], "o-", color=color, label=i18n.t("bench.series_full", mode=mode))
        axes[0].plot(x, [r.partial_sync for r in rows], "s--", color=color,
                     label=i18n.t("bench.series_partial", mode=mode))
        for value, cpu, marker in ((Result.full_sync, "full_sync_cpu_s", "o"), (Result.partial_sync, "partial_sync_cpu_s", "s")):
            wall = [r for r in rows if math.isnan(getattr(r, cpu))]   # no CPU time recorded: a hollow mark
            if wall and len(wall) < len(rows):
                axes[0].scatter([r.services for r in wall], [value.fget(r) for r in wall], marker=marker,  # type: ignore[attr-defined]
                                facecolors="white", edgecolors=color, zorder=3)
        axes[1].plot(x, [r.last.p50 for r in rows], "o-", color=color, label=i18n.t("bench.series_last", mode=mode))
        axes[1].plot(x, [r.first.p50 for r in rows], "s--", color=color, label=i18n.t("bench.series_first", mode=mode))
        axes[2].plot(x, [r.memory_mib for r in rows], "o-", color=color, label=mode)
    labels = ("bench.axis_sync", "bench.axis_latency", "bench.axis_memory")
    for ax, key in zip(axes, labels):
        ax.set_xlabel(i18n.t("bench.axis_services"))
        ax.set_ylabel(_two_lines(i18n.t(key)))
        ax.grid(True, alpha=0.3)
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[1].set_ylim(bottom=0)
    axes[2].set_ylim(bottom=0)
    for ax in axes:
        _room_for_the_legend(ax)
        ax.legend(loc="best")     # matplotlib picks the corner where the box covers the fewest points and lines
    fig.suptitle(i18n.t("bench.plot_title", modes=", ".join(modes)))


def _room_for_the_legend(ax) -> None:
    """Head room above the lines, so that a corner free of data exists for the legend box (on
    slide 40 it hid the iptables full-sync line between 10,000 and 30,000 Services)."""
    bottom, top = ax.get_ylim()
    if ax.get_yscale() == "log":
        ax.set_ylim(bottom, top * (top / bottom) ** 0.6)    # the lines keep the lower ~60 % of the panel
    else:
        ax.set_ylim(bottom, bottom + (top - bottom) * 1.6)


def _two_lines(label: str) -> str:
    """A long axis label on two lines, cut before its parenthesis (or after its comma), so it stays
    within the panel's height."""
    if len(label) <= 28:
        return label
    for cut, keep in ((" (", "\n("), (", ", ",\n")):
        if cut in label:
            return label.replace(cut, keep, 1)
    return label


def save(results: list[Result], path: str) -> None:
    figure(results).savefig(path, dpi=110)


def png(results: list[Result]) -> bytes:
    """The figure as PNG bytes (``IPython.display.Image(png(results))`` in a notebook)."""
    import io

    buf = io.BytesIO()
    figure(results).savefig(buf, format="png", dpi=100)
    return buf.getvalue()
