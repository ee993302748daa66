"""Per-cell explanations: which policies isolate, which rule allows, in English and French."""
from __future__ import annotations

from netpol_model import Model, policy

NS_LABEL = "kubernetes.io/metadata.name"


def _model() -> Model:
    return Model(["80/TCP", "81/TCP"]).create(
        policy("deny-all", ingress=[]),
        policy("allow-y", pod_labels={"pod": "a"},
               ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]},
                        {"from": [{"namespaceSelector": {"matchLabels": {NS_LABEL: "y"}}}],
                         "ports": [{"port": 80}]}]),
        policy("egress-a", ns="z", pod_labels={"pod": "a"}, egress=[{"to": [{"namespaceSelector": {}}],
                                                                      "ports": [{"port": "serve-81-tcp"}]}]))


def test_allowed_cell_names_the_isolating_policies_and_the_rule():
    e = _model().engine().explain("y/c", "x/a", 80)
    assert e.allowed
    assert e.ingress.isolated_by == ("x/deny-all", "x/allow-y")
    assert [str(r) for r in e.ingress.allowed_by] == ["x/allow-y spec.ingress[1]"]
    assert not e.egress.isolated
    text = e.render("en")
    assert text.splitlines()[0] == "y/c -> x/a, TCP/80: ALLOWED"
    assert "Ingress to x/a: isolated by x/deny-all, x/allow-y; allowed by x/allow-y spec.ingress[1]" in text
    assert "Egress from y/c: not isolated (no policy selects y/c for egress), so allowed" in text


def test_denied_cell_says_no_rule_allows_and_shows_the_near_miss():
    e = _model().engine().explain("y/c", "x/a", 81)
    assert not e.allowed and e.ingress.allowed_by == ()
    assert [str(r) for r in e.ingress.port_misses] == ["x/allow-y spec.ingress[1]"]
    text = e.render("en")
    assert "y/c -> x/a, TCP/81: DENIED" in text
    assert "no rule allows it, so denied" in text
    assert "x/allow-y spec.ingress[1] admits this peer, but not this port and protocol" in text


def test_egress_side_is_explained_for_the_source():
    engine = _model().engine()
    denied, allowed = engine.explain("z/a", "y/b", 80), engine.explain("z/a", "y/b", 81)
    assert not denied.allowed and denied.egress.isolated_by == ("z/egress-a",)
    assert denied.egress.port_misses and not denied.ingress.isolated
    assert allowed.allowed and [str(r) for r in allowed.egress.allowed_by] == ["z/egress-a spec.egress[0]"]


def test_several_rules_allowing_are_all_listed():
    e = _model().engine().explain("x/b", "x/a", 80)
    assert [r.path for r in e.ingress.allowed_by] == ["spec.ingress[0]"]
    m = _model().create(policy("also", pod_labels={"pod": "a"}, ingress=[{}]))
    e = m.engine().explain("x/b", "x/a", 80)
    assert [str(r) for r in e.ingress.allowed_by] == ["x/allow-y spec.ingress[0]", "x/also spec.ingress[0]"]


def test_self_pair_is_allowed_by_default_and_says_why():
    e = _model().engine().explain("x/c", "x/c", 80)
    assert e.allowed and e.self_allowed and not e.ingress.allowed
    assert "allow_self=False" in e.render("en")
    strict = _model().engine(allow_self=False).explain("x/c", "x/c", 80)
    assert not strict.allowed and "Self pair evaluated" in strict.render("en")


def test_ipblock_switch_is_mentioned():
    e = _model().engine(ipblock_matches_pods=False).explain("x/b", "x/a", 80)
    assert "ipblock_matches_pods=False" in e.render("en")


def test_french_rendering():
    text = _model().engine().explain("y/c", "x/a", 81).render("fr")
    assert text.splitlines()[0] == "y/c -> x/a, TCP/81 : REFUSÉ"
    assert "Entrée vers x/a : isolé par x/deny-all, x/allow-y ; aucune règle ne l'autorise, donc refusé" in text
    assert "Sortie de y/c : non isolé (aucune politique ne sélectionne y/c en sortie), donc autorisé" in text
    assert "admet ce pair, mais pas ce port ni ce protocole" in text


def test_reachability_explain_uses_its_port_and_html():
    r = _model().reach(81)
    e = r.explain("y/c", "x/a")
    assert (e.port, e.protocol, e.allowed) == (81, "TCP", False)
    assert e._repr_html_().startswith("<pre>y/c -&gt; x/a")
