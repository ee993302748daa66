"""Upstream e2e cases transcribed into the 3x3 model.

Source: kubernetes/kubernetes ``test/e2e/network/netpol/network_policy.go`` (commit 9db638c0).
Each test keeps upstream's name, builds the same policies and the same expected truth table
with the same calls (``expect_peer``, ``expect_all_ingress``...), and checks every non-self cell
(upstream's ``ignoreLoopback``). Multi-step tests mutate the model between checks.
"""
from __future__ import annotations

from netpol_model import Model, Truth, policy

X_A, X_B, X_C = "x/a", "x/b", "x/c"
Y_A, Y_B = "y/a", "y/b"
Z_A, Z_B = "z/a", "z/b"
NS_LABEL = "kubernetes.io/metadata.name"


def ns_is(name: str) -> dict:
    return {"matchLabels": {NS_LABEL: name}}


def pod_is(name: str) -> dict:
    return {"matchLabels": {"pod": name}}


def not_in(key: str, *values: str) -> dict:
    return {"matchExpressions": [{"key": key, "operator": "NotIn", "values": list(values)}]}


def in_(key: str, *values: str) -> dict:
    return {"matchExpressions": [{"key": key, "operator": "In", "values": list(values)}]}


def test_default_deny_ingress():
    m = Model(["80/TCP"]).create(policy("deny-ingress", ingress=[]))
    Truth().expect_peer({}, {"ns": "x"}, False).check(m.reach(80))


def test_default_deny_all():
    m = Model(["80/TCP"]).create(policy("deny-all", ingress=[], egress=[]))
    Truth().expect_peer({}, {"ns": "x"}, False).expect_peer({"ns": "x"}, {}, False).check(m.reach(80))


def test_allow_traffic_from_pods_within_server_namespace_based_on_podselector():
    m = Model(["80/TCP"]).create(policy("x-a-allows-x-b", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"podSelector": pod_is("b")}]}]))
    Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True).check(m.reach(80))


def test_allow_ingress_traffic_for_a_target():
    m = Model(["80/TCP"]).create(
        policy("deny-all", ingress=[]),
        policy("allow-all-to-a", pod_labels={"pod": "a"},
               ingress=[{"from": [{"podSelector": {}, "namespaceSelector": {}}]}]))
    t = Truth().expect_all_ingress(X_A, True).expect_all_ingress(X_B, False).expect_all_ingress(X_C, False)
    t.check(m.reach(80))


def test_allow_ingress_traffic_from_pods_in_all_namespaces():
    m = Model(["80/TCP"]).create(policy("allow-from-another-ns", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {}}}]}]))
    Truth().check(m.reach(80))


def test_allow_traffic_only_from_a_different_namespace_based_on_namespaceselector():
    m = Model(["80/TCP"]).create(policy("allow-client-a-via-ns-selector", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"namespaceSelector": ns_is("y")}]}]))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False).check(m.reach(80))


def test_podselector_with_matchexpressions():
    m = Model(["80/TCP"]).create(policy("x-a-allows-x-b", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"podSelector": in_("pod", "b")}]}]))
    Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True).check(m.reach(80))


def test_namespaceselector_with_matchexpressions():
    m = Model(["80/TCP"]).create(policy("allow-ns-y-match-selector", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"namespaceSelector": in_(NS_LABEL, "y")}]}]))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False).check(m.reach(80))


def test_podselector_or_namespaceselector():
    m = Model(["80/TCP"]).create(policy(
        "allow-ns-y-match-selector", pod_labels={"pod": "a"},
        ingress=[{"from": [{"namespaceSelector": not_in(NS_LABEL, "x")}, {"podSelector": pod_is("b")}]}]))
    Truth().expect(X_A, X_A, False).expect(X_C, X_A, False).check(m.reach(80))


