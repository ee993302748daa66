"""What a client may ask the lab daemon to observe: every field validated, nothing passed as text (no root)."""
import pytest

from labkit.flowreq import FlowRequest, InvalidFlow, Target, parse

RANGES = ["172.18.0.0/16", "10.244.0.0/16", "10.96.0.0/16"]


def q(**kw):
    return {k: v if isinstance(v, list) else [v] for k, v in kw.items()}


def test_a_good_request_round_trips_through_its_query():
    req = FlowRequest("capture", "demo/client", "10.96.0.10", 53, "udp", 2.5, ("demo/blue-1",))
    back = parse("capture", {k: [v for kk, v in req.query() if kk == k] for k, _ in req.query()}, RANGES)
    assert back == req
    probe = FlowRequest("probe", None, timeout=2, targets=(Target("172.18.0.3", 30080, "TCP"),))
    assert parse("probe", {k: [v for kk, v in probe.query() if kk == k] for k, _ in probe.query()}, RANGES) == probe


@pytest.mark.parametrize("fields,bad", [
    (dict(pod="demo/client; rm -rf /", ip="10.96.0.10", port="80"), "pod"),
    (dict(pod="demo/client", ip="8.8.8.8", port="80"), "ip"),                  # off the machine: refused
    (dict(pod="demo/client", ip="10.96.0.10 or 1=1", port="80"), "ip"),
    (dict(pod="demo/client", ip="10.96.0.10", port="0"), "port"),
    (dict(pod="demo/client", ip="10.96.0.10", port="80", protocol="icmp"), "protocol"),
    (dict(pod="demo/client", ip="10.96.0.10", port="80", timeout="600"), "timeout"),
    (dict(pod="demo/client", ip="10.96.0.10", port="80", timeout="nan"), "timeout"),
    (dict(ip="10.96.0.10", port="80"), "pod"),
    (dict(pod="demo/client", ip="10.96.0.10", port="80", target="10.96.0.10:80/tcp"), "target"),
])
def test_each_bad_field_is_named(fields, bad):
    with pytest.raises(InvalidFlow) as err:
        parse("trace", q(**fields), RANGES)
    assert bad in {f for f, _, _ in err.value.causes}, err.value.causes


def test_probe_targets_are_bounded_and_inside_the_lab():
    with pytest.raises(InvalidFlow) as err:
        parse("probe", q(target=["10.96.0.10:53/udp", "1.1.1.1:53/udp", "10.96.0.10:53/sctp"]), RANGES)
    assert [f for f, _, _ in err.value.causes] == ["target", "target"]
    with pytest.raises(InvalidFlow):
        parse("probe", q(target=[f"10.96.0.{n % 250}:80/tcp" for n in range(257)]), RANGES)
    with pytest.raises(InvalidFlow):
        parse("capture", q(pod="a/b", ip="10.96.0.1", port="1", also=[f"a/p{n}" for n in range(17)]), RANGES)
    with pytest.raises(InvalidFlow):
        parse("shell", q(pod="a/b"), RANGES)


def test_a_trace_or_capture_runs_alone_on_its_nodes_and_probes_share_them_up_to_a_limit():
    from types import SimpleNamespace

    from labkit.embedded.flows import MAX_PROBES, FlowRunner
    from labkit.flowreq import FlowBusy as Busy
    from labkit.embedded.topology import LabSpec

    runner = FlowRunner(SimpleNamespace(spec=LabSpec(name="x"), pods={}))
    nodes = [n.name for n in runner.state.spec.node_plans()]
    runner._claim(nodes, alone=True)                           # a trace holds every node
    with pytest.raises(Busy):
        runner._claim(nodes, alone=True)
    with pytest.raises(Busy):
        runner._claim(nodes[:1], alone=False)
    runner._release(nodes, alone=True)
    for _ in range(MAX_PROBES):
        runner._claim(nodes[:1], alone=False)
    with pytest.raises(Busy):
        runner._claim(nodes[:1], alone=False)                  # the probe limit of that node
    with pytest.raises(Busy):
        runner._claim(nodes, alone=True)                       # no trace beside running probes
    runner._claim(nodes[1:2], alone=False)                     # another node is free
    for _ in range(MAX_PROBES):
        runner._release(nodes[:1], alone=False)
    runner._release(nodes[1:2], alone=False)
    runner._claim(nodes, alone=True)
    assert runner.ranges == ["172.18.0.0/16", "10.244.0.0/16", "10.96.0.0/16"]


def test_a_peer_flow_names_an_address_only_the_daemon_picks_the_port():
    from labkit.flowreq import PEER_PORT, peer

    req = peer("demo/client", "172.18.0.3", 2)
    assert req.query() == [("pod", "demo/client"), ("ip", "172.18.0.3"), ("timeout", "2")]
    assert parse("peer", {k: [v] for k, v in req.query()}, RANGES) == req and req.port == PEER_PORT
    node = parse("peer", q(ip="10.244.1.5"), RANGES)                 # from the node the request goes to
    assert node.pod is None and node.port == PEER_PORT and node.protocol == "tcp"
    for fields, bad in ((dict(ip="8.8.8.8"), "ip"), (dict(ip="172.18.0.3", port="22"), "port"),
                        (dict(ip="172.18.0.3", protocol="udp"), "protocol"), (dict(), "ip"),
                        (dict(ip="172.18.0.3", timeout="3600"), "timeout"),
                        (dict(ip="172.18.0.3", target="10.96.0.1:443/tcp"), "target")):
        with pytest.raises(InvalidFlow) as err:
            parse("peer", q(**fields), RANGES)
        assert bad in {f for f, _, _ in err.value.causes}, (fields, err.value.causes)
