"""``labkit draw pods|services|policies|overview`` and ``labkit trace SRC DST``.

Both read a snapshot file (``--snapshot``) or take one from a cluster found as ``labkit.connect()``
finds it (``--name``, then ``KUBECONFIG``/``--context``, then the running lab; see ``target``): an
embedded lab is read directly as root or through its daemon's API otherwise, kind with docker exec. Drawing writes SVG to standard output, or to
``-o FILE.svg|.png``; the trace prints its hops in the learner's language.
"""
from __future__ import annotations

import argparse
import json
import sys

from .. import i18n
from ..errors import BadInput
from .target import add_cluster_options, connect_from

LAYERS = ("pods", "services", "policies", "overview")


def register(subparsers: argparse._SubParsersAction) -> None:
    draw = subparsers.add_parser("draw", help=i18n.t("draw.cli.help"))
    draw.add_argument("layer", choices=LAYERS, help=i18n.t("draw.cli.layer_help"))
    _source_options(draw)
    draw.add_argument("-o", "--output", metavar="FILE", help=i18n.t("draw.cli.output_help"))
    draw.add_argument("--port", type=int, default=80, help=i18n.t("draw.cli.port_help"))
    draw.add_argument("--chains", action="store_true", help=i18n.t("draw.cli.chains_help"))
    draw.set_defaults(func=_draw)


    tr = subparsers.add_parser("trace", help=i18n.t("trace.cli.help"))
    tr.add_argument("src", metavar="SRC", help=i18n.t("trace.cli.src_help"))
    tr.add_argument("dst", metavar="DST", help=i18n.t("trace.cli.dst_help"))
    _source_options(tr)
    tr.add_argument("-o", "--output", metavar="FILE", help=i18n.t("draw.cli.output_help"))
    tr.add_argument("--observe", action="store_true", help=i18n.t("trace.cli.observe_help"))
    tr.set_defaults(func=_trace)


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--snapshot", metavar="FILE", help=i18n.t("draw.cli.snapshot_help"))
    add_cluster_options(parser)
    # --lang here too, so that `labkit draw pods --lang fr` works after the sub-command.
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=argparse.SUPPRESS)


def load_snapshot(args: argparse.Namespace):
    """The snapshot named by ``--snapshot``, or one taken now from the embedded lab."""
    from ..snapshot import ClusterSnapshot

    if args.snapshot:
        try:
            with open(args.snapshot, encoding="utf-8") as fh:
                data = json.load(fh)
        except OSError as exc:
            raise BadInput("diagrams.error.bad_snapshot", file=args.snapshot, reason=exc.strerror or exc) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadInput("diagrams.error.bad_snapshot", file=args.snapshot, reason=exc) from exc
        try:
            return ClusterSnapshot.from_json(data)
        except KeyError as exc:
            raise BadInput("diagrams.error.snapshot_field", file=args.snapshot, field=exc.args[0],
                           reason="missing") from exc
        except (TypeError, AttributeError, ValueError) as exc:
            raise BadInput("diagrams.error.bad_snapshot", file=args.snapshot, reason=exc) from exc
    with connect_from(args) as cluster:
        return cluster.snapshot()


def _emit(graph, output: str | None) -> int:
    from ..diagrams import save, to_svg

    if output:
        path = save(graph, output)
        print(i18n.t("draw.cli.wrote", file=str(path)), file=sys.stderr)
    else:
        sys.stdout.write(to_svg(graph))
    return 0


def _draw(args: argparse.Namespace) -> int:
    from .. import diagrams

    if getattr(args, "lang", None):
        i18n.set_language(args.lang)
    if args.output and not args.output.lower().endswith((".svg", ".png")):
        raise BadInput("diagrams.error.bad_output", file=args.output)
    snap = load_snapshot(args)
    if args.layer == "pods":
        graph = diagrams.pod_network(snap)
    elif args.layer == "services":
        graph = diagrams.service_network(snap, show_chains=args.chains)
    elif args.layer == "policies":
        graph = diagrams.policy_network(snap, port=args.port)
    else:
        graph = diagrams.overview(snap, detail=True, port=args.port)
    return _emit(graph, args.output)


def _trace(args: argparse.Namespace) -> int:
    from ..trace import draw_trace, trace

    if getattr(args, "lang", None):
        i18n.set_language(args.lang)
    if args.observe and args.snapshot:
        raise BadInput("trace.cli.observe_needs_lab")
    snap = load_snapshot(args)
    result = trace(snap, args.src, args.dst)
    if args.observe:
        from ..kernel_trace import observe
        from .target import lab_name_from

        both = observe(lab_name_from(args, "trace --observe"), result)
        sys.stdout.write(both.to_text())
    else:
        sys.stdout.write(result.to_text())
    if args.output:
        _emit(both.draw() if args.observe else draw_trace(result), args.output)
    return 0 if not args.observe or both.ok else 1
