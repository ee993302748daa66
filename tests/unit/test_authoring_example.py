"""The author's guide's worked example (``docs/examples/90-first-service.py``) builds as the guide
says (pure: no lab; a stand-in for the Kubernetes client answers the check's ``observe``):

- it builds clean, in both languages, with the same structure and French text in the French notebook;
- no solution runs on Shift+Enter in the learner's notebook (it is a collapsed markdown cell), and the
  instructor's build keeps it as code;
- its check says "Not yet" with no answer, and "Well done" with the right one;
- every source excerpt the guide quotes is in the example, as written.
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from labkit import exercises as ex
from labkit.notebook_build import build, lint, structure

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "90-first-service.py"
GUIDES = [ROOT / "docs" / "AUTHORING.md"]          # English, with a French summary (as README and docs/)
SOURCE = EXAMPLE.read_text()


def test_the_example_builds_clean_in_both_languages():
    assert lint(SOURCE, str(EXAMPLE)) == []
    en, fr = build(SOURCE, "en", in_course=False), build(SOURCE, "fr", in_course=False)
    assert structure(en) == structure(fr)
    md = {lang: "\n".join(c.source for c in nb.cells if c.cell_type == "markdown") for lang, nb in
          (("en", en), ("fr", fr))}
    assert "Exercise 1" in md["en"] and "Exercice 1" in md["fr"] and "Exercise 1" not in md["fr"]
    assert 'LANG = "fr"' in fr.cells[0].source


def test_no_solution_runs_in_the_learner_notebook():
    solution = re.search(r"^# %% solution 90\.1\n(.*?)\n\n# %%", SOURCE, re.S | re.M).group(1)
    for lang in ("en", "fr"):
        nb = build(SOURCE, lang, in_course=False)
        cells = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert [c.cell_type for c in cells] == ["markdown"] and "<details>" in cells[0].source
        assert "labkit.solution" not in cells[0].source        # a draft is not in labkit.solution's catalog
        assert not [c for c in nb.cells if c.cell_type == "code" and "list_namespaced_endpoint_slice(\n    \"nb90\""
                    in c.source]
        assert solution.splitlines()[0] in cells[0].source
    instructor = build(SOURCE, "en", instructor=True, in_course=False)
    assert [c.cell_type for c in instructor.cells if "solution" in c.metadata.get("tags", [])] == ["code"]


class _Api:
    """The two calls the example's observe makes, answered from a Service with ``ready`` endpoints."""

    ready = 2

    def __init__(self, api=None):
        pass

    def read_namespaced_service(self, name, namespace):
        return SimpleNamespace(metadata=SimpleNamespace(name=name, namespace=namespace))

    def list_namespaced_endpoint_slice(self, namespace, label_selector):
        assert label_selector == "kubernetes.io/service-name=web"
        endpoints = [SimpleNamespace(conditions=SimpleNamespace(ready=i < self.ready)) for i in range(3)]
        return SimpleNamespace(items=[SimpleNamespace(endpoints=endpoints)])


@pytest.fixture
def example_check(monkeypatch, tmp_path):
    from kubernetes import client

    from labkit.exercises.core import REGISTRY

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))          # progress.json of this test only
    monkeypatch.setattr(client, "CoreV1Api", _Api)
    monkeypatch.setattr(client, "DiscoveryV1Api", _Api)
    nb = build(SOURCE, "en", in_course=False)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and 'ex.exercise("90.1"' in c.source)
    exec(compile(cell, str(EXAMPLE), "exec"), {"ex": ex})       # the cell defines and registers the check
    yield SimpleNamespace(api=None)
    REGISTRY.pop("90.1", None)


def test_the_check_says_not_yet_without_an_answer_and_well_done_with_the_right_one(example_check):
    cluster = example_check
    verdict = ex.check("90.1", None, cluster, service="nb90/web", lang="en")
    assert not verdict.ok and verdict.text().startswith("✘ Not yet") and "put a number in `endpoints`" in str(verdict)
    assert "Pas encore" in str(ex.check("90.1", None, cluster, service="nb90/web", lang="fr"))
    wrong = ex.check("90.1", 3, cluster, service="nb90/web", lang="en")
    assert not wrong.ok and "sends to 2 pod(s), not 3" in str(wrong)
    assert ex.check("90.1", 2, cluster, service="nb90/web", lang="en").ok


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guides_quote_the_example_as_it_is(guide):
    excerpts = [b for b in re.findall(r"```python\n(.*?)```", guide.read_text(), re.S) if b.startswith("# %%")]
    assert len(excerpts) >= 3, guide
    for block in excerpts:
        assert block in SOURCE, f"{guide.name}: this excerpt is not in {EXAMPLE.name}:\n{block}"
