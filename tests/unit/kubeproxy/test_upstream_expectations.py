"""The generators reproduce upstream kube-proxy's own unit-test expectations byte for byte
(after the same normalisation the upstream tests apply)."""
from labkit.kubeproxy import NodeContext, load_manifests, render_iptables, render_nftables

from kubeproxy_helpers import FIXTURES, fixture_text, sort_iptables_rules, sort_nftables_transaction


def test_iptables_overall(overall_input, upstream_ctx):
    got = sort_iptables_rules(render_iptables(overall_input, upstream_ctx))
    want = fixture_text("upstream-iptables-TestOverallIPTablesRules.expected")
    assert got == want


def test_iptables_sync_repeated_initial(upstream_ctx):
    inp = load_manifests([FIXTURES / "repeated-initial.yaml"], node_name="test-node")
    got = sort_iptables_rules(render_iptables(inp, upstream_ctx))
    assert got == fixture_text("upstream-iptables-TestSyncProxyRulesRepeated-initial.expected")


def test_nftables_overall(overall_input, upstream_ctx):
    got = sort_nftables_transaction(render_nftables(overall_input, upstream_ctx).dump())
    want = sort_nftables_transaction(fixture_text("upstream-nftables-TestOverallNFTablesRules.expected"))
    assert got == want


def test_normalisation_is_not_blind(overall_input, upstream_ctx):
    """A one-character change in the generated rules must show in the comparison."""
    text = render_iptables(overall_input, upstream_ctx).replace("0.5000000000", "0.5000000001")
    assert sort_iptables_rules(text) != fixture_text("upstream-iptables-TestOverallIPTablesRules.expected")
    dump = render_nftables(overall_input, upstream_ctx).dump().replace("mod 2", "mod 3")
    want = sort_nftables_transaction(fixture_text("upstream-nftables-TestOverallNFTablesRules.expected"))
    assert sort_nftables_transaction(dump) != want


def test_generation_is_deterministic(overall_input, upstream_ctx):
    reordered = load_manifests([FIXTURES / "overall.yaml"], node_name="test-node")
    reordered.services.reverse()
    assert render_iptables(overall_input, upstream_ctx) == render_iptables(reordered, upstream_ctx)
    assert render_nftables(overall_input, upstream_ctx).dump() == render_nftables(reordered, upstream_ctx).dump()


def test_production_defaults_differ_from_the_test_fake(overall_input):
    """A real node: Go's "%#08x" mark, --random-fully, no nfacct counters."""
    text = render_iptables(overall_input, NodeContext(node_name="test-node", cluster_cidr="10.0.0.0/8"))
    assert "-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000" in text
    assert "-j MASQUERADE --random-fully" in text
    assert "nfacct" not in text
