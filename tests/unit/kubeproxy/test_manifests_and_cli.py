"""Manifests in: what kube-proxy keeps, one-line EN/FR errors (exit code 2) for bad input; the CLI."""
import json

import pytest

from kubeproxy_helpers import FIXTURES
from labkit import i18n
from labkit.cli.main import main
from labkit.errors import BadInput
from labkit.kubeproxy import Endpoint, ServicePort, categorize_endpoints, from_objects, jump_rules, NodeContext


def _svc(spec, name="web", extra=None):
    doc = {"kind": "Service", "metadata": {"namespace": "demo", "name": name}, "spec": spec}
    doc.update(extra or {})
    return doc


def test_loaded_overall_services(overall_input):
    by_name = {s.name_string: s for s in overall_input.services}
    assert sorted(by_name) == [f"ns{i}/svc{i}:p80" for i in range(1, 7)]
    svc2, svc5 = by_name["ns2/svc2:p80"], by_name["ns5/svc5:p80"]
    assert svc2.external_policy_local and svc2.health_check_node_port == 30000
    assert svc2.load_balancer_ips == ("1.2.3.4",) and svc2.external_ips == ("192.168.99.22",)
    assert svc5.load_balancer_source_ranges == ("203.0.113.0/25",)  # leading space stripped
    assert svc5.health_check_node_port == 0  # only kept for eTP=Local
    assert svc5.session_affinity_timeout == 10800
    eps = overall_input.endpoints[("ns4", "svc4", "p80", "TCP")]
    assert [(e.ip, e.is_local) for e in eps] == [("10.180.0.4", False), ("10.180.0.5", True)]


def test_headless_external_name_and_ipv6_are_skipped():
    docs = [_svc({"clusterIP": "None", "ports": [{"port": 80}]}, "a"),
            _svc({"type": "ExternalName", "externalName": "x.example", "ports": [{"port": 80}]}, "b"),
            _svc({"clusterIP": "fd00::1", "ports": [{"port": 80}]}, "c")]
    assert from_objects([("f", i, d) for i, d in enumerate(docs)]).services == []


def test_unnamed_port_has_no_colon():
    inp = from_objects([("f", 1, _svc({"clusterIP": "10.96.0.9", "ports": [{"port": 53, "protocol": "UDP"}]}))])
    assert inp.services[0].name_string == "demo/web" and inp.services[0].proto == "udp"