def test_podselector_and_namespaceselector():
    m = Model(["80/TCP"]).create(policy(
        "allow-ns-y-podselector-and-nsselector", pod_labels={"pod": "a"},
        ingress=[{"from": [{"namespaceSelector": not_in(NS_LABEL, "x"), "podSelector": pod_is("b")}]}]))
    t = Truth().expect_all_ingress(X_A, False).expect(Y_B, X_A, True).expect(Z_B, X_A, True)
    t.check(m.reach(80))


def test_multiple_podselectors_and_namespaceselectors():
    m = Model(["80/TCP"]).create(policy(
        "allow-ns-y-z-pod-b-c", pod_labels={"pod": "a"},
        ingress=[{"from": [{"namespaceSelector": not_in(NS_LABEL, "x"), "podSelector": in_("pod", "b", "c")}]}]))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect(Y_A, X_A, False).expect(Z_A, X_A, False).check(m.reach(80))


def test_any_podselectors():
    m = Model(["80/TCP"]).create(policy(
        "allow-ns-x-pod-b-c", pod_labels={"pod": "a"},
        ingress=[{"from": [{"podSelector": pod_is("b")}, {"podSelector": pod_is("c")}]}]))
    Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True).expect(X_C, X_A, True).check(m.reach(80))


def test_allow_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector():
    m = Model(["80/TCP"]).create(policy(
        "allow-ns-y-pod-a-via-namespace-pod-selector", pod_labels={"pod": "a"},
        ingress=[{"from": [{"namespaceSelector": ns_is("y"), "podSelector": pod_is("a")}]}]))
    Truth().expect_all_ingress(X_A, False).expect(Y_A, X_A, True).check(m.reach(80))


def _allow_y_on(port: int, name: str) -> dict:
    return policy(name, pod_labels={"pod": "a"},
                  ingress=[{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"protocol": "TCP", "port": port}]}])


def test_policy_based_on_ports():
    m = Model(["81/TCP"]).create(_allow_y_on(81, "allow-client-a-via-ns-selector"))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect_peer({"ns": "y"}, {"ns": "x", "pod": "a"}, True)
    t.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False).check(m.reach(81))


def test_multiple_stacked_policies_with_overlapping_podselectors():
    m = Model(["80/TCP", "81/TCP"]).create(_allow_y_on(81, "allow-client-a-via-ns-selector"))
    allow = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    allow.expect_peer({"ns": "y"}, {"ns": "x", "pod": "a"}, True)
    allow.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    allow.check(m.reach(81))
    Truth().expect_all_ingress(X_A, False).check(m.reach(80))
    m.create(_allow_y_on(80, "allow-client-a-via-ns-selector-80"))  # step 2: unblock port 80
    allow.check(m.reach(80))


def test_allow_all_policy():
    m = Model(["80/TCP", "81/TCP"]).create(policy("allow-all", ingress=[{}]))
    Truth().check(m.reach(80))
    Truth().check(m.reach(81))


def test_ingress_access_on_one_named_port():
    m = Model(["80/TCP", "81/TCP"]).create(policy("allow-all", ingress=[{"ports": [{"port": "serve-81-tcp"}]}]))
    Truth().check(m.reach(81))
    Truth().expect_peer({}, {"ns": "x"}, False).check(m.reach(80))


def test_ingress_access_from_namespace_on_one_named_port():
    m = Model(["80/TCP", "81/TCP"]).create(policy(
        "allow-client-a-via-ns-selector-80", pod_labels={"pod": "a"},
        ingress=[{"from": [{"namespaceSelector": ns_is("y")}],
                  "ports": [{"port": "serve-80-tcp", "protocol": "TCP"}]}]))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False).check(m.reach(80))
    Truth().expect_all_ingress(X_A, False).check(m.reach(81))


def test_egress_access_on_one_named_port():
    m = Model(["80/TCP", "81/TCP"]).create(policy("allow-egress", egress=[{"ports": [{"port": "serve-80-tcp"}]}]))
    Truth().check(m.reach(80))
    Truth().expect_peer({"ns": "x"}, {}, False).check(m.reach(81))


