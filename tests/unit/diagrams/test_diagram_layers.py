"""Each layer shows what the snapshot holds: pods, nodes, routes, services, shares, policies."""
import re

import pytest

from labkit import diagrams
from labkit.diagrams import wiring
from labkit.errors import BadInput

from diagram_helpers import svg_texts


def test_pod_layer_shows_every_pod_ip_node_and_cidr(snap):
    text = "\n".join(svg_texts(diagrams.to_svg(diagrams.pod_network(snap))))
    for pod in snap.pods:
        assert pod["metadata"]["name"] in text
        assert pod["status"]["podIP"] in text
    for node in snap.nodes:
        assert node.name in text and node.internal_ip in text and node.pod_cidr in text


def test_pod_layer_draws_each_host_veth_found_by_ifindex(snap):
    source = diagrams.pod_network(snap).source
    for pod in wiring.pods(snap):
        assert pod.host_if and f"if/{pod.node}/{pod.host_if}" in source
        assert re.search(rf'"p/{re.escape(pod.key)}" -> "if/{pod.node}/{pod.host_if}"', source)


def test_kindnet_routes_go_via_the_node_ip(kindnet):
    links = wiring.links(kindnet)
    assert len(links) == 6 and {l.kind for l in links} == {"routed"}
    source = diagrams.pod_network(kindnet).source
    assert "worker: 10.244.2.0/24 via 172.18.0.4" in source
    assert "worker2: 10.244.1.0/24 via 172.18.0.3" in source
    assert '"if/kubenet-worker/eth0" -> "if/kubenet-worker2/eth0"' in source
    assert "flannel.1" not in source and "cni0" not in source


def test_flannel_routes_are_onlink_over_flannel_1_with_remote_vtep(flannel):
    links = {(l.src, l.dst): l for l in wiring.links(flannel)}
    link = links[("kubenet-worker", "kubenet-worker2")]
    assert link.kind == "vxlan" and link.vtep == "172.18.0.4" and link.route.onlink
    source = diagrams.pod_network(flannel).source
    assert "worker: 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in source
    assert '"if/kubenet-worker/flannel.1" -> "if/kubenet-worker2/flannel.1"' in source
    assert "cni0 (bridge)" in source and "VTEP 172.18.0.3" in source


def test_wiring_is_read_from_devices_not_from_the_cni_field(kindnet, flannel):
    kindnet.cni, flannel.cni = "flannel", "kindnet"
    assert {l.kind for l in wiring.links(kindnet)} == {"routed"}
    assert {l.kind for l in wiring.links(flannel)} == {"vxlan"}


def test_service_layer_shares_come_from_the_parsed_rules(kindnet):
    texts = svg_texts(diagrams.to_svg(diagrams.service_network(kindnet)))
    assert texts.count("33.3%") == 3 and "100%" in texts
    joined = "\n".join(texts)
    assert "ClusterIP 10.96.47.120:80" in joined and "NodePort 30080 on every node" in joined
    # change what the node's rules say: the picture follows the rules, not the EndpointSlices
    for node in kindnet.nodes:
        eps = node.kube_proxy.get("demo/blue").endpoints
        for ep, share in zip(eps, (0.5, 0.25, 0.25)):
            ep.share = share
    texts = svg_texts(diagrams.to_svg(diagrams.service_network(kindnet)))
    assert "50%" in texts and texts.count("25%") == 2 and "33.3%" not in texts


def test_service_layer_shows_chain_names_when_asked(kindnet):
    entry = kindnet.nodes[0].kube_proxy.get("demo/blue")
    plain = diagrams.service_network(kindnet).source
    chains = diagrams.service_network(kindnet, show_chains=True).source
    svc = next(c for c in entry.chains if c.startswith("KUBE-SVC-"))
    assert svc not in plain and svc in chains
    for ep in entry.endpoints:
        assert ep.chains[-1].startswith("KUBE-SEP-") and ep.chains[-1] in chains
    assert "KUBE-EXT-" in chains


def test_service_layer_without_rules_falls_back_to_endpointslices(kindnet):
    for node in kindnet.nodes:
        node.kube_proxy = None
    source = diagrams.service_network(kindnet).source
    assert "EndpointSlices" in source and "demo/blue" in source and "33.3%" not in source
    assert source.count('"svc/demo/blue/tcp" -> "p/demo/') == 3


def test_policy_layer_blocks_and_allows_per_port(kindnet):
    g = diagrams.policy_network(kindnet, port=5432)
    source = g.source
    for ns in ("demo", "prod"):
        assert f"namespace {ns}" in source
    for pol in kindnet.networkpolicies:
        assert pol["metadata"]["name"] in source
    blocked = re.findall(r'"p/demo/(\S+)" -> "p/prod/db" \[[^\]]*arrowhead=tee', source)
    assert sorted(blocked) == ["blue-1", "blue-2", "blue-3"]
    assert re.search(r'"p/demo/client" -> "p/prod/db" \[[^\]]*prod/allow-client-to-db spec.ingress\[0\]', source)
    # on port 80 the client is blocked too: only the port 5432 rule lets it in
    source80 = diagrams.policy_network(kindnet, port=80).source
    assert len(re.findall(r'-> "p/prod/db" \[[^\]]*arrowhead=tee', source80)) == 4
    # both policies select db
    assert source.count('-> "p/prod/db" [arrowhead=odot') == 2


def test_policy_layer_rejects_a_bad_port(kindnet):
    with pytest.raises(BadInput) as err:
        diagrams.policy_network(kindnet, port=70000)
    assert err.value.exit_code == 2 and "70000" in str(err.value)


def test_overview_has_the_three_layers(kindnet):
    source = diagrams.overview(kindnet, detail=True, port=5432).source
    from labkit.diagrams import style
    assert style.BLUE in source and style.GREEN in source and style.RED in source
    assert "demo/blue" in source and "prod/default-deny-ingress" in source and "33.3%" in source


def test_a_hundred_pods_collapse_into_replica_groups(kindnet):
    from labkit.diagrams.synthetic import synthetic

    big = synthetic(kindnet, pods=100, services=20, policies=10)
    assert len(big.pods) == 105
    for layer in diagrams.LAYERS.values():
        source = layer(big).source
        assert re.search(r"web ×\d\d", source) and "web-7" not in source
        assert len(re.findall(r'^\s+"(?:p|g)/[^"]+" \[label=', source, flags=re.M)) < 30
    svg = diagrams.to_svg(diagrams.pod_network(big))
    assert len(svg) < 200_000 and "20 veths" in svg
