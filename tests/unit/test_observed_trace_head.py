"""The observed trace's header reads right for one packet on one node (it said '1 traces de paquet dans 1 nœuds')."""
import pytest

from labkit import i18n
from labkit import observed_trace  # noqa: F401  (registers the observe.* messages)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_header_has_no_plural_after_one(lang):
    text = i18n.t("observe.head", lang, packets=1, nodes=1)
    for wrong in ("1 packet traces", "1 nodes", "1 traces", "1 nœuds"):
        assert wrong not in text, text
    assert ("nœuds : 1" if lang == "fr" else "nodes: 1") in text
