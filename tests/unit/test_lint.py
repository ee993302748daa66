"""The lint step of `make test`: ruff, mypy (strict on the pure packages) and the layer contracts.

`make lint` runs the same three commands; this test keeps their configuration coherent and fails
with the tools' own report when the tree does not pass them.
"""
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pure_contracts() -> list[dict]:
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    return [c for c in contracts if c["name"].startswith("Pure packages")]


def _strict_modules() -> list[str]:
    for override in PYPROJECT["tool"]["mypy"]["overrides"]:
        if override.get("disallow_untyped_defs"):
            return [m.removesuffix(".*") for m in override["module"]]
    raise AssertionError("no strict override in [tool.mypy]")


def test_tools_are_configured_in_pyproject():
    tool = PYPROJECT["tool"]
    assert tool["ruff"]["line-length"] == 100
    assert {"E", "F", "I", "B", "UP"} <= set(tool["ruff"]["lint"]["select"])
    assert tool["mypy"]["files"] == ["labkit"]
    assert len(tool["importlinter"]["contracts"]) >= 2


def test_strictly_typed_modules_are_pure():
    """Every module mypy checks strictly is one the import contract keeps free of I/O."""
    pure = {m for c in _pure_contracts() for m in c["source_modules"]}
    assert set(_strict_modules()) <= pure, set(_strict_modules()) - pure


def test_pure_contracts_forbid_the_io_modules():
    assert _pure_contracts()
    for contract in _pure_contracts():
        forbidden = set(contract["forbidden_modules"])
        assert {"subprocess", "socket", "kubernetes", "labkit.nodes", "labkit.cluster"} <= forbidden


def test_make_test_runs_lint_before_pytest():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("lint") < recipe.index("pytest")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    for tool in ("ruff check labkit bench", "mypy", "lint-imports"):
        assert tool in lint


IMPORT_LINTER = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


@pytest.mark.parametrize("argv", [["-m", "ruff", "check", "labkit", "bench"], ["-m", "mypy"],
                                  ["-c", IMPORT_LINTER, "--no-cache"]],
                         ids=["ruff", "mypy", "import-linter"])
def test_tree_passes(argv):
    """The same three commands as `make lint` (through this interpreter, wherever its venv is)."""
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
