"""Entry point of the ``labkit`` command.

Each command group lives in its own module and adds its sub-commands through
``register(subparsers)``; a sub-command sets ``func`` (called with the parsed args, returns an exit
code). Errors become one line on stderr and a non-zero exit, never a traceback: ``LabkitError``
carries its own exit code (2 for bad input), argparse's own errors exit 2 as well.

Only the invoked command's module is imported (``labkit status`` need not load the capture
decoder, the diagram renderer or the kube-proxy renderers): ``COMMANDS`` names, for each top-level
command, its module(s) and its one-line help, so ``labkit --help`` lists every command without
importing any of them. A unit test checks the table against what the modules register.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from .. import i18n
from ..errors import LabkitError

MESSAGES = {
    "cli.up_help": {"en": "start the embedded lab (root)",
                    "fr": "démarrer le lab embarqué (root)"},
    "cli.down_help": {"en": "remove the embedded lab and everything it created",
                      "fr": "supprimer le lab embarqué et tout ce qu'il a créé"},
    "cli.reset_help": {"en": "rebuild the lab from scratch, same shape (seconds)",
                       "fr": "reconstruire le lab de zéro, même forme (quelques secondes)"},
    "cli.kubeconfig_help": {"en": "print the path of the lab's kubeconfig",
                            "fr": "afficher le chemin du kubeconfig du lab"},
    "cli.status_help": {"en": "nodes and pods of the embedded lab",
                        "fr": "nœuds et pods du lab embarqué"},
    "cli.kind_help": {"en": "kind clusters for each CNI (needs docker and kind)",
                      "fr": "des clusters kind pour chaque CNI (il faut docker et kind)"},
    "cli.lang_help": {"en": "language of messages (en, fr)", "fr": "langue des messages (en, fr)"},
}

# Top-level command -> (the modules that register it, the i18n key of its one-line help), in the
# order of --help. ``inspect`` is a group that three modules fill.
_INSPECT = ("labkit.cli.kube_proxy", "labkit.cli.bgp", "labkit.cli.socket_lb")
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "up": (("labkit.cli.lab",), "cli.up_help"),
    "down": (("labkit.cli.lab",), "cli.down_help"),
    "reset": (("labkit.cli.lab",), "cli.reset_help"),
    "kubeconfig": (("labkit.cli.lab",), "cli.kubeconfig_help"),
    "status": (("labkit.cli.lab",), "cli.status_help"),
    "companion": (("labkit.cli.companion",), "companion.cli.help"),
    "dns": (("labkit.cli.dns",), "dns.cli.help"),
    "jupyter": (("labkit.cli.jupyter",), "jupyter.cli.help"),
    "env": (("labkit.cli.jupyter",), "jupyter.cli.env_help"),
    "class": (("labkit.cli.classroom",), "class.cli.help"),
    "netpol": (("labkit.cli.netpol",), "netpol.cli.group"),
    "probe": (("labkit.cli.probe",), "probe.cli.help"),
    "capture": (("labkit.cli.capture",), "capture.cli.help"),
    "kube-proxy": (("labkit.cli.kube_proxy",), "kubeproxy.cli.group_help"),
    "inspect": (_INSPECT, "kubeproxy.cli.inspect_group_help"),
    "bird": (("labkit.cli.bgp",), "bgp.cli.bird_help"),
    "service-proxy": (("labkit.cli.socket_lb",), "socketlb.cli.agent_help"),
    "draw": (("labkit.cli.draw",), "draw.cli.help"),
    "trace": (("labkit.cli.draw",), "trace.cli.help"),
    "kind": (("labkit.cli.kind",), "cli.kind_help"),
    "bench": (("labkit.cli.bench",), "bench.cli.group_help"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as for our own bad-input errors
        self.exit(2, f"labkit: {message}\n")


def command_help(command: str) -> str:
    """The one-line help of a top-level command, in the current language."""
    key = COMMANDS[command][1]
    if command == "companion":
        from ..embedded.companions import PRESETS  # a small module: a table and paths
        return i18n.t(key, presets=", ".join(PRESETS))
    return i18n.t(key)


def invoked_command(argv: list[str]) -> str | None:
    """The top-level command in ``argv`` (the first word that is neither an option nor --lang's value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--lang":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None, *, every: bool = False) -> argparse.ArgumentParser:
    """The parser, with the real sub-parsers of ``command`` (or of every command if ``every``) and,
    for the others, a placeholder that only carries the one-line help."""
    parser = _Parser(prog="labkit", description="kubenet-lab: the Kubernetes network model, live.")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, help=i18n.t("cli.lang_help"))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = {m for modules, _ in COMMANDS.values() for m in modules} if every else set(
        COMMANDS[command][0] if command in COMMANDS else ())
    registered: set[str] = set()
    for name, (modules, _) in COMMANDS.items():
        for module in modules:          # a module registers all its commands, at its first one
            if module in wanted and module not in registered:
                registered.add(module)
                importlib.import_module(module).register(subparsers)
        if name not in subparsers.choices:
            subparsers.add_parser(name, help=command_help(name), add_help=False)
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
    parser = build_parser(invoked_command(argv))
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
