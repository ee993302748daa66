"""`labkit` imports only what the invoked command needs: `labkit --help`, `status` and `env` load no
third-party package and none of labkit's heavy modules, and --help still lists every command with
the one-line help its own module registers, in both languages."""
import json
import subprocess
import sys

import pytest

from labkit import i18n
from labkit.cli.main import COMMANDS, build_parser, invoked_command

# What a light command must not load (each costs tens to hundreds of ms, seconds under load).
HEAVY_LABKIT = ("labkit.capture", "labkit.trace", "labkit.live", "labkit.cluster", "labkit.diagrams",
                "labkit.kubeproxy", "labkit.netpol", "labkit.embedded.lifecycle", "labkit.exercises",
                "labkit.bpf", "labkit.snapshot")
ALLOWED_THIRD_PARTY = {"_distutils_hack", "sitecustomize", "usercustomize"}   # start-up hooks

PROBE = """
import contextlib, io, json, sys
from labkit.cli.main import build_parser, invoked_command, main
argv = json.loads(sys.argv[1])
if "--help" in argv:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
else:
    build_parser(invoked_command(argv)).parse_args(argv)
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(argv: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("argv", [["--help"], ["--lang", "fr", "--help"], ["status"], ["status", "--json"],
                                  ["env"], ["status", "--help"]])
def test_a_light_command_imports_nothing_heavy(argv):
    loaded = modules_after(argv)
    heavy = [m for m in loaded if m.startswith(HEAVY_LABKIT)]
    third_party = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names
                   and m.split(".")[0] not in ALLOWED_THIRD_PARTY and m != "__main__"
                   and not m.startswith(("labkit", "__editable__"))]
    assert heavy == [] and third_party == [], (argv, heavy, third_party)


def test_the_probe_sees_a_heavy_import():
    """The check can fail: a command whose module imports the kube-proxy renderers shows them."""
    assert any(m.startswith("labkit.kubeproxy") for m in modules_after(["kube-proxy", "--help"]))


def _helps(parser) -> dict[str, str]:
    sub = next(a for a in parser._actions if a.dest == "command")
    return {a.dest: a.help for a in sub._choices_actions}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_help_lists_every_command_with_its_modules_own_help(lang):
    previous = i18n.get_language()
    i18n.set_language(lang)
    try:
        lazy, every = _helps(build_parser()), _helps(build_parser(every=True))
    finally:
        i18n.set_language(previous)
    assert list(lazy) == list(COMMANDS)
    assert lazy == every
    assert set(every) == set(COMMANDS)


def test_help_is_french_in_french():
    previous = i18n.get_language()
    i18n.set_language("fr")
    try:
        helps = _helps(build_parser())
    finally:
        i18n.set_language(previous)
    assert helps["up"] == "démarrer le lab embarqué (root)"
    assert helps["status"] == "nœuds et pods du lab embarqué"


def test_the_invoked_command_is_the_first_word():
    assert invoked_command(["--lang", "fr", "status", "--json"]) == "status"
    assert invoked_command(["--lang=fr", "env"]) == "env"
    assert invoked_command(["-h"]) is None
    assert invoked_command([]) is None


def test_the_fast_message_reader_reads_what_the_parser_reads():
    assert i18n.tables(fast=True) == i18n.tables(fast=False)


def test_public_names_are_listed_before_first_use() -> None:
    """A notebook's tab completion (``dir(labkit)``) offers the lazily imported names."""
    import subprocess
    import sys
    code = ("import sys, labkit; names = dir(labkit); "
            "print('labkit.live' in sys.modules, all(n in names for n in labkit.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
