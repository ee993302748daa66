"""The packet-path trace: chains, DNAT candidates, routes per flavor, policy verdicts, drawing."""
import pytest

from labkit import diagrams
from labkit.diagrams import style
from labkit.errors import BadInput
from labkit.trace import draw_trace, resolve_destination, trace


def test_client_to_service_lists_chains_then_one_sep_per_candidate(snap):
    t = trace(snap, "demo/client", "demo/blue:80")
    entry = snap.node("kubenet-worker").kube_proxy.get("demo/blue")
    svc = next(c for c in entry.chains if c.startswith("KUBE-SVC-"))
    assert t.chains[:3] == ["PREROUTING", "KUBE-SERVICES", svc]
    seps = t.chains[3:]
    assert len(seps) == 3 and all(c.startswith("KUBE-SEP-") for c in seps) and len(set(seps)) == 3
    assert sorted(c.ip for c in t.candidates) == ["10.244.1.3", "10.244.2.2", "10.244.2.3"]
    assert [round(c.share, 3) for c in t.candidates] == [0.333] * 3
    assert all(c.allowed for c in t.candidates)


def test_source_pod_route_and_veth(kindnet):
    t = trace(kindnet, "demo/client", "demo/blue:80")
    assert t.hops[0].key == "pod_route" and "default via 10.244.1.1 dev eth0" in t.hops[0].text()
    assert t.hops[1].key == "veth" and t.hops[1].params["host_if"] == "veth4e609dcb"


def _candidate_hops(t, ip):
    n = next(i for i, c in enumerate(t.candidates) if c.ip == ip)
    return [h.key for h in t.for_candidate(n)], [h.text() for h in t.for_candidate(n)]


def test_kindnet_remote_endpoint_goes_via_the_node_ip(kindnet):
    keys, texts = _candidate_hops(trace(kindnet, "demo/client", "demo/blue:80"), "10.244.2.2")
    assert keys == ["dnat", "node_route", "deliver", "policy"]
    assert "10.244.2.0/24 via 172.18.0.4 dev eth0" in texts[1]
    assert "10.244.2.2 dev veth0af266e0 scope host" in texts[2] and "demo/blue-3" in texts[2]


def test_kindnet_local_endpoint_stays_on_the_node(kindnet):
    keys, texts = _candidate_hops(trace(kindnet, "demo/client", "demo/blue:80"), "10.244.1.3")
    assert keys == ["dnat", "deliver", "policy"] and "veth6c73ede9" in texts[1]


def test_flannel_remote_endpoint_goes_through_the_vxlan_tunnel(flannel):
    t = trace(flannel, "demo/client", "demo/blue:80")
    keys, texts = _candidate_hops(t, "10.244.2.2")
    assert keys == ["dnat", "tunnel", "deliver", "policy"]
    tunnel = t.for_candidate(next(i for i, c in enumerate(t.candidates) if c.ip == "10.244.2.2"))[1]
    assert tunnel.params["dev"] == "flannel.1" and tunnel.params["vtep"] == "172.18.0.4"
    assert "via 10.244.2.0 dev flannel.1 onlink" in tunnel.params["route"]
    assert "cni0" in texts[2]


def test_policy_verdict_uses_the_port_after_dnat(snap):
    assert trace(snap, "demo/client", "prod/db:5432").candidates[0].allowed is True
    denied = trace(snap, "demo/blue-1", "prod/db:5432")
    assert denied.candidates[0].allowed is False and "denied" in denied.to_text()
    assert "politiques réseau : connexion refusée" in denied.to_text("fr")   # the connection, not the policies


def test_pod_destination_has_no_dnat(kindnet):
    t = trace(kindnet, "demo/client", "demo/blue-2:80")
    assert [h.key for h in t.hops if h.layer == "service"] == ["no_service"]
    assert len(t.candidates) == 1 and t.candidates[0].pod == "demo/blue-2" and t.chains == []


