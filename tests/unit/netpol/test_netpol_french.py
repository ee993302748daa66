"""French output leaves no English sentence behind."""
from __future__ import annotations

import re
import string

from labkit import i18n
from labkit.netpol import validate_policy
from netpol_model import Model, policy

# Words that only appear in our English sentences (API field names such as podSelector stay).
ENGLISH = re.compile(r"\b(allowed|denied|isolated|policy|policies|rule|rules|ingress|egress|rows|columns|"
                     r"must|may|not|no|so|from|to|the|and|or|is|are|only|every|value|between)\b", re.I)


def _french_sample() -> str:
    m = Model(["80/TCP", "81/TCP"]).create(
        policy("deny-all", ingress=[], egress=[]),
        policy("allow", pod_labels={"pod": "a"}, ingress=[{"ports": [{"port": 80}]}]))
    engine = m.engine(ipblock_matches_pods=False)
    r = engine.reachability(81)
    parts = [r.to_table("fr", d) for d in ("combined", "ingress", "egress")]
    parts += [engine.explain(s, d, 81).render("fr") for s, d in (("x/a", "x/a"), ("y/a", "x/a"), ("x/b", "y/a"))]
    parts += [Model().engine(allow_self=False).explain("x/a", "x/a", 80).render("fr")]
    bad = {"metadata": {"name": "p"}, "spec": {"policyTypes": ["Foo"], "ingress": [
        {"from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/24"]}, "podSelector": {}}],
         "ports": [{"port": "x--", "endPort": 3, "protocol": "ICMP"}, {"port": 0}]}]}}
    parts += [e.render("fr") for e in validate_policy(bad)]
    return "\n".join(parts)


def _strip_code(text: str) -> str:
    """Remove what is code, not prose: field paths, quoted values, `backticked` names, pod keys."""
    text = re.sub(r"`[^`]*`|\"[^\"]*\"|'[^']*'|[\w.\-]+\[\d+\][\w.\[\]\-]*|\b\w+/[\w\-]+\b", " ", text)
    return text.translate(str.maketrans(string.punctuation, " " * len(string.punctuation)))


def test_french_output_has_no_english_words():
    prose = _strip_code(_french_sample())
    assert not ENGLISH.findall(prose), ENGLISH.findall(prose)


def test_the_english_sample_would_fail_this_check():
    """Guard: the same checks do catch English."""
    m = Model().create(policy("deny-all", ingress=[]))
    assert ENGLISH.findall(_strip_code(m.engine().explain("y/a", "x/a", 80).render("en")))


def test_every_netpol_message_is_translated():
    texts = {k: i18n._catalog[k] for k in i18n.keys() if k.startswith("netpol.")}
    assert len(texts) > 80
    same = {k for k, t in texts.items() if t["en"] == t["fr"]}
    assert same == {"netpol.source", "netpol.table.corner"}  # "document", "src\\dst" are French too


def test_french_punctuation_has_a_space_before_colons():
    for key in i18n.keys():
        if key.startswith("netpol."):
            fr = i18n._catalog[key]["fr"]
            assert not re.search(r"\w: ", fr.replace("clé: valeur", "")), key