def test_enforce_updated_policy():
    m = Model(["81/TCP"]).create(policy("allow-all-mutate-to-deny-all", ingress=[{}]))
    Truth().check(m.reach(81))
    m.update(policy("allow-all-mutate-to-deny-all", ingress=[]))
    Truth().expect_peer({}, {"ns": "x"}, False).check(m.reach(81))


def test_allow_ingress_access_from_updated_namespace():
    m = Model(["80/TCP"]).create(policy("allow-client-a-via-ns-selector", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}]}]))
    Truth().expect_all_ingress(X_A, False).check(m.reach(80))
    m.label_namespace("y", ns2="updated")
    Truth().expect_all_ingress(X_A, False).expect_peer({"ns": "y"}, {}, True).check(m.reach(80))


def test_allow_ingress_access_from_updated_pod():
    m = Model(["80/TCP"]).create(policy("allow-client-a-via-pod-selector", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b", "pod2": "updated"}}}]}]))
    Truth().expect_all_ingress(X_A, False).check(m.reach(80))
    m.set_pod_labels(X_B, {"pod": "b", "pod2": "updated"})
    Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True).check(m.reach(80))


def test_deny_ingress_from_pods_on_other_namespaces():
    m = Model(["80/TCP"]).create(policy("deny-empty-policy", ingress=[{"from": [{"podSelector": {"matchLabels": {}}}]}]))
    Truth().expect_peer({"ns": "y"}, {"ns": "x"}, False).expect_peer({"ns": "z"}, {"ns": "x"}, False).check(m.reach(80))


def test_deny_ingress_access_to_updated_pod():
    m = Model(["80/TCP"]).create(policy("deny-ingress-via-label-selector", pod_labels={"target": "isolated"},
                                        ingress=[]))
    Truth().check(m.reach(80))
    m.set_pod_labels(X_A, {"pod": "a", "target": "isolated"})
    Truth().expect_all_ingress(X_A, False).check(m.reach(80))


def test_deny_egress_from_pods_based_on_podselector():
    m = Model(["80/TCP"]).create(policy("deny-egress-pod-a", pod_labels={"pod": "a"}, egress=[]))
    Truth().expect_all_egress(X_A, False).check(m.reach(80))


def test_deny_egress_from_all_pods_in_a_namespace():
    m = Model(["80/TCP"]).create(policy("deny-egress-ns-x", egress=[]))
    Truth().expect_peer({"ns": "x"}, {}, False).check(m.reach(80))


def test_ingress_and_egress_specified_together():
    p = policy("allow-client-a-via-pod-selector", pod_labels={"pod": "a"},
               ingress=[{"from": [{"podSelector": pod_is("b")}]}], egress=[{"ports": [{"port": 80}]}])
    p["spec"]["policyTypes"] = ["Egress", "Ingress"]
    m = Model(["80/TCP", "81/TCP"]).create(p)
    Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True).check(m.reach(80))
    t = Truth().expect_all_ingress(X_A, False).expect_all_egress(X_A, False).expect(X_B, X_A, True)
    t.check(m.reach(81))


def test_denying_egress_on_the_client_side_even_if_the_server_allows_it():
    from_xa = [{"from": [{"namespaceSelector": ns_is("x"), "podSelector": pod_is("a")}]}]
    m = Model(["80/TCP"]).create(
        policy("allow-to-ns-y-pod-a", pod_labels={"pod": "a"},
               egress=[{"to": [{"namespaceSelector": ns_is("y"), "podSelector": pod_is("a")}]}]),
        policy("allow-from-xa-on-ya-match-selector", "y", {"pod": "a"}, ingress=from_xa),
        policy("allow-from-xa-on-yb-match-selector", "y", {"pod": "b"}, ingress=from_xa))
    t = Truth().expect_peer({"ns": "x", "pod": "a"}, {}, False).expect_peer({}, {"ns": "y", "pod": "a"}, False)
    t.expect_peer({"ns": "x", "pod": "a"}, {"ns": "y", "pod": "a"}, True)
    t.expect_peer({}, {"ns": "y", "pod": "b"}, False).check(m.reach(80))