def test_node_port_on_another_node_is_dnated_there(kindnet):
    t = trace(kindnet, "demo/client", "172.18.0.4:30080")
    kp = next(h for h in t.hops if h.key == "kube_proxy")
    assert kp.node == "kubenet-worker2" and "KUBE-NODEPORTS" in kp.chains
    assert t.hops[2].key == "node_route" and len(t.candidates) == 3


def test_cluster_ip_and_outside_destinations(kindnet):
    t = trace(kindnet, "demo/client", "10.96.47.120:80")
    assert len(t.candidates) == 3
    out = trace(kindnet, "demo/client", "8.8.8.8:53")
    assert [h.key for h in out.hops][-2:] == ["leave", "policy_none"]


@pytest.mark.parametrize("dst,key", [("nope", "trace.error.bad_destination"),
                                     ("demo/ghost", "trace.error.unknown_destination"),
                                     ("demo/blue:81", "trace.error.unknown_port"),
                                     ("10.0.0.1:99999", "trace.error.bad_destination")])
def test_bad_destinations_are_bad_input(kindnet, dst, key):
    with pytest.raises(BadInput) as err:
        trace(kindnet, "demo/client", dst)
    assert err.value.key == key and err.value.exit_code == 2


def test_unknown_source(kindnet):
    with pytest.raises(BadInput) as err:
        trace(kindnet, "demo/ghost", "demo/blue:80")
    assert "demo/client" in err.value.message("en") and "aucun pod" in err.value.message("fr")


def test_resolve_destination_forms(kindnet):
    assert resolve_destination(kindnet, "demo/blue") == ("10.96.47.120", 80)
    assert resolve_destination(kindnet, "prod/db:5432") == ("10.96.201.15", 5432)
    assert resolve_destination(kindnet, "demo/client:8080") == ("10.244.1.4", 8080)
    assert resolve_destination(kindnet, "10.244.2.3") == ("10.244.2.3", 80)


def test_draw_trace_highlights_the_path(flannel):
    t = trace(flannel, "demo/client", "demo/blue:80")
    from diagram_helpers import groups
    g = groups(draw_trace(t).svg)
    route = g["route/kubenet-worker/10.244.2.0/24"]
    assert route.get("data-to") == "if/kubenet-worker2/flannel.1"
    assert style.HIGHLIGHT in "".join(el.get("fill", "") for el in route.iter())
    assert style.HIGHLIGHT not in "".join(el.get("stroke", "") + el.get("fill", "") for el in g["p/prod/db"].iter())
    assert style.HIGHLIGHT in "".join(el.get("stroke", "") for el in g["p/demo/client"].iter())
    assert "<table" in t._repr_html_() and diagrams.to_svg(draw_trace(t, "fr")).startswith("<?xml")


def test_socket_lb_translates_in_connect_before_any_packet_leaves_the_pod(kindnet):
    """``--service-proxy ebpf``: the map lookup and the backend's pick happen in connect(), in the
    pod's socket; the pod's route lookup and its veth come after, for the backend's address."""
    import json

    from labkit.bpf import maps as m
    from labkit.kubeproxy.model import Endpoint, ProxyInput, ServicePort

    blue = kindnet.node("kubenet-worker").kube_proxy.get("demo/blue")
    port = ServicePort("demo", "blue", "", "TCP", blue.cluster_ip, 80)
    table = m.service_table(ProxyInput([port], {port.key: [Endpoint(e.ip, e.port) for e in blue.endpoints]}))
    ids = m.Ids()
    ids.assign(table)
    entries = m.entries(table, ids)
    dump = lambda e: json.dumps([{"key": [f"0x{b:02x}" for b in k], "value": [f"0x{b:02x}" for b in v]}  # noqa: E731
                                 for k, v in e.items()])
    smap = m.service_map(dump(entries[m.SERVICES]), dump(entries[m.BACKENDS]), kindnet.services)
    for node in kindnet.nodes:
        node.kube_proxy = smap
    t = trace(kindnet, "demo/client", "demo/blue:80")
    assert [h.key for h in t.hops if h.candidate is None] == ["socket_lb"]
    keys, texts = _candidate_hops(t, "10.244.2.2")
    assert keys == ["socket_lb_pick", "pod_route", "veth", "node_route", "deliver", "policy"], keys
    assert "10.244.2.2" in texts[0] and "default via 10.244.1.1 dev eth0" in texts[1]
    assert "DNAT" not in t.to_text().replace("no DNAT", "")
    lines = t.to_text().splitlines()
    assert "connect()" in lines[1] and lines.index(next(x for x in lines if "pod_route" in x or "eth0" in x)) > 1