@pytest.mark.parametrize("spec,field,key", [
    ({"ports": [{"port": 80}]}, "spec.clusterIP", "missing"),
    ({"clusterIP": "10.96.0.300", "ports": [{"port": 80}]}, "spec.clusterIP", "not_ip"),
    ({"clusterIP": "10.96.0.9", "ports": [{"port": 0}]}, "spec.ports[0].port", "not_port"),
    ({"clusterIP": "10.96.0.9", "ports": [{"port": "80"}]}, "spec.ports[0].port", "not_port"),
    ({"clusterIP": "10.96.0.9", "ports": [{"port": 80, "protocol": "ICMP"}]}, "spec.ports[0].protocol", "not_protocol"),
    ({"clusterIP": "10.96.0.9", "ports": {"port": 80}}, "spec.ports", "not_list"),
    ({"clusterIP": "10.96.0.9", "ports": [{"port": 80}], "externalTrafficPolicy": "Nearest"},
     "spec.externalTrafficPolicy", "bad_choice"),
    ({"clusterIP": "10.96.0.9", "ports": [{"port": 80}], "loadBalancerSourceRanges": ["10.0.0.0/33"]},
     "spec.loadBalancerSourceRanges[0]", "not_cidr"),
    ({"clusterIP": "10.96.0.9", "ports": [{"port": 80}], "sessionAffinity": "ClientIP",
      "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}},
     "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "bad_timeout"),
])
def test_bad_service_fields(spec, field, key):
    with pytest.raises(BadInput) as exc:
        from_objects([("svc.yaml", 3, _svc(spec))])
    err = exc.value
    assert err.key == f"kubeproxy.field.{key}" and err.exit_code == 2
    for lang in ("en", "fr"):
        text = err.message(lang)
        assert "svc.yaml, document 3 (Service demo/web)" in text and field in text and "\n" not in text


def test_bad_endpoint_slice():
    slice_ = {"kind": "EndpointSlice", "metadata": {"namespace": "demo", "name": "s"}, "endpoints": []}
    with pytest.raises(BadInput) as exc:
        from_objects([("eps.yaml", 1, slice_)])
    assert exc.value.key == "kubeproxy.field.no_service_label"
    slice_["metadata"]["labels"] = {"kubernetes.io/service-name": "web"}
    slice_["endpoints"] = [{"addresses": ["10.0.0.1"], "conditions": {"ready": "yes"}}]
    with pytest.raises(BadInput, match=r"endpoints\[0\]\.conditions\.ready"):
        from_objects([("eps.yaml", 1, slice_)])


def test_categorize_falls_back_to_terminating_endpoints():
    svc = ServicePort("demo", "web", "http", "TCP", "10.96.0.9", 80)
    eps = [Endpoint("10.0.0.2", 80, ready=False, serving=True, terminating=True),
           Endpoint("10.0.0.10", 80, ready=False, serving=False, terminating=True)]
    cat = categorize_endpoints(eps, svc)
    assert [str(e) for e in cat.cluster] == ["10.0.0.2:80"] and cat.has_any
    ready = eps + [Endpoint("10.0.0.3", 80)]
    assert [str(e) for e in categorize_endpoints(ready, svc).cluster] == ["10.0.0.3:80"]


def test_endpoints_sort_as_strings():
    svc = ServicePort("demo", "web", "http", "TCP", "10.96.0.9", 80)
    eps = [Endpoint("10.0.0.2", 80), Endpoint("10.0.0.10", 80)]
    assert [str(e) for e in categorize_endpoints(eps, svc).cluster] == ["10.0.0.10:80", "10.0.0.2:80"]


def test_jump_rules_order_and_args():
    rules = jump_rules(NodeContext())
    assert (rules[-3].table, rules[-3].chain, rules[-3].target) == ("nat", "POSTROUTING", "KUBE-POSTROUTING")
    assert rules[0].args() == ["-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment",
                               "kubernetes externally-visible service portals", "-j", "KUBE-EXTERNAL-SERVICES"]
    assert rules[0].insert_command()[3:7] == ["filter", "-I", "INPUT", "1"]
    assert rules[-1].args() == ["-j", "KUBE-FIREWALL"]
    assert len(jump_rules(NodeContext(localhost_node_ports=False))) == 12


# -- CLI ----------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _english():
    lang = i18n.get_language()
    i18n.set_language("en")
    yield
    i18n.set_language(lang)


def test_cli_render_iptables(capsys):
    assert main(["kube-proxy", "render", "--node-name", "test-node", str(FIXTURES / "overall.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("*filter\n") and out.rstrip().endswith("COMMIT")
    assert "-j KUBE-SVC-XPGD46QRK7WJZT7O" in out and "! -s 10.244.0.0/16" in out


def test_cli_render_nftables_and_inspect_back(capsys, tmp_path):
    assert main(["kube-proxy", "render", "--mode", "nftables", "--node-ip", "172.18.0.2",
                 str(FIXTURES / "overall.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == ["add table ip kube-proxy", "delete table ip kube-proxy"]
    assert "add element ip kube-proxy nodeport-ips { 172.18.0.2 }" in out
    rules = tmp_path / "rules.nft"
    rules.write_text(out)
    assert main(["inspect", "kube-proxy", "--json", str(rules)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "nftables" and len(data["services"]) == 6


def test_cli_inspect_table_in_french(capsys):
    assert main(["--lang", "fr", "inspect", "kube-proxy", str(FIXTURES / "kernel-iptables-save-TestOverall.txt")]) == 0
    out = capsys.readouterr().out
    assert "IP-CLUSTER" in out and "mode iptables : 6 ports de service, 6 endpoints" in out
    assert "aucun endpoint : rejeté" in out


@pytest.mark.parametrize("doc,needle", [
    ("kind: Service\nmetadata: {name: a}\nspec: {clusterIP: 10.96.0.9, ports: [{port: 99999}]}\n",
     "document 1 (Service default/a): field spec.ports[0].port: 99999 is not a port number"),
    ("kind: Service\nmetadata: {name: a}\nspec: [1, 2]\n", "field spec: expected a mapping"),
    ("- just\n- a list\n", "document 1: expected a Kubernetes object"),
    ("kind: Service\n  bad: [indent\n", "not valid YAML"),
    ("kind: ConfigMap\nmetadata: {name: a}\n", "no Service found"),
])
def test_cli_bad_manifest_is_one_line_exit_2(doc, needle, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(doc)
    assert main(["kube-proxy", "render", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("labkit: ") and needle in err and "Traceback" not in err


def test_cli_bad_options_and_missing_file(capsys):
    assert main(["kube-proxy", "render", "--node-ip", "nope", str(FIXTURES / "overall.yaml")]) == 2
    assert "--node-ip: 'nope' is not an IP address" in capsys.readouterr().err
    assert main(["--lang", "fr", "inspect", "kube-proxy", "/nonexistent"]) == 2
    assert "impossible de lire /nonexistent" in capsys.readouterr().err