def test_egress_to_a_server_in_a_different_namespace_based_on_podselector_and_namespaceselector():
    m = Model(["80/TCP"]).create(policy("allow-to-ns-y-pod-a", pod_labels={"pod": "a"},
                                        egress=[{"to": [{"namespaceSelector": ns_is("y"), "podSelector": pod_is("a")}]}]))
    Truth().expect_all_egress(X_A, False).expect(X_A, Y_A, True).check(m.reach(80))


def test_ingress_allowing_any_port_on_a_specific_protocol():
    m = Model(["80/TCP", "80/UDP"]).create(policy("allow-ingress-by-proto", pod_labels={"pod": "a"},
                                                  ingress=[{"ports": [{"protocol": "TCP"}]}]))
    Truth().check(m.reach(80, "TCP"))
    Truth().expect_peer({}, {"ns": "x", "pod": "a"}, False).check(m.reach(80, "UDP"))


def test_multiple_ingress_policies_with_allow_all_taking_precedence():
    m = Model(["81/TCP"]).create(policy("allow-ingress-port-80", ingress=[{"ports": [{"port": 80}]}]))
    Truth().expect_peer({}, {"ns": "x"}, False).check(m.reach(81))
    m.create(policy("allow-ingress", ingress=[{}]))
    Truth().check(m.reach(81))


def test_multiple_egress_policies_with_allow_all_taking_precedence():
    m = Model(["81/TCP"]).create(policy("allow-egress-port-80", egress=[{"ports": [{"port": 80}]}]))
    Truth().expect_peer({"ns": "x"}, {}, False).check(m.reach(81))
    m.create(policy("allow-egress", egress=[{}]))
    Truth().check(m.reach(81))


def test_stop_enforcing_policies_after_they_are_deleted():
    m = Model(["80/TCP"]).create(policy("deny-all", ingress=[], egress=[]))
    Truth().expect_peer({"ns": "x"}, {}, False).expect_peer({}, {"ns": "x"}, False).check(m.reach(80))
    m.delete_all()
    Truth().check(m.reach(80))


def test_egress_access_to_server_in_cidr_block():
    m = Model(["80/TCP"])
    m.create(policy("allow-client-a-via-cidr-egress-rule", pod_labels={"pod": "a"},
                    egress=[{"to": [{"ipBlock": {"cidr": f"{m.ip(Y_B)}/32"}}]}]))
    Truth().expect_all_egress(X_A, False).expect(X_A, Y_B, True).check(m.reach(80))
    # The same policy where ipBlock ignores pod IPs (Cilium): x/a reaches nobody.
    Truth().expect_all_egress(X_A, False).check(m.reach(80, ipblock_matches_pods=False))


def test_except_clause_while_egress_access_to_server_in_cidr_block():
    m = Model(["80/TCP"])
    m.create(policy("allow-client-a-via-cidr-egress-rule", pod_labels={"pod": "a"},
                    egress=[{"to": [{"ipBlock": {"cidr": f"{m.ip(X_A)}/4", "except": [f"{m.ip(X_B)}/32"]}}]}]))
    Truth().expect(X_A, X_B, False).check(m.reach(80))


def test_ip_overlapping_both_cidr_and_except_is_allowed_after_update():
    m = Model(["80/TCP"])
    m.create(policy("allow-client-a-via-cidr-egress-rule", pod_labels={"pod": "a"},
                    egress=[{"to": [{"ipBlock": {"cidr": f"{m.ip(X_A)}/4", "except": [f"{m.ip(X_B)}/32"]}}]}]))
    Truth().expect(X_A, X_B, False).check(m.reach(80))
    m.update(policy("allow-client-a-via-cidr-egress-rule", pod_labels={"pod": "a"},
                    egress=[{"to": [{"ipBlock": {"cidr": f"{m.ip(X_B)}/32"}}]}]))
    Truth().expect_all_egress(X_A, False).expect(X_A, X_B, True).check(m.reach(80))


