"""How a proof reads (pure): facts rendered in EN and FR."""
from labkit.proofs import Proof


def test_rendering_in_both_languages():
    p = Proof("proof.l4", True, {"pod": "default/client", "pod_ip": "10.244.1.2", "cluster_ip": "10.96.0.9",
                                 "port": 80, "other_port": 81, "ping_pod": True, "ping_service": False,
                                 "open_port": True, "pod_other": True, "other": False})
    assert p.render("en").endswith("(not exposed): no answer: claim holds")
    assert p.render("fr").endswith("(non exposé) : pas de réponse : affirmation vérifiée")
    assert "TCP 10.244.1.2:81 (the pod itself): answers" in p.render("en")
    assert "TCP 10.244.1.2:81 (le pod lui-même) : répond" in p.render("fr")
    q = Proof("proof.pod_to_node", False, {"pod": "a", "pod_ip": "10.244.1.2", "pod_node": "w", "node": "w2",
                                           "seen": "172.18.0.3", "how": "proof.snat"})
    assert "SNAT vers le nœud du pod" in q.render("fr") and "NON vérifiée" in q.render("fr")
    assert "#cf222e" in q._repr_html_()


def test_pod_to_pod_renders_what_the_server_saw():
    p = Proof("proof.pod_to_pod", True, {"src": "nb01/client", "src_ip": "10.244.2.4", "url": "http://10.244.1.3:80/",
                                         "seen": "10.244.2.4", "how": "proof.no_nat"})
    assert p.render("en") == ("pod nb01/client (10.244.2.4) -> http://10.244.1.3:80/: the server saw the connection "
                              "come from 10.244.2.4 (no NAT): claim holds")
    assert p.render("fr").endswith("le serveur a vu la connexion venir de 10.244.2.4 (sans NAT) : affirmation vérifiée")


def test_a_documented_snat_reads_as_a_departure_not_a_failure():
    facts = {"pod": "a", "pod_ip": "10.244.1.2", "pod_node": "w", "node": "w2", "seen": "172.18.0.3",
             "how": "proof.snat"}
    q = Proof("proof.pod_to_node", False, facts, departure=True)
    assert "known departure of this CNI" in q.render("en") and "does NOT hold" not in q.render("en")
    assert "écart connu de ce CNI" in q.render("fr") and "NON vérifiée" not in q.render("fr")
    assert "#9a6700" in q._repr_html_() and "#cf222e" not in q._repr_html_()
