"""``--service-proxy ebpf``: kube-proxy's nftables rules for NodePorts only, no ClusterIP anywhere."""
from labkit.bpf.nodeports import MARK, external_only, without_cluster_ips
from labkit.kubeproxy.model import Endpoint, NodeContext, ProxyInput, ServicePort
from labkit.kubeproxy.nftables import render_nftables

CTX = NodeContext(node_name="n", node_ips=("172.18.0.3",), cluster_cidr="10.244.0.0/16",
                  service_cidrs=("10.96.0.0/16",))


def test_only_externally_reachable_services_and_no_cluster_ip_left():
    web = ServicePort("demo", "web", "", "TCP", "10.96.0.20", 80, node_port=30080)
    internal = ServicePort("demo", "blue", "", "TCP", "10.96.0.30", 80)
    empty = ServicePort("demo", "empty", "", "TCP", "10.96.0.40", 80, node_port=30090)
    inp = ProxyInput([web, internal, empty], {web.key: [Endpoint("10.244.1.2", 8080)],
                                              internal.key: [Endpoint("10.244.1.3", 80)]})
    full = render_nftables(inp, CTX).dump()
    assert "10.96.0.20" in full and "10.96.0.30" in full          # what kube-proxy alone would write
    kept = external_only(inp)
    assert [s.name for s in kept.services] == ["web", "empty"]
    text = without_cluster_ips(render_nftables(kept, CTX)).dump()
    for ip in ("10.96.0.20", "10.96.0.30", "10.96.0.40"):
        assert ip not in text, ip
    assert "tcp . 30080 : goto external-" in text and "dnat to 10.244.1.2:8080" in text
    assert "tcp . 30090 comment" in text                          # no endpoint: still rejected
    assert "10.244.1.3" not in text and "@cluster-ips reject" not in text
    assert MARK in text and "ip daddr { 10.96.0.0/16 } drop" in text   # untranslated ClusterIPs: dropped