def test_ingress_and_egress_controlled_independently():
    m = Model(["80/TCP"]).create(policy("allow-egress-for-target", pod_labels={"pod": "a"}, egress=[{}]))
    Truth().check(m.reach(80))
    m.create(policy("deny-ingress-via-label-selector", pod_labels={"pod": "a"}, ingress=[]))
    Truth().expect_all_ingress(X_A, False).check(m.reach(80))


def test_sctp_is_not_mistaken_for_tcp():
    m = Model(["81/TCP"]).create(
        policy("deny-ingress", ingress=[]),
        policy("allow-only-sctp-ingress-on-port-81", pod_labels={"pod": "a"},
               ingress=[{"ports": [{"port": 81, "protocol": "SCTP"}]}]))
    Truth().expect_peer({}, {"ns": "x"}, False).check(m.reach(81))


def test_pods_selected_by_an_sctp_only_policy_are_isolated():
    m = Model(["81/TCP"]).create(policy("allow-only-sctp-ingress-on-port-80", pod_labels={"pod": "a"},
                                        ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}]))
    Truth().expect_all_ingress(X_A, False).check(m.reach(81))


def test_no_tcp_access_when_the_policy_specifies_only_udp():
    m = Model(["81/TCP"]).create(policy("allow-only-udp-ingress-on-port-81", pod_labels={"pod": "a"},
                                        ingress=[{"ports": [{"port": 81, "protocol": "UDP"}]}]))
    Truth().expect_all_ingress(X_A, False).check(m.reach(81))


def test_namespaceselector_matchlabels_using_default_ns_label():
    m = Model(["80/TCP"]).create(policy("allow-client-a-via-ns-selector-for-immutable-ns-label",
                                        pod_labels={"pod": "a"}, ingress=[{"from": [{"namespaceSelector": ns_is("y")}]}]))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False).check(m.reach(80))


def test_namespaceselector_matchexpressions_using_default_ns_label():
    m = Model(["80/TCP"]).create(policy("allow-ns-y-match-selector-for-immutable-ns-label", pod_labels={"pod": "a"},
                                        egress=[{"to": [{"namespaceSelector": not_in(NS_LABEL, "y")}]}]))
    Truth().expect_peer({"ns": "x", "pod": "a"}, {"ns": "y"}, False).check(m.reach(80))


# -- the UDP and SCTP variants ------------------------------------------------------------------

def test_udp_default_deny_ingress():
    m = Model(["80/UDP"]).create(policy("deny-all", ingress=[]))
    Truth().expect_peer({}, {"ns": "x"}, False).check(m.reach(80, "UDP"))


def test_udp_policy_based_on_ports():
    m = Model(["81/UDP"]).create(policy("allow-ingress-on-port-81-ns-x", pod_labels={"pod": "a"},
                                        ingress=[{"from": [{"namespaceSelector": ns_is("y")}],
                                                  "ports": [{"port": 81, "protocol": "UDP"}]}]))
    t = Truth().expect_peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False)
    t.expect_peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False).check(m.reach(81, "UDP"))
    # The same policy does not open TCP/81 (it still isolates x/a).
    Truth().expect_all_ingress(X_A, False).check(m.reach(81, "TCP"))


def test_sctp_only_from_a_pod_in_a_different_namespace():
    m = Model(["80/SCTP"]).create(policy(
        "allow-ns-y-pod-a-via-namespace-pod-selector", pod_labels={"pod": "a"},
        ingress=[{"from": [{"namespaceSelector": ns_is("y"), "podSelector": pod_is("a")}]}]))
    Truth().expect_all_ingress(X_A, False).expect(Y_A, X_A, True).check(m.reach(80, "SCTP"))
