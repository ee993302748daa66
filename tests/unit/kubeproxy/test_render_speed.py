"""What the full sync's render keeps to go faster (names computed once per service port and
endpoint, one check of the joined line) changes no byte of its output and refuses what it refused."""
from __future__ import annotations

import pytest

from labkit.kubeproxy import names
from labkit.kubeproxy.iptables import _line, _Svc
from labkit.kubeproxy.model import Endpoint, NodeContext, ServicePort, categorize_endpoints


@pytest.mark.parametrize("bad", ["a\nb", "x\ry", "tab\there", "del\x7f"])
def test_a_rule_line_refuses_a_control_character(bad):
    with pytest.raises(ValueError, match="control character"):
        _line("-A", "KUBE-SERVICES", "--comment", bad)
    assert _line("-A", "", "KUBE-SERVICES", "-j", "ACCEPT") == "-A KUBE-SERVICES -j ACCEPT"


def test_kept_chain_names_are_kube_proxys_names():
    info = ServicePort("ns1", "svc1", "p80", "TCP", "10.0.0.1", 80)
    eps = [Endpoint("10.180.0.1", 80), Endpoint("10.180.0.2", 80)]
    svc = _Svc(info, categorize_endpoints(eps, info), NodeContext(), False)
    spn = "ns1/svc1:p80"
    for kind in ("svc", "svl", "ext", "fw"):
        assert svc.chain(kind) == getattr(names, f"{kind}_chain")(spn, "tcp")
    for _ in range(2):   # the second time from what the first one kept
        assert [svc.sep(ep) for ep in eps] == [names.sep_chain(spn, "tcp", str(ep)) for ep in eps]
    assert svc.chain("svc") == "KUBE-SVC-XPGD46QRK7WJZT7O"  # upstream's test expectation (NOTES.md §1.1)
