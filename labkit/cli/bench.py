"""``labkit bench kube-proxy``: kube-proxy's scaling measured on this machine (root).

The work is in :mod:`labkit.bench` (the synthetic cluster and table are pure, the run uses two
network namespaces of its own); this module only reads the options and prints.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys

from .. import i18n


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("bench", help=i18n.t("bench.cli.group_help"))
    commands = group.add_subparsers(dest="bench_command", metavar="WHAT")
    kp = commands.add_parser("kube-proxy", help=i18n.t("bench.cli.kube_proxy_help"))
    kp.add_argument("--services", default="1000,5000,10000", help="service counts, e.g. 1000,5000,10000,30000")
    kp.add_argument("--modes", default="iptables,nftables", help="iptables, nftables or both")
    kp.add_argument("--samples", type=int, default=200, help="new connections per service measured")
    kp.add_argument("--runs", type=int, default=3, help="full syncs and changes per size; the best one counts")
    kp.add_argument("--plot", metavar="FILE.png", help="also draw the figures (matplotlib)")
    kp.add_argument("--json", action="store_true", help="print the figures as JSON")
    kp.set_defaults(func=_kube_proxy)
    group.set_defaults(func=lambda args: (group.print_help(), 2)[1])


def _kube_proxy(args: argparse.Namespace) -> int:
    from ..bench.kube_proxy_model import format_table, parse_modes, parse_sizes
    from ..bench.kube_proxy_run import run

    sizes, modes = parse_sizes(args.services), parse_modes(args.modes)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run still deletes its namespaces
    samples = max(1, min(args.samples, 5000))
    results = run(modes, sizes, samples, progress=lambda msg: print(f"… {msg}", file=sys.stderr, flush=True),
                  runs=max(1, min(args.runs, 20)))
    if args.json:
        json.dump([r.to_json() for r in results], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(results))
    if args.plot:
        from ..bench.kube_proxy_plot import save

        save(results, args.plot)
        print(i18n.t("bench.plot_written", path=args.plot), file=sys.stderr)
    return 0
