"""generate → parse gives back the services and endpoints we started from, in both modes."""
import pytest

from labkit.kubeproxy import (NodeContext, from_objects, read_service_map, render_iptables, render_nftables,
                              trace)


def _manifests(n_services: int, n_endpoints: int, node_port: bool = False) -> list:
    docs = []
    for s in range(n_services):
        port = {"name": "http", "port": 80, "protocol": "TCP"}
        if node_port:
            port["nodePort"] = 30000 + s
        docs.append({"kind": "Service", "metadata": {"namespace": "demo", "name": f"web{s}"},
                     "spec": {"type": "NodePort" if node_port else "ClusterIP",
                              "clusterIP": f"10.96.{s // 250}.{s % 250 + 1}", "ports": [port]}})
        docs.append({"kind": "EndpointSlice", "addressType": "IPv4",
                     "metadata": {"namespace": "demo", "name": f"web{s}-x",
                                  "labels": {"kubernetes.io/service-name": f"web{s}"}},
                     "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                     "endpoints": [{"addresses": [f"10.244.{e}.{s % 250 + 2}"], "nodeName": f"node{e}"}
                                   for e in range(n_endpoints)]})
    return [("test", i, d) for i, d in enumerate(docs)]


CTX = NodeContext(node_name="node0", node_ips=("172.18.0.2",), cluster_cidr="10.244.0.0/16",
                  service_cidrs=("10.96.0.0/16",))


def _render(mode, inp):
    return render_iptables(inp, CTX) if mode == "iptables" else render_nftables(inp, CTX).transaction()


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
@pytest.mark.parametrize("n_endpoints", [1, 2, 3, 7])
def test_round_trip(mode, n_endpoints):
    inp = from_objects(_manifests(4, n_endpoints, node_port=True))
    smap = read_service_map(_render(mode, inp))
    assert smap.mode == mode
    assert [s.service for s in smap.services] == [f"demo/web{s}:http" for s in range(4)]
    for svc, entry in zip(inp.sorted_services(), smap.services):
        assert (entry.cluster_ip, entry.port, entry.node_port) == (svc.cluster_ip, 80, svc.node_port)
        want = sorted(str(ep) for ep in inp.endpoints_for(svc))
        assert sorted(f"{e.ip}:{e.port}" for e in entry.endpoints) == want
        assert sum(e.share for e in entry.endpoints) == pytest.approx(1.0)
        assert all(e.share == pytest.approx(1 / n_endpoints) for e in entry.endpoints)


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_round_trip_large_cluster_mode(mode):
    """Past 1000 endpoints iptables drops the comments of SEP rules: still readable."""
    inp = from_objects(_manifests(600, 2))
    text = _render(mode, inp)
    if mode == "iptables":
        assert '-A KUBE-SEP-' in text and '"demo/web0:http -> ' not in text
    smap = read_service_map(text)
    assert len(smap.services) == 600
    assert all(len(s.endpoints) == 2 and sum(e.share for e in s.endpoints) == pytest.approx(1.0)
               for s in smap.services)


@pytest.mark.parametrize("mode,hook", [("iptables", "PREROUTING"), ("nftables", "nat-prerouting")])
def test_trace_cluster_ip(mode, hook):
    inp = from_objects(_manifests(2, 2))
    smap = read_service_map(_render(mode, inp))
    tr = trace(smap, "10.96.0.2", 80, "TCP")
    assert tr.service == "demo/web1:http" and tr.kind == "cluster_ip"
    assert tr.chains[0] == hook and len(tr.chains) == 3
    assert sorted((t.ip, t.port) for t in tr.targets) == [("10.244.0.3", 8080), ("10.244.1.3", 8080)]
    assert sum(t.share for t in tr.targets) == pytest.approx(1.0)
    assert all(len(t.chains) == 1 for t in tr.targets)


def test_trace_from_host_and_miss():
    smap = read_service_map(_render("iptables", from_objects(_manifests(1, 1))))
    assert trace(smap, "10.96.0.1", 80, from_host=True).chains[0] == "OUTPUT"
    miss = trace(smap, "10.96.0.1", 81)
    assert miss.service is None and miss.chains == [] and miss.targets == []


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_trace_node_port_and_external_local_policy(mode):
    """eTP=Local with no local endpoint: a node port leads nowhere (dropped), the cluster IP works."""
    docs = _manifests(1, 1, node_port=True)
    docs[0][2]["spec"]["externalTrafficPolicy"] = "Local"
    inp = from_objects(docs, node_name="elsewhere")
    smap = read_service_map(_render(mode, inp))
    assert trace(smap, "172.18.0.2", 30000).targets == []
    assert trace(smap, "172.18.0.2", 30000).kind == "node_port"
    assert len(trace(smap, "10.96.0.1", 80).targets) == 1
    inp = from_objects(docs, node_name="node0")  # now the endpoint is local
    smap = read_service_map(_render(mode, inp))
    tr = trace(smap, "172.18.0.2", 30000)
    assert [(t.ip, t.share) for t in tr.targets] == [("10.244.0.2", 1.0)]
    assert any(c.startswith(("KUBE-SVL-", "local-")) for c in tr.chains)
