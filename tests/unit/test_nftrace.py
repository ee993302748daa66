"""nft monitor trace parsing and the observed-vs-predicted comparison, on recorded kernel output."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from labkit.inspect import nftrace
from labkit.observed_trace import Observation, ObservedTrace, compare, from_records, packets_of

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "nftrace"


def read(name: str) -> str:
    return (FIX / name).read_text()


def test_enable_script_marks_only_the_first_packet_of_the_flow_before_raw():
    script = nftrace.enable_script("ab12", 42, "tcp")
    assert "table inet labkit-trace-ab12 {" in script
    assert script.count("meta nftrace set 1") == 2            # prerouting and output
    assert "priority -350" in script and "ip dscp 42 meta l4proto tcp tcp flags & (syn | ack) == syn" in script
    assert "tcp flags" not in nftrace.enable_script("ab12", 42, "udp")
    assert nftrace.disable_script("ab12") == "delete table inet labkit-trace-ab12\n"


def test_leftover_tables_are_found_by_prefix_only():
    text = "table ip nat\ntable inet labkit-trace-0a1b\ntable inet labkit-netpol\ntable inet labkit-trace-ff\n"
    assert nftrace.leftover_tables(text) == ["labkit-trace-0a1b", "labkit-trace-ff"]


def test_parse_monitor_lines():
    events = nftrace.parse_monitor(read("monitor-iptables-nft.txt"))
    assert {e.kind for e in events} == {"packet", "rule", "policy"}
    pkt = events[0]
    assert pkt.kind == "packet" and pkt.fields["ip daddr"] == "10.96.0.5" and pkt.fields["tcp sport"] == "41236"
    jump = next(e for e in events if e.chain == "KUBE-SERVICES")
    assert (jump.family, jump.table, jump.handle, jump.verdict) == ("ip", "nat", 6, "jump KUBE-SVC-X")
    assert jump.text == "meta l4proto tcp ip daddr 10.96.0.5 tcp dport 80 counter packets 2 bytes 120 jump KUBE-SVC-X"
    unknown = next(e for e in events if e.kind == "rule" and e.ours)
    assert unknown.text == "" and unknown.handle == 2 and unknown.verdict == "continue"
    dnat = [e for e in events if e.chain == "KUBE-SEP-A"][0]
    assert dnat.verdict == "accept" and "dnat to 127.0.0.1:8080" in dnat.text


def test_packets_group_by_trace_id_and_name_their_chains():
    [pkt] = nftrace.group_packets(nftrace.parse_monitor(read("monitor-iptables-nft.txt")))
    assert pkt.chains == ["OUTPUT", "KUBE-SERVICES", "KUBE-SVC-X", "KUBE-SEP-A"]
    assert pkt.ttl == 64 and not pkt.dropped


def test_iptables_nft_rules_get_their_iptables_save_line_back():
    rules = nftrace.iptables_rules_by_handle(read("ruleset-iptables-nft.txt"), read("iptables-save.txt"))
    assert rules[("nat", "KUBE-SERVICES", 6)] == (
        '-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "demo/blue cluster IP" -m tcp '
        '--dport 80 -j KUBE-SVC-X')
    assert rules[("nat", "KUBE-SEP-A", 8)].endswith("-j DNAT --to-destination 127.0.0.1:8080")


def test_a_chain_changed_between_the_two_listings_is_not_guessed():
    save = read("iptables-save.txt").replace('-A KUBE-SVC-X', '-A KUBE-SVC-X -s 1.2.3.4/32 -j RETURN\n-A KUBE-SVC-X', 1)
    rules = nftrace.iptables_rules_by_handle(read("ruleset-iptables-nft.txt"), save)
    assert ("nat", "KUBE-SVC-X", 7) not in rules and ("nat", "KUBE-SEP-A", 8) in rules


def test_observed_packet_shows_iptables_lines_and_the_dnat():
    [p] = packets_of("n1", read("monitor-iptables-nft.txt"), read("ruleset-iptables-nft.txt"), read("iptables-save.txt"))
    shown = [r.shown for r in p.rules]
    assert any('--comment "demo/blue cluster IP"' in s for s in shown)
    assert all(not r.table.startswith("inet labkit-trace") for r in p.rules)


def _trace(candidates, shared=("PREROUTING", "KUBE-SERVICES", "KUBE-SVC-X")):
    hops = [SimpleNamespace(candidate=None, chains=tuple(shared))]
    cands = [SimpleNamespace(target=t, chains=list(c), allowed=a) for t, c, a in candidates]
    chains = list(shared) + [c for _, cs, _ in candidates for c in cs]
    return SimpleNamespace(hops=hops, candidates=cands, chains=chains)


def _obs(chains, endpoint="10.244.1.5:80", dropped=None):
    steps = [SimpleNamespace(chain=c, verdict="continue") for c in chains]
    packet = SimpleNamespace(chains=list(chains), dropped_in=dropped, node="n", steps=steps)
    ip, _, port = (endpoint or "::").rpartition(":")
    answer = {"pod_ip": ip, "port": int(port)} if endpoint else None
    return Observation("a/b", "a/c", "TCP", [packet], answer)


def test_compare_agrees_when_the_predicted_chains_of_the_answering_endpoint_were_hit():
    t = _trace([("10.244.1.5:80", ["KUBE-SEP-A"], True), ("10.244.2.5:80", ["KUBE-SEP-B"], True)])
    assert compare(t, _obs(["PREROUTING", "KUBE-SERVICES", "KUBE-SVC-X", "KUBE-SEP-A"])) == []


@pytest.mark.parametrize("chains,endpoint,expected", [
    (["PREROUTING", "KUBE-SERVICES"], "10.244.1.5:80", {("missing", "KUBE-SVC-X"), ("missing", "KUBE-SEP-A")}),
    (["PREROUTING", "KUBE-SERVICES", "KUBE-SVC-X", "KUBE-SEP-A", "KUBE-SEP-Z"], "10.244.1.5:80",
     {("unexpected", "KUBE-SEP-Z")}),
    (["PREROUTING", "KUBE-SERVICES", "KUBE-SVC-X", "KUBE-SEP-A"], "10.244.9.9:80", {("endpoint", None)}),
    (["PREROUTING", "KUBE-SERVICES", "KUBE-SVC-X", "KUBE-SEP-A"], None, {("no_answer", None)}),
])
def test_compare_reports_each_kind_of_difference(chains, endpoint, expected):
    t = _trace([("10.244.1.5:80", ["KUBE-SEP-A"], True), ("10.244.2.5:80", ["KUBE-SEP-B"], True)])
    got = {(d.key, d.params.get("chain")) for d in compare(t, _obs(chains, endpoint))}
    assert got == expected


def test_a_denied_connection_that_was_dropped_agrees():
    t = _trace([("10.244.1.5:80", ["KUBE-SEP-A"], False)])
    obs = _obs(["PREROUTING", "KUBE-SERVICES", "KUBE-SVC-X", "KUBE-SEP-A"], None, dropped="inet labkit-netpol x")
    assert compare(t, obs) == []


def test_differences_read_in_french():
    t = _trace([("10.244.1.5:80", ["KUBE-SEP-A"], True)])
    [d] = compare(t, _obs(["PREROUTING", "KUBE-SERVICES", "KUBE-SEP-A"]))
    assert d.text("fr") == "la chaîne prévue KUBE-SVC-X n'a pas été traversée"


def test_from_records_orders_packets_along_the_path_by_ttl_and_flags_leftovers():
    first = read("monitor-iptables-nft.txt")
    later = first.replace("ip ttl 64", "ip ttl 63")
    recs = [SimpleNamespace(node="b", monitor=later, ruleset="", iptables_save="", clean=False),
            SimpleNamespace(node="a", monitor=first, ruleset="", iptables_save="", clean=True)]
    obs = from_records("x/y", "x/z", "tcp", recs, None)
    assert [p.node for p in obs.packets] == ["a", "b"] and obs.leftover_nodes == ["b"]
    assert "b" in "\n".join(obs.lines("en"))


def test_kube_proxy_nftables_mode_trace_names_the_service_and_endpoint_chains():
    """Recorded in a flannel + nftables lab: the verdict map sends the packet on with a goto."""
    [p] = packets_of("worker", read("monitor-nftables.txt"))
    chains = p.chains
    svc = next(c for c in chains if c.startswith("service-"))
    ep = next(c for c in chains if c.startswith("endpoint-"))
    assert chains.index("services") < chains.index(svc) < chains.index(ep)
    dnat = next(r for r in p.rules if r.chain == ep)
    assert dnat.table == "ip kube-proxy" and dnat.text.startswith("meta l4proto tcp dnat to ") and dnat.verdict == "accept"
    assert any(s[0] == "rewrite" for s in p.steps if isinstance(s, tuple))


def test_observation_html_colours_service_chains_and_nat():
    recs = [SimpleNamespace(node="w", monitor=read("monitor-nftables.txt"), ruleset="", iptables_save="", clean=True)]
    html = from_records("demo/client", "demo/blue:80", "tcp", recs, {"pod": "b", "namespace": "demo",
                        "pod_ip": "10.244.1.3", "port": 80, "client_ip": "10.244.1.4", "client_port": 1}).to_html("fr")
    assert "#ddf2e1" in html and "#fff3cd" in html and "nœud w" in html and "réponse de demo/b" in html


def test_the_drawing_paints_the_path_of_the_endpoint_that_answered():
    from labkit.diagrams import to_svg
    from labkit.snapshot import ClusterSnapshot
    from labkit.trace import trace

    snap = ClusterSnapshot.load(FIX.parent / "snapshots" / "reference-kindnet.json")
    predicted = trace(snap, "demo/client", "demo/blue:80")
    cand = predicted.candidates[1]
    ns, name = cand.pod.split("/")
    obs = Observation("demo/client", "demo/blue:80", "TCP", [],
                      {"pod_ip": cand.ip, "port": cand.port, "pod": name, "namespace": ns})
    svg = to_svg(ObservedTrace(predicted, obs).draw("en"))
    assert f"answered by {cand.pod}" in svg
