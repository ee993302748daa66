"""Pure layers stay pure: parsers, policy semantics and rule generation never touch the machine.

(kopf enforces its layers with import-linter; this small AST check does the same for ours.)
"""
import ast
from pathlib import Path

import pytest

LABKIT = Path(__file__).resolve().parents[2] / "labkit"
PURE_PACKAGES = ["inspect", "netpol", "kubeproxy"]
PURE_MODULES = ["embedded/topology.py", "embedded/images.py", "i18n.py", "errors.py"]
# The policy package's edges to a live cluster (pyproject.toml's import contracts list them too).
IO_EDGES = ["netpol/handle.py", "netpol/notebook.py", "netpol/probe.py"]
FORBIDDEN = {"subprocess", "socket", "asyncio", "labkit.embedded.netns", "labkit.embedded.daemon",
             "labkit.embedded.lifecycle", "labkit.nodes", "labkit.apiserver"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = ".".join(path.relative_to(LABKIT.parent).with_suffix("").parts[:-node.level])
                base = f"{package}.{base}" if base else package
            names.add(base)
            names |= {f"{base}.{a.name}" for a in node.names}
    return names


def _pure_files():
    files = [LABKIT / m for m in PURE_MODULES]
    for package in PURE_PACKAGES:
        files += sorted((LABKIT / package).rglob("*.py")) if (LABKIT / package).exists() else []
    return [f for f in files if str(f.relative_to(LABKIT)) not in IO_EDGES]


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(LABKIT)))
def test_pure_module_does_no_io(path):
    bad = {name for name in _imports(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"
