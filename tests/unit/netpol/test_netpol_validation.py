"""API-server defaulting and validation: the field paths and messages a 422 would carry."""
from __future__ import annotations

import pytest

from labkit.netpol import InvalidPolicy, default_policy, parse_policy, validate_policy


def pol(spec: dict, name: str = "p") -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "x"}, "spec": spec}


def errors(spec: dict) -> list[tuple[str, str]]:
    return [(e.field, e.type) for e in validate_policy(pol(spec))]


# -- defaulting -------------------------------------------------------------------------------

def test_policy_types_default_to_ingress_only():
    assert default_policy(pol({"podSelector": {}}))["spec"]["policyTypes"] == ["Ingress"]


def test_policy_types_add_egress_when_egress_rules_exist():
    spec = default_policy(pol({"podSelector": {}, "egress": [{}]}))["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]


def test_empty_egress_list_gives_a_default_deny_ingress_policy():
    """The d02 trap: `egress: []` without policyTypes is NOT a default-deny egress."""
    p = parse_policy(pol({"podSelector": {}, "egress": []}))
    assert p.policy_types == ("Ingress",)


def test_explicit_empty_policy_types_are_defaulted_too():
    assert default_policy(pol({"podSelector": {}, "policyTypes": []}))["spec"]["policyTypes"] == ["Ingress"]


def test_protocol_defaults_to_tcp_and_input_is_not_modified():
    obj = pol({"podSelector": {}, "ingress": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]})
    out = default_policy(obj)
    assert [p["protocol"] for p in out["spec"]["ingress"][0]["ports"]] == ["TCP", "UDP"]
    assert "protocol" not in obj["spec"]["ingress"][0]["ports"][0]
    assert "policyTypes" not in obj["spec"]


def test_valid_policy_has_no_errors():
    assert validate_policy(pol({
        "podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
        "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"pod": "a"}}},
                              {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                     "ports": [{"port": 8000, "endPort": 9000}, {"port": "serve-80-tcp"}]}],
    })) == []


# -- validation: one test per rule ------------------------------------------------------------

def test_peer_without_any_selector_is_required():
    errs = validate_policy(pol({"ingress": [{"from": [{"podSelector": {}}, {}]}]}))
    assert [(e.field, e.type) for e in errs] == [("spec.ingress[0].from[1]", "FieldValueRequired")]
    assert errs[0].render("en") == "spec.ingress[0].from[1]: Required value: must specify a peer"
    assert errs[0].to_cause() == {"reason": "FieldValueRequired", "field": "spec.ingress[0].from[1]",
                                  "message": "Required value: must specify a peer"}


def test_ipblock_with_another_selector_is_forbidden():
    assert errors({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}) == [
        ("spec.egress[0].to[0]", "FieldValueForbidden")]


def test_end_port_below_port():
    errs = validate_policy(pol({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}))
    assert [(e.field, e.type) for e in errs] == [("spec.ingress[0].ports[0].endPort", "FieldValueInvalid")]
    assert errs[0].render("en") == ("spec.ingress[0].ports[0].endPort: Invalid value: 80: "
                                    "must be greater than or equal to `port`")


def test_end_port_equal_to_port_is_valid():
    assert errors({"ingress": [{"ports": [{"port": 80, "endPort": 80}]}]}) == []


def test_end_port_with_named_port():
    assert errors({"ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}) == [
        ("spec.ingress[0].ports[0].endPort", "FieldValueInvalid")]


def test_end_port_without_port():
    assert errors({"egress": [{"ports": [{"endPort": 90}]}]}) == [
        ("spec.egress[0].ports[0].endPort", "FieldValueInvalid")]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(port):
    assert errors({"ingress": [{"ports": [{"port": port}]}]}) == [("spec.ingress[0].ports[0].port", "FieldValueInvalid")]


@pytest.mark.parametrize("name", ["HTTP", "a-very-long-port-name", "80", "-web", "we--b"])
def test_bad_port_names(name):
    assert ("spec.ingress[0].ports[0].port", "FieldValueInvalid") in errors({"ingress": [{"ports": [{"port": name}]}]})


def test_unknown_protocol_is_not_supported():
    assert errors({"ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]}) == [
        ("spec.ingress[0].ports[0].protocol", "FieldValueNotSupported")]


def test_except_outside_cidr():
    errs = validate_policy(pol({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16",
                                                                 "except": ["10.0.1.0/24", "10.1.0.0/24"]}}]}]}))
    assert [(e.field, e.type) for e in errs] == [("spec.egress[0].to[0].ipBlock.except[1]", "FieldValueInvalid")]
    assert "must be a strict subset of `cidr`" in errs[0].render("en")


