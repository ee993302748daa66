"""Entry point of the ``labkit`` command.

Each command group lives in its own module and adds its sub-commands through
``register(subparsers)``; a sub-command sets ``func`` (called with the parsed args, returns an exit
code). Errors become one line on stderr and a non-zero exit, never a traceback: ``LabkitError``
carries its own exit code (2 for bad input), argparse's own errors exit 2 as well.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from .. import i18n
from ..errors import LabkitError

# Command-group modules, in the order they appear in --help.
COMMAND_MODULES = [
    "labkit.cli.lab",
    "labkit.cli.companion",
    "labkit.cli.dns",
    "labkit.cli.jupyter",
    "labkit.cli.classroom",
    "labkit.cli.netpol",
    "labkit.cli.probe",
    "labkit.cli.capture",
    "labkit.cli.kube_proxy",
    "labkit.cli.bgp",
    "labkit.cli.socket_lb",
    "labkit.cli.draw",
    "labkit.cli.kind",
    "labkit.cli.bench",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as for our own bad-input errors
        self.exit(2, f"labkit: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="labkit", description="kubenet-lab: the Kubernetes network model, live.")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, help="language of messages (en, fr)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command group not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def _early_language(argv: list[str]) -> None:
    """Honour ``--lang`` before the parser is built, so help texts are translated too."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in i18n.LANGUAGES:
            i18n.set_language(value)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _early_language(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        i18n.set_language(args.lang)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except LabkitError as exc:
        print(f"labkit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `labkit status --json | head`: the reader left, nothing to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
