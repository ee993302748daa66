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


def _nodes():
    """Three nodes: the upstream test's own, one whose address is in a load balancer's source
    ranges (203.0.113.0/25: its firewall chain admits the VIPs too), and one with no endpoint."""
    import dataclasses

    from kubeproxy_helpers import FIXTURES
    from labkit.kubeproxy import load_manifests

    base = NodeContext.upstream_test()
    for name, ip in (("test-node", "192.168.0.2"), ("node-b", "203.0.113.5"), ("node-c", "192.168.0.9")):
        yield load_manifests([FIXTURES / "overall.yaml"], node_name=name), dataclasses.replace(base, node_name=name,
                                                                                             node_ips=(ip,))


@pytest.mark.parametrize("mode", ["nftables", "iptables"])
def test_nodes_share_what_they_render_alike_and_nothing_else(mode):
    """One sync renders a node-free service port once for all nodes; every node's rules are still
    byte for byte those it renders alone (Local policies and source ranges stay per node)."""
    from labkit.kubeproxy import render_iptables, render_nftables
    from labkit.kubeproxy.render_cache import CachedRenderer, node_free

    shared: dict = {}
    renderers = []
    for inp, ctx in _nodes():
        r = CachedRenderer()
        if mode == "nftables":
            assert r.nftables(inp, ctx, shared).transaction() == render_nftables(inp, ctx).transaction()
        else:
            assert r.iptables(inp, ctx, shared) == render_iptables(inp, ctx)
        renderers.append((r, inp))
    assert shared
    pieces = [r.nft if mode == "nftables" else r.ipt for r, _ in renderers]
    kept = [list(p.values()) for p in pieces]
    services = renderers[0][1].sorted_services()
    assert any(node_free(s) for s in services) and any(not node_free(s) for s in services)
    for i, svc in enumerate(services):   # one piece per service port, in rendering order
        same = kept[0][i] is kept[1][i] is kept[2][i]
        assert same == node_free(svc), svc.name
    # a second sync with a new dict shares again, and a node's own cache still answers first
    again: dict = {}
    for (r, inp), (_inp, ctx) in zip(renderers, _nodes()):
        out = r.nftables(inp, ctx, again).transaction() if mode == "nftables" else r.iptables(inp, ctx, again)
        assert out == (render_nftables(inp, ctx).transaction() if mode == "nftables" else render_iptables(inp, ctx))
    assert not again   # nothing was rendered: every piece came from the node's own cache


def test_nodes_with_the_same_rules_share_the_first_load_cut():
    """``iptables_initial_batches`` is kept for the last texts: three nodes with the same rules
    cut them once; the batches are a tuple, which no node can change for the others."""
    from labkit.bench.kube_proxy_model import node_context, synthetic_input
    from labkit.kubeproxy import render_iptables
    from labkit.kubeproxy.iptables_sync import iptables_initial_batches

    text = render_iptables(synthetic_input(50), node_context("10.0.0.1"))
    first = iptables_initial_batches(text)
    assert isinstance(first, tuple) and iptables_initial_batches(str(text + " ")[:-1]) is first