def test_except_equal_to_cidr_is_not_a_strict_subset():
    assert errors({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}]}]}) == [
        ("spec.egress[0].to[0].ipBlock.except[0]", "FieldValueInvalid")]


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.300/24", "nonsense", "10.0.0.1"])
def test_invalid_cidr(cidr):
    assert errors({"egress": [{"to": [{"ipBlock": {"cidr": cidr}}]}]}) == [
        ("spec.egress[0].to[0].ipBlock.cidr", "FieldValueInvalid")]


def test_cidr_with_host_bits_is_accepted_as_upstream_e2e_uses_it():
    assert errors({"egress": [{"to": [{"ipBlock": {"cidr": "10.244.1.1/4", "except": ["10.244.1.2/32"]}}]}]}) == []


def test_missing_cidr_is_required():
    assert errors({"egress": [{"to": [{"ipBlock": {"except": []}}]}]}) == [
        ("spec.egress[0].to[0].ipBlock.cidr", "FieldValueRequired")]


def test_unknown_policy_type():
    errs = validate_policy(pol({"policyTypes": ["Ingress", "Egres"]}))
    assert [(e.field, e.type) for e in errs] == [("spec.policyTypes[1]", "FieldValueNotSupported")]
    assert errs[0].render("en") == 'spec.policyTypes[1]: Unsupported value: "Egres": supported values: "Ingress", "Egress"'


def test_too_many_policy_types():
    assert errors({"policyTypes": ["Ingress", "Egress", "Ingress"]}) == [("spec.policyTypes", "FieldValueInvalid")]


@pytest.mark.parametrize("expr, field, type_", [
    ({"key": "a", "operator": "In"}, "values", "FieldValueRequired"),
    ({"key": "a", "operator": "NotIn", "values": []}, "values", "FieldValueRequired"),
    ({"key": "a", "operator": "Exists", "values": ["x"]}, "values", "FieldValueForbidden"),
    ({"key": "a", "operator": "DoesNotExist", "values": ["x"]}, "values", "FieldValueForbidden"),
    ({"key": "a", "operator": "Equals", "values": ["x"]}, "operator", "FieldValueInvalid"),
    ({"key": "-bad", "operator": "Exists"}, "key", "FieldValueInvalid"),
    ({"key": "a", "operator": "In", "values": ["bad value"]}, "values[0]", "FieldValueInvalid"),
])
def test_label_selector_requirements(expr, field, type_):
    got = errors({"ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [expr]}}]}]})
    assert got == [(f"spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].{field}", type_)]


def test_bad_pod_selector_label_value():
    assert errors({"podSelector": {"matchLabels": {"app": "no spaces"}}}) == [
        ("spec.podSelector.matchLabels", "FieldValueInvalid")]


def test_name_is_required():
    obj = pol({})
    del obj["metadata"]["name"]
    assert [(e.field, e.type) for e in validate_policy(obj)] == [("metadata.name", "FieldValueRequired")]


def test_wrong_shapes_are_reported_not_raised():
    got = errors({"podSelector": [], "ingress": {"from": []}, "egress": [{"ports": "80"}]})
    assert ("spec.podSelector", "FieldValueInvalid") in got
    assert ("spec.ingress", "FieldValueInvalid") in got
    assert ("spec.egress[0].ports", "FieldValueInvalid") in got


def test_all_errors_are_collected():
    got = errors({"ingress": [{"from": [{}], "ports": [{"port": 90, "endPort": 80}]}], "policyTypes": ["Foo"]})
    assert {f for f, _ in got} == {"spec.ingress[0].from[0]", "spec.ingress[0].ports[0].endPort", "spec.policyTypes[0]"}


def test_parse_policy_raises_with_every_cause_in_both_languages():
    with pytest.raises(InvalidPolicy) as info:
        parse_policy(pol({"ingress": [{"from": [{}]}], "policyTypes": ["Foo"]}, name="broken"),
                     source="lab.yaml, document 2")
    exc = info.value
    assert exc.exit_code == 2 and len(exc.errors) == 2
    en, fr = exc.message("en"), exc.message("fr")
    assert en.startswith("lab.yaml, document 2: NetworkPolicy broken is invalid: spec.ingress[0].from[0]: Required")
    assert fr.startswith("lab.yaml, document 2 : la NetworkPolicy broken est invalide : spec.ingress[0].from[0] : "
                         "Valeur requise : il faut indiquer un pair")
    assert "valeurs acceptées" in fr and "supported" not in fr


def test_french_field_messages_differ_from_english():
    for err in validate_policy(pol({"ingress": [{"from": [{}], "ports": [{"port": "http", "endPort": 9}]}],
                                    "policyTypes": ["Foo"]})):
        assert err.message("fr") != err.message("en")
