"""Every line of code a learner sees in a notebook fits JupyterLab's editor at 1,366 px (the file
browser open, about 118 columns): a wider line is cut at the editor's edge, and the learner scrolls
sideways to read the end of the command they are about to run (01's Multus `kubectl run` was 152)."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "labkit" / "exercises" / "solutions.json"     # what labkit.solution() shows
WIDTH = 116          # measured: 118 columns of the editor's font fit at 1,366 x 768; 2 kept spare


def _code_lines(nb: Path):
    for i, cell in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            yield from ((i, line) for line in source.splitlines())
        else:                                              # a solution, shown as a Python block
            for block in re.findall(r"```python\n(.*?)```", source, re.S):
                yield from ((i, line) for line in block.splitlines())


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS.glob("[ef][nr]/*.ipynb")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_code_fits_the_editor(nb):
    wide = [(i, len(line), line.strip()[:60]) for i, line in _code_lines(nb) if len(line) > WIDTH]
    assert not wide, wide


def test_solutions_fit_the_editor():
    catalog = json.loads(SOLUTIONS.read_text(encoding="utf-8"))
    assert catalog
    wide = [(key, len(line)) for key, entry in catalog.items() for line in entry["code"].splitlines()
            if len(line) > WIDTH]
    assert not wide, wide


def test_no_cell_prints_the_wide_node_table():
    """`kubectl get nodes -o wide` prints ~170 columns a row (OS image, kernel, runtime): at 1,366 px the
    output area wraps each node on two lines, mid-word. Notebook 00 picks its columns instead."""
    runs = [(nb.name, i) for nb in sorted(NOTEBOOKS.glob("[ef][nr]/*.ipynb")) for i, line in _code_lines(nb)
            if "get nodes" in line and "-o wide" in line and not line.lstrip().startswith("#")]
    assert not runs, runs
