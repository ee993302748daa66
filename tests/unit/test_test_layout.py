"""Tests are organised by what they need, and the folder marks them (tests/conftest.py)."""
from pathlib import Path

from tests.conftest import FOLDER_MARKERS, TESTS, folder_markers


def test_each_folder_gets_its_markers():
    assert folder_markers(TESTS / "lab" / "test_x.py") == ("lab",)
    assert folder_markers(TESTS / "notebooks" / "test_x.py") == ("lab",)
    assert folder_markers(TESTS / "browser" / "test_x.py") == ("browser",)
    assert folder_markers(TESTS / "unit" / "netpol" / "test_x.py") == ()
    assert folder_markers(TESTS / "apiserver" / "test_x.py") == ()
    assert folder_markers(Path("/elsewhere/test_x.py")) == ()


def test_every_marked_folder_exists_and_markers_are_registered():
    import tomllib
    registered = {m.split(":")[0] for m in tomllib.loads((TESTS.parent / "pyproject.toml").read_text())
                  ["tool"]["pytest"]["ini_options"]["markers"]}
    for folder, markers in FOLDER_MARKERS.items():
        assert (TESTS / folder).is_dir(), folder
        assert set(markers) <= registered


def test_only_the_top_conftest_marks_tests():
    """A collection hook in a folder's conftest sees every collected test, not only its folder's."""
    for conftest in TESTS.rglob("conftest.py"):
        if conftest.parent != TESTS:
            assert "pytest_collection_modifyitems" not in conftest.read_text(), conftest
