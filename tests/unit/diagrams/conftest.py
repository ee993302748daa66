"""Fixtures for the diagram and trace tests: the reference snapshots (see scripts/make_reference_snapshots.py)."""
from pathlib import Path

import pytest

from labkit.snapshot import ClusterSnapshot

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "snapshots"


def load(flavor: str) -> ClusterSnapshot:
    return ClusterSnapshot.load(FIXTURES / f"reference-{flavor}.json")


@pytest.fixture(params=["kindnet", "flannel"])
def snap(request) -> ClusterSnapshot:
    return load(request.param)


@pytest.fixture
def kindnet() -> ClusterSnapshot:
    return load("kindnet")


@pytest.fixture
def flannel() -> ClusterSnapshot:
    return load("flannel")


@pytest.fixture(autouse=True)
def english_by_default():
    """The CLI tests switch the language for the process: start every test in English."""
    from labkit import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")
