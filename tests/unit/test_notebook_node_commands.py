"""Every node command a notebook runs or suggests (``node.run(["ip", ...])`` in code, hints and
solutions) is one the lab daemon hands out to a non-root kernel: `sudo make lab` runs JupyterLab as
the learner, and a command outside :func:`labkit.nodes.served_by_lab` fails there with BadInput
(``ip route get``, ``ip -br -d link`` and ``bridge fdb`` did, in earlier walk-throughs)."""
import ast
import re
from pathlib import Path

from labkit.nodes import served_by_lab

SRC = Path(__file__).resolve().parents[2] / "notebooks" / "src"
TOOLS = {"ip", "bridge", "nft", "iptables-save", "conntrack", "bpftool", "birdc"}
LIST = re.compile(r'\[\s*"[^"\]]*"(?:\s*,\s*"[^"\]]*")*\s*\]')      # a one-line list of string literals


def node_commands() -> list[tuple[str, int, list[str]]]:
    found = []
    for path in sorted(SRC.glob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for m in LIST.finditer(line):
                argv = ast.literal_eval(m.group(0))
                # ["ip"] alone is a dict key (node["ip"]), not a command
                if argv[0] in TOOLS and (len(argv) > 1 or argv[0] != "ip"):
                    found.append((path.name, n, argv))
    return found


def test_notebooks_only_use_node_commands_the_daemon_serves():
    found = node_commands()
    assert len(found) >= 20, found           # the scan still sees the notebooks' commands
    refused = [f"{name}:{n}: {' '.join(argv)}" for name, n, argv in found if not served_by_lab(argv)]
    assert not refused, refused


def test_the_scan_catches_a_command_the_daemon_refuses():
    assert not served_by_lab(["ip", "route", "get", "10.244.2.3", "from", "10.244.1.2"])
    assert LIST.search('fnode.run(["ip", "route", "get", "10.244.2.3", "from", "10.244.1.2"])')
