"""Chain names hash exactly as upstream (values recomputed from upstream tests, NOTES.md §1.2, §3.4)."""
import pytest

from labkit.kubeproxy import names

IPTABLES = [
    ("ns1/svc1:p80", "tcp", None, "XPGD46QRK7WJZT7O"),
    ("ns2/svc2:p80", "tcp", None, "GNZBNJ2PO5MGZ6GT"),
    ("ns4/svc4:p80", "tcp", None, "4SW47YFZTEDKD3PK"),
    ("ns2/svc2:p8080", "tcp", None, "2VJB64SDSIJUP5T6"),
    ("ns4/svc4:p8082", "tcp", None, "EBDQOQU5SJFXRIL3"),
    ("ns1/svc1:p80", "tcp", "10.180.0.1:80", "SXIVWICOYRO3J4NJ"),
    ("ns5/svc5:p80", "tcp", "10.180.0.3:80", "I77PXRDZVX7PMWMN"),
    ("ns3/svc3:p80", "tcp", "10.180.0.3:80", "OYPFS5VJICHGATKP"),
    ("ns3/svc3:p8081", "tcp", "203.0.113.4:8081", "RUVVH7YV3PHQBDOS"),
]


@pytest.mark.parametrize("spn,proto,endpoint,expected", IPTABLES)
def test_iptables_hashes(spn, proto, endpoint, expected):
    if endpoint:
        assert names.sep_chain(spn, proto, endpoint) == "KUBE-SEP-" + expected
    else:
        assert names.svc_chain(spn, proto) == "KUBE-SVC-" + expected
        assert names.ext_chain(spn, proto) == "KUBE-EXT-" + expected
        assert names.fw_chain(spn, proto) == "KUBE-FW-" + expected
        assert names.svl_chain(spn, "TCP") == "KUBE-SVL-" + expected  # protocol is lower-cased


def test_nftables_names():
    assert names.nft_service_base("ns1", "svc1", "tcp", "p80") == "ULMVA6XW-ns1/svc1/tcp/p80"
    assert names.nft_endpoint_base("ns1", "svc1", "tcp", "p80", "10.180.0.1", 80) == \
        "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    assert names.nft_service_base("ns5", "svc5", "TCP", "p80").startswith("HVFWP5L3-")


def test_nftables_long_names_are_truncated():
    base = names.nft_service_base("n" * 63, "s" * 63, "tcp", "p" * 63 + "x" * 100)
    assert len(base) == 240 and base.endswith("...")
