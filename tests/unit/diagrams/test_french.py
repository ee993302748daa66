"""French pictures and traces leave no English word behind."""
import re

import pytest

from labkit import diagrams
from labkit.trace import trace

from diagram_helpers import svg_texts

ENGLISH = ["node", "network", "share", "connections", "connection", "allowed", "blocked", "policy", "policies",
           "legend", "bridge", "isolated", "every", "outside", "selects", "any", "not", "the", "of", "to",
           "leaves", "enters", "route to", "candidate", "denied", "path", "rules", "read on", "layers"]
NAMES = re.compile(r"[\w.]+(?:[-/][\w.:\[\]]+)+")  # Kubernetes names, chains: not prose


def english_words(texts):
    found = set()
    for t in texts:
        t = NAMES.sub(" ", t)
        for word in ENGLISH:
            if re.search(rf"\b{re.escape(word)}\b", t, flags=re.I):
                found.add(f"{word!r} in {t!r}")
    return sorted(found)


@pytest.mark.parametrize("layer", sorted(diagrams.LAYERS))
def test_french_diagrams_have_no_english_label(snap, layer):
    kwargs = {"port": 5432} if layer in ("policies",) else {}
    if layer == "overview":
        kwargs = {"detail": True, "port": 5432}
    svg = diagrams.to_svg(diagrams.LAYERS[layer](snap, lang="fr", **kwargs))
    assert english_words(svg_texts(svg)) == []


def test_the_english_check_does_catch_english(kindnet):
    svg = diagrams.to_svg(diagrams.pod_network(kindnet, lang="en"))
    assert english_words(svg_texts(svg))


def test_french_trace_text(snap):
    text = trace(snap, "demo/client", "demo/blue:80").to_text("fr")
    assert "33,3\u202f%" in text and "nœud" in text
    lines = [re.sub(r"\S*(via|dev|scope|src|onlink|default)\S*", "", l) for l in text.splitlines()]
    assert english_words(lines) == []


def test_a_shortened_pod_name_cut_again_keeps_one_ellipsis():
    """``coredns-…hbvqt`` (a Deployment's pod, shortened) cut to a narrow cell reads ``cor…hbvqt``,
    never ``co……hbvqt``; a name cut at its end keeps one ellipsis too."""
    from labkit.diagrams.svg import fit, fit_middle

    for width in range(30, 120, 5):
        assert fit_middle("coredns-…hbvqt", 11, width).count("…") == 1, width
        assert "……" not in fit("coredns-…hbvqt", 11, width), width
