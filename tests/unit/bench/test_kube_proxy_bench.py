"""``labkit bench kube-proxy`` without root: the synthetic cluster, the table, the plot, the CLI."""
from __future__ import annotations

import ipaddress

import pytest

from labkit.bench.kube_proxy_model import (SERVICE_CIDR, Latency, Result, first_and_last, format_table,
                                           one_service_changed, parse_modes, parse_sizes, synthetic_input)
from labkit.cli.main import main
from labkit.errors import BadInput
from labkit.kubeproxy import render_iptables, render_nftables
from labkit.bench.kube_proxy_model import node_context


def test_synthetic_cluster_has_distinct_cluster_ips_in_the_service_cidr():
    inp = synthetic_input(1500)
    ips = [s.cluster_ip for s in inp.services]
    assert len(set(ips)) == 1500
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(SERVICE_CIDR) for ip in ips)
    first, last = first_and_last(inp)
    text = render_iptables(inp, node_context("10.255.250.1"))
    services_rules = [l for l in text.splitlines() if l.startswith("-A KUBE-SERVICES") and "cluster IP" in l]
    assert f"-d {first.cluster_ip}" in services_rules[0] and f"-d {last.cluster_ip}" in services_rules[-1]


def test_one_service_change_changes_one_service_only():
    inp = synthetic_input(20)
    changed = one_service_changed(inp)
    diff = [k for k in inp.endpoints if inp.endpoints[k] != changed.endpoints[k]]
    assert len(diff) == 1 and len(changed.endpoints[diff[0]]) == 1
    ctx = node_context("10.255.250.1")
    assert render_nftables(inp, ctx).dump() != render_nftables(changed, ctx).dump()


def _result(mode, n, ms):
    return Result(mode, n, n / 1000, 0.01, 3, n * 100, n / 500, Latency([ms, ms * 2]), Latency([ms * 3]))


def test_table_and_json():
    results = [_result("iptables", 1000, 0.1), _result("nftables", 1000, 0.05)]
    table = format_table(results)
    assert len(table.splitlines()) == 5 and "iptables" in table and "1,000" in table
    assert "–/1,000 ms" in table                    # no CPU time measured: the wall time alone
    data = results[0].to_json()
    assert data["last"]["p50_ms"] == pytest.approx(0.3) and data["first"]["samples"] == 2


def test_the_cpu_time_is_the_figure_when_measured(tmp_path):
    """A busy machine stretches the wall time, not the CPU time: the table and the chart show the
    CPU time, and records from before it was measured still load (their wall time stands in)."""
    import dataclasses
    import json

    from labkit.bench.kube_proxy_model import load_results
    from labkit.bench.kube_proxy_plot import figure

    measured = dataclasses.replace(_result("iptables", 5000, 0.1), full_sync_s=12.7, full_sync_cpu_s=4.5,
                                   partial_sync_s=0.13, partial_sync_cpu_s=0.07, runs=3, load=6.0)
    old = _result("iptables", 1000, 0.1)
    path = tmp_path / "r.json"
    path.write_text(json.dumps([old.to_json() | {"full_sync_cpu_s": None}, measured.to_json()]))
    back = load_results(path)
    assert back[1].full_sync == 4.5 and back[1].partial_sync == 0.07 and back[1].runs == 3
    assert back[0].full_sync == old.full_sync_s and back[0].runs == 1
    table = format_table(back)
    assert "4,500/12,700 ms" in table and "70.0 ms" in table and "best of 3 runs" in table
    ax = figure(back).get_axes()[0]
    assert list(ax.get_lines()[0].get_ydata()) == [old.full_sync_s, 4.5]
    hollow = [list(map(tuple, c.get_offsets())) for c in ax.collections]   # the wall-time point, drawn hollow
    assert hollow == [[(1000, old.full_sync_s)], [(1000, old.partial_sync_s)]]


def test_plot_has_three_panels_with_one_line_per_series(tmp_path):
    from labkit.bench.kube_proxy_plot import figure, save

    results = [_result(m, n, 0.1) for m in ("iptables", "nftables") for n in (100, 1000, 3000)]
    fig = figure(results)
    axes = fig.get_axes()
    assert len(axes) == 3
    assert [len(ax.get_lines()) for ax in axes] == [4, 4, 2]
    assert list(axes[1].get_lines()[0].get_xdata()) == [100, 1000, 3000]
    save(results, str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("value", ["", "10,x", "0", "60000"])
def test_bad_sizes(value):
    with pytest.raises(BadInput):
        parse_sizes(value)


def test_bad_modes_and_cli_errors_are_one_line(capsys):
    with pytest.raises(BadInput):
        parse_modes("ipvs")
    assert parse_sizes("100,1000") == [100, 1000] and parse_modes("nftables") == ["nftables"]
    assert main(["bench", "kube-proxy", "--services", "lots"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--services" in err


def test_results_round_trip_through_json(tmp_path):
    import json

    from labkit.bench.kube_proxy_model import load_results
    from labkit.bench.kube_proxy_plot import png

    results = [_result("iptables", 1000, 0.1), _result("nftables", 1000, 0.05)]
    path = tmp_path / "r.json"
    path.write_text(json.dumps([r.to_json() for r in results]))
    back = load_results(path)
    assert [(r.mode, r.services, r.full_sync_s) for r in back] == [(r.mode, r.services, r.full_sync_s) for r in results]
    assert back[0].last.p50 == pytest.approx(results[0].last.p50)
    assert back[0].last.p99 == pytest.approx(results[0].last.p99)
    assert png(back)[:4] == b"\x89PNG"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_no_legend_box_hides_a_line_of_the_recorded_figure(lang):
    """Slide 40's picture: each panel's legend sits where no point or segment of a line runs."""
    from pathlib import Path

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from labkit import i18n
    from labkit.bench.kube_proxy_model import load_results
    from labkit.bench.kube_proxy_plot import figure

    before = i18n.get_language()
    i18n.set_language(lang)
    try:
        fig = figure(load_results(Path(__file__).resolve().parents[3] / "bench" / "results" / "kube_proxy.json"))
    finally:
        i18n.set_language(before)
    FigureCanvasAgg(fig).draw()
    for ax in fig.get_axes():
        box = ax.get_legend().get_window_extent()
        for line in ax.get_lines():
            xy = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
            along = [a + (b - a) * f for a, b in zip(xy, xy[1:]) for f in np.linspace(0, 1, 50)]
            hidden = [p for p in along if box.contains(*p)]
            assert not hidden, (ax.get_ylabel(), line.get_label())