def test_node_port_in_ebpf_mode_goes_through_kube_proxys_nodeport_rules(kindnet):
    """``--service-proxy ebpf``: the maps hold ClusterIPs only; a pod's packet to NodeIP:NodePort is
    DNATed by kube-proxy's NodePort-only nftables table (labkit.bpf.nodeports), on the node that owns
    the IP, and a ClusterIP is still translated in connect()."""
    import json

    from labkit.bpf import maps as m
    from labkit.bpf.nodeports import external_only, with_node_ports, without_cluster_ips
    from labkit.kubeproxy import read_service_map
    from labkit.kubeproxy.model import Endpoint, NodeContext, ProxyInput, ServicePort
    from labkit.kubeproxy.nftables import render_nftables

    blue = kindnet.node("kubenet-worker").kube_proxy.get("demo/blue")
    eps = [Endpoint(e.ip, e.port) for e in blue.endpoints]
    cip = ServicePort("demo", "blue", "", "TCP", blue.cluster_ip, 80)
    npt = ServicePort("demo", "blue-np", "", "TCP", "10.96.0.77", 80, node_port=30111)
    inp = ProxyInput([cip, npt], {cip.key: eps, npt.key: eps})
    table = m.service_table(inp)
    ids = m.Ids()
    ids.assign(table)
    entries = m.entries(table, ids)
    dump = lambda e: json.dumps([{"key": [f"0x{b:02x}" for b in k], "value": [f"0x{b:02x}" for b in v]}  # noqa: E731
                                 for k, v in e.items()])
    for node in kindnet.nodes:
        ctx = NodeContext(node_name=node.name, node_ips=(node.internal_ip,), cluster_cidr="10.244.0.0/16",
                          service_cidrs=("10.96.0.0/16",))
        nft = read_service_map(without_cluster_ips(render_nftables(external_only(inp), ctx)).dump())
        bpf = m.service_map(dump(entries[m.SERVICES]), dump(entries[m.BACKENDS]), kindnet.services)
        node.kube_proxy = with_node_ports(bpf, nft)
    t = trace(kindnet, "demo/client", "172.18.0.4:30111")
    kp = next(h for h in t.hops if h.layer == "service" and h.candidate is None)
    assert kp.key == "kube_proxy" and kp.node == "kubenet-worker2" and kp.params["service"] == "demo/blue-np"
    assert kp.chains[0] == "nat-prerouting" and "socket_lb" not in [h.key for h in t.hops]
    assert sorted(c.ip for c in t.candidates) == sorted(e.ip for e in eps)
    assert all(h.key == "dnat" for h in t.hops if h.layer == "service" and h.candidate is not None)
    assert "BPF" not in t.to_text() and "demo/blue-np" in t.to_text("fr")
    cluster = trace(kindnet, "demo/client", f"{blue.cluster_ip}:80")      # still the socket LB
    assert [h.key for h in cluster.hops if h.candidate is None] == ["socket_lb"]


