"""What real tools print (iptables-save 1.8.9, nft 1.0.6, nft -j) parses to the right service map."""
import json

import pytest

from kubeproxy_helpers import fixture_text
from labkit.errors import BadInput
from labkit.kubeproxy import detect_format, read_service_map
from labkit.inspect.iptables_save import parse_iptables_save

EXPECTED = {  # service: (cluster IP, node port, endpoints)
    "ns1/svc1:p80": ("172.30.0.41", None, {("10.180.0.1", 80): 1.0}),
    "ns2/svc2:p80": ("172.30.0.42", 3001, {("10.180.0.2", 80): 1.0}),
    "ns3/svc3:p80": ("172.30.0.43", 3003, {("10.180.0.3", 80): 1.0}),
    "ns4/svc4:p80": ("172.30.0.44", None, {("10.180.0.4", 80): 0.5, ("10.180.0.5", 80): 0.5}),
    "ns5/svc5:p80": ("172.30.0.45", 3002, {("10.180.0.3", 80): 1.0}),
    "ns6/svc6:p80": ("172.30.0.46", None, {}),
}
KERNEL_FILES = [
    ("kernel-iptables-save-TestOverall.txt", "iptables"),
    ("kernel-nft-list-TestOverall.txt", "nftables"),
    ("handmade-nft-json-TestOverall.json", "nftables"),
    ("upstream-iptables-TestOverallIPTablesRules.expected", "iptables"),
    ("upstream-nftables-TestOverallNFTablesRules.expected", "nftables"),
]


@pytest.mark.parametrize("name,mode", KERNEL_FILES)
def test_service_map_of_recorded_outputs(name, mode):
    smap = read_service_map(fixture_text(name), name)
    assert smap.mode == mode
    got = {s.service: (s.cluster_ip, s.node_port, {(e.ip, e.port): pytest.approx(e.share) for e in s.endpoints})
           for s in smap.services}
    assert got == EXPECTED
    assert all(s.protocol == "tcp" and s.port == 80 for s in smap.services)


def test_json_shape():
    data = read_service_map(fixture_text("kernel-iptables-save-TestOverall.txt")).to_json()
    json.dumps(data)  # serialisable
    svc4 = next(s for s in data["services"] if s["service"] == "ns4/svc4:p80")
    assert svc4["chains"] == ["KUBE-SERVICES", "KUBE-SVC-4SW47YFZTEDKD3PK"]
    assert [e["chains"] for e in svc4["endpoints"]] == [["KUBE-SEP-UKSFD7AGPMPPLUHC"], ["KUBE-SEP-C6EBXVWJJZMIWKLZ"]]
    assert {k for k in svc4} >= {"service", "protocol", "cluster_ip", "port", "node_port", "endpoints"}


def test_three_endpoints_with_kernel_probabilities():
    """0.33333333349 then 0.5 then the catch-all: one third each."""
    text = """*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-A
-A KUBE-SVC-A ! -s 10.244.0.0/16 -d 10.96.0.5/32 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-A -m comment --comment "ns/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-1
-A KUBE-SVC-A -m comment --comment "ns/web:http -> 10.244.1.3:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-2
-A KUBE-SVC-A -m comment --comment "ns/web:http -> 10.244.2.2:8080" -j KUBE-SEP-3
-A KUBE-SEP-1 -p tcp -m comment --comment "ns/web:http" -m tcp -j DNAT --to-destination 10.244.1.2:8080
-A KUBE-SEP-2 -p tcp -m comment --comment "ns/web:http" -m tcp -j DNAT --to-destination 10.244.1.3:8080
-A KUBE-SEP-3 -p tcp -m comment --comment "ns/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:8080
COMMIT
"""
    svc = read_service_map(text).get("ns/web:http")
    assert [e.share for e in svc.endpoints] == [pytest.approx(1 / 3, abs=1e-9)] * 3
    assert [e.ip for e in svc.endpoints] == ["10.244.1.2", "10.244.1.3", "10.244.2.2"]


def test_nft_numgen_three_way():
    text = """table ip kube-proxy {
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.96.0.5 . tcp . 80 : goto service-AAAAAAAA-ns/web/tcp/http }
	}
	chain service-AAAAAAAA-ns/web/tcp/http {
		numgen random mod 3 vmap { 0 : goto endpoint-B-x, 1 : goto endpoint-C-x, 2 : goto endpoint-D-x }
	}
	chain endpoint-B-x {
		meta l4proto tcp dnat to 10.244.1.2:8080
	}
	chain endpoint-C-x {
		meta l4proto tcp dnat to 10.244.1.3:8080
	}
	chain endpoint-D-x {
		meta l4proto tcp dnat to 10.244.2.2:8080
	}
}
"""
    svc = read_service_map(text).get("ns/web:http")
    assert svc.cluster_ip == "10.96.0.5"
    assert [round(e.share, 6) for e in svc.endpoints] == [0.333333] * 3


def test_iptables_options_in_any_order():
    a = parse_iptables_save('*nat\n-A X -m comment --comment "a b" -m tcp -p tcp -d 1.2.3.4 --dport 80 ! -s 10.0.0.0/8 -j Y\n')
    b = parse_iptables_save('*nat\n-A X ! -s 10.0.0.0/8 -d 1.2.3.4/32 -p tcp -m comment --comment "a b" -m tcp --dport 80 -j Y\n')
    ra, rb = a.rules("nat", "X")[0], b.rules("nat", "X")[0]
    for opt in ("-p", "--dport", "--comment", "-j"):
        assert ra.get(opt) == rb.get(opt)
    assert ra.negated("-s") and rb.negated("-s") and ra.get("-s") == rb.get("-s")


def test_counters_and_foreign_rules_are_tolerated():
    text = fixture_text("kernel-iptables-save-TestOverall.txt").replace(
        "-A INPUT -j KUBE-FIREWALL", "[12:720] -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j KUBE-FIREWALL")
    assert len(read_service_map(text).services) == 6


@pytest.mark.parametrize("name,fmt", [("kernel-iptables-save-TestOverall.txt", "iptables"),
                                      ("kernel-nft-list-TestOverall.txt", "nft"),
                                      ("handmade-nft-json-TestOverall.json", "nft-json"),
                                      ("upstream-nftables-TestOverallNFTablesRules.expected", "nft"),
                                      ("overall.yaml", None)])
def test_detect_format(name, fmt):
    assert detect_format(fixture_text(name)) == fmt


@pytest.mark.parametrize("text,key", [
    ("hello world\n", "kubeproxy.unknown_format"),
    ("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "kubeproxy.no_kube_proxy_rules"),
    ("*nat\nbogus line\n", "kubeproxy.bad_iptables_line"),
    ('{"nftables": 3}', "kubeproxy.bad_nft_json"),
    ("{not json", "kubeproxy.bad_nft_json"),
    ("table ip kube-proxy {\n\tchain services {\n", "kubeproxy.bad_nft_text"),
    ("table inet filter {\n}\n", "kubeproxy.no_kube_proxy_rules"),
])
def test_unreadable_input_is_one_bad_input_error(text, key):
    with pytest.raises(BadInput) as exc:
        read_service_map(text, "node.txt")
    assert exc.value.key == key and exc.value.exit_code == 2
    assert "\n" not in str(exc.value) and "node.txt" in str(exc.value)
