from labkit.inspect.conntrack import parse_conntrack

SAMPLE = """tcp      6 118 TIME_WAIT src=10.244.1.4 dst=10.96.47.120 sport=51234 dport=80 src=10.244.2.3 dst=10.244.1.4 sport=80 dport=51234 [ASSURED] mark=0 use=1
udp      17 28 src=10.244.1.4 dst=10.96.0.10 sport=40000 dport=53 src=10.244.0.2 dst=10.244.1.4 sport=53 dport=40000 mark=0 use=1
tcp      6 431999 ESTABLISHED src=10.244.1.4 dst=10.244.2.3 sport=5000 dport=80 src=10.244.2.3 dst=10.244.1.4 sport=80 dport=5000 [ASSURED] mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.
"""


def test_reply_tuple_names_the_dnat_target():
    tcp, udp, direct = parse_conntrack(SAMPLE)
    assert tcp.state == "TIME_WAIT" and tcp.original["dst"] == "10.96.47.120"
    assert tcp.dnat_target == ("10.244.2.3", 80)
    assert udp.protocol == "udp" and udp.dnat_target == ("10.244.0.2", 53)
    assert direct.dnat_target is None