def test_html_table_short_columns_do_not_wrap(kindnet):
    """At 1,366 px the step/layer/where cells wrapped ("pod / network", "kubenet- / worker"), doubling
    every row; only the "what happens" cell may wrap."""
    import re

    t = trace(kindnet, "demo/client", "demo/blue:80")
    rows = [r for r in re.findall(r"<tr style='background:[^']*'>(.*?)</tr>", t._repr_html_())]
    assert rows
    for row in rows:
        cells = re.findall(r"<td style='([^']*)'>", row)
        assert len(cells) == 4 and all("white-space:nowrap" in c for c in cells[:3]), cells
        assert "nowrap" not in cells[3]


def _element_node(eid: str, snap) -> str | None:
    """The node a pod-network diagram element is drawn in (None: shared, as the node network)."""
    if eid.startswith("wire/"):
        eid = eid[len("wire/"):]
    kind, _, rest = eid.partition("/")
    if kind == "p":
        from labkit import wiring

        return next(p.node for p in wiring.pods(snap) if p.key == rest)
    if kind in ("if", "rt", "route", "node"):
        return rest.split("/")[0]
    return None


CROSSING = [("kindnet", "demo/client", "demo/blue-3:80"), ("kindnet", "demo/client", "demo/blue:80"),
            ("kindnet", "demo/client", "172.18.0.4:30080"), ("kindnet", "demo/client", "8.8.8.8:53"),
            ("flannel", "demo/client", "demo/blue-3:80"), ("flannel", "demo/client", "demo/blue:80")]


@pytest.mark.parametrize("flavor,src,dst", CROSSING)
def test_each_step_paints_only_its_own_node(request, flavor, src, dst):
    """The table's "where" and the picture agree: drawing one step alone lights elements of that step's
    node only. (Worker's route to worker2 lit worker2's route back to worker and its uplink, and the
    routing circle of worker, where the decision is made, stayed blue.)"""
    from diagram_helpers import groups

    from labkit.diagrams.pods import Highlight, pod_network

    snap = request.getfixturevalue(flavor)
    t = trace(snap, src, dst)
    assert len({h.node for h in t.hops if h.node}) >= 2 or dst.startswith("8.8"), [h.node for h in t.hops]
    for i, hop in enumerate(t.hops, 1):
        assert all(_element_node(m, snap) in (hop.node, None) for m in hop.marks), (i, hop.key, hop.node, hop.marks)
        svg = pod_network(snap, highlight=Highlight(set(hop.marks), set(hop.edges))).svg
        lit = [gid for gid, g in groups(svg).items() if gid != "legend"
               and style.HIGHLIGHT in "".join(el.get("stroke", "") + el.get("fill", "") for el in g.iter())]
        assert all(_element_node(gid, snap) in (hop.node, None) for gid in lit), (i, hop.key, hop.node, lit)


def test_the_deciding_nodes_routing_circle_and_route_are_lit_not_the_route_back(kindnet):
    from diagram_helpers import groups

    g = groups(draw_trace(trace(kindnet, "demo/client", "demo/blue-3:80")).svg)
    lit = {gid for gid, el in g.items() if style.HIGHLIGHT in "".join(e.get("stroke", "") + e.get("fill", "")
                                                                       for e in el.iter())}
    assert {"rt/kubenet-worker", "route/kubenet-worker/10.244.2.0/24", "wire/rt/kubenet-worker/if/kubenet-worker/eth0",
            "rt/kubenet-worker2", "p/demo/blue-3"} <= lit
    assert "route/kubenet-worker2/10.244.1.0/24" not in lit


def test_a_local_delivery_does_not_light_the_uplink(kindnet):
    from diagram_helpers import groups

    g = groups(draw_trace(trace(kindnet, "demo/client", "demo/blue-1:80")).svg)
    lit = {gid for gid, el in g.items() if style.HIGHLIGHT in "".join(e.get("stroke", "") + e.get("fill", "")
                                                                       for e in el.iter())}
    assert {"rt/kubenet-worker", "p/demo/blue-1", "p/demo/client"} <= lit
    assert not any("eth0" in gid for gid in lit), lit
