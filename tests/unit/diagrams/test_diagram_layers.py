"""Each layer shows what the snapshot holds: pods, nodes, routes, services, shares, policies."""
import re

import pytest

from labkit import diagrams
from labkit import wiring
from labkit.errors import BadInput

from diagram_helpers import group_texts, groups, svg_texts, tooltip
from diagram_helpers import links as drawn_links


def test_pod_layer_shows_every_pod_ip_node_and_cidr(snap):
    svg = diagrams.to_svg(diagrams.pod_network(snap))
    text = "\n".join(svg_texts(svg))
    for pod in snap.pods:
        assert pod["metadata"]["name"] in text
        assert pod["status"]["podIP"] in text
    for node in snap.nodes:
        assert node.name.removeprefix("kubenet-") in text and node.internal_ip in text and node.pod_cidr in text
        assert node.name in tooltip(groups(svg)[f"node/{node.name}"])


def test_pod_details_are_in_the_tooltip_not_printed(kindnet):
    svg = diagrams.to_svg(diagrams.pod_network(kindnet))
    pod = next(p for p in wiring.pods(kindnet) if p.key == "demo/client")
    g = groups(svg)["p/demo/client"]
    assert g.get("data-ip") == pod.ip and pod.host_if in tooltip(g) and "run=client" in tooltip(g)
    assert pod.host_if not in "".join(group_texts(g))


def test_pod_layer_draws_each_host_veth_found_by_ifindex(snap):
    drawn = drawn_links(diagrams.to_svg(diagrams.pod_network(snap)))
    for pod in wiring.pods(snap):
        assert pod.host_if and (f"p/{pod.key}", f"if/{pod.node}/{pod.host_if}") in drawn


def test_kindnet_routes_go_via_the_node_ip(kindnet):
    links = wiring.links(kindnet)
    assert len(links) == 6 and {l.kind for l in links} == {"routed"}
    svg = diagrams.to_svg(diagrams.pod_network(kindnet))
    route = groups(svg)["route/kubenet-worker/10.244.2.0/24"]
    assert tooltip(route) == "worker: 10.244.2.0/24 via 172.18.0.4"
    assert group_texts(route) == ["→ worker2: 10.244.2.0/24", "via 172.18.0.4"]
    assert ("if/kubenet-worker/eth0", "if/kubenet-worker2/eth0") in drawn_links(svg)
    assert "flannel.1" not in svg and "cni0" not in svg


def test_flannel_routes_are_onlink_over_flannel_1_with_remote_vtep(flannel):
    links = {(l.src, l.dst): l for l in wiring.links(flannel)}
    link = links[("kubenet-worker", "kubenet-worker2")]
    assert link.kind == "vxlan" and link.vtep == "172.18.0.4" and link.route.onlink
    svg = diagrams.to_svg(diagrams.pod_network(flannel))
    assert tooltip(groups(svg)["route/kubenet-worker/10.244.2.0/24"]) == \
        "worker: 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink"
    assert ("if/kubenet-worker/flannel.1", "if/kubenet-worker2/flannel.1") in drawn_links(svg)
    texts = svg_texts(svg)
    assert "cni0 (bridge)" in texts and "VTEP 172.18.0.3" in texts


def test_wiring_is_read_from_devices_not_from_the_cni_field(kindnet, flannel):
    kindnet.cni, flannel.cni = "flannel", "kindnet"
    assert {l.kind for l in wiring.links(kindnet)} == {"routed"}
    assert {l.kind for l in wiring.links(flannel)} == {"vxlan"}


def test_service_layer_shares_come_from_the_parsed_rules(kindnet):
    def shares(svg):
        return [t.split()[0] for t in svg_texts(svg) if "→" in t and t[0].isdigit()]

    texts = shares(diagrams.to_svg(diagrams.service_network(kindnet)))
    assert texts.count("33.3%") == 3 and "100%" in texts
    joined = "\n".join(svg_texts(diagrams.to_svg(diagrams.service_network(kindnet))))
    assert "ClusterIP 10.96.47.120:80" in joined and "NodePort 30080 on every node" in joined
    # change what the node's rules say: the picture follows the rules, not the EndpointSlices
    for node in kindnet.nodes:
        eps = node.kube_proxy.get("demo/blue").endpoints
        for ep, share in zip(eps, (0.5, 0.25, 0.25)):
            ep.share = share
    texts = shares(diagrams.to_svg(diagrams.service_network(kindnet)))
    assert "50%" in texts and texts.count("25%") == 2 and "33.3%" not in texts


def test_service_layer_shows_chain_names_when_asked(kindnet):
    entry = kindnet.nodes[0].kube_proxy.get("demo/blue")
    plain = "\n".join(svg_texts(diagrams.service_network(kindnet).svg))
    chains = "\n".join(svg_texts(diagrams.service_network(kindnet, show_chains=True).svg))
    svc = next(c for c in entry.chains if c.startswith("KUBE-SVC-"))
    assert svc not in plain and svc in chains
    for ep in entry.endpoints:
        assert ep.chains[-1].startswith("KUBE-SEP-") and ep.chains[-1] in chains
    assert "KUBE-EXT-" in chains


def test_service_layer_without_rules_falls_back_to_endpointslices(kindnet):
    for node in kindnet.nodes:
        node.kube_proxy = None
    svg = diagrams.to_svg(diagrams.service_network(kindnet))
    assert "EndpointSlices" in svg and "demo/blue" in svg and "33.3%" not in svg
    assert len([l for l in drawn_links(svg) if l[0] == "svc/demo/blue/tcp" and l[1].startswith("p/demo/")]) == 3


def test_policy_layer_blocks_and_allows_per_port(kindnet):
    svg = diagrams.to_svg(diagrams.policy_network(kindnet, port=5432))
    texts = "\n".join(svg_texts(svg))
    for ns in ("demo", "prod"):
        assert f"namespace {ns}" in texts
    for pol in kindnet.networkpolicies:
        assert pol["metadata"]["name"] in texts
    g = groups(svg)
    db = next(gid for gid, el in g.items() if el.get("class") == "podclass" and "p/prod/db" in el.get("data-pods"))
    blue = next(gid for gid, el in g.items() if el.get("class") == "podclass" and "p/demo/blue-1" in el.get("data-pods"))
    client = next(gid for gid, el in g.items() if el.get("class") == "podclass" and "p/demo/client" in el.get("data-pods"))
    assert set(g[blue].get("data-pods").split()) == {"p/demo/blue-1", "p/demo/blue-2", "p/demo/blue-3"}
    assert g[db].get("data-isolated") == "1" and g[blue].get("data-isolated") == "0"
    assert g[f"cell/{blue}/{db}"].get("class") == "cell cell-blocked"
    assert g[f"cell/{client}/{db}"].get("class") == "cell cell-allowed"
    assert (client, db) in drawn_links(svg)          # the allowed flow, with its rule written in db's box
    assert any("prod/allow-client-to-db spec.ingress[0]" in t for t in group_texts(g[db]))
    # on port 80 the client is blocked too: only the port 5432 rule lets it in
    g80 = groups(diagrams.to_svg(diagrams.policy_network(kindnet, port=80)))
    assert g80[f"cell/{client}/{db}"].get("class") == "cell cell-blocked"
    assert not any(el.get("class") == "flow" for el in g80.values())
    # both policies select db
    assert "prod/default-deny-ingress" in tooltip(g[db]) and "prod/allow-client-to-db" in tooltip(g[db])


def test_policy_layer_rejects_a_bad_port(kindnet):
    with pytest.raises(BadInput) as err:
        diagrams.policy_network(kindnet, port=70000)
    assert err.value.exit_code == 2 and "70000" in str(err.value)


def test_overview_has_the_three_layers(kindnet):
    svg = diagrams.overview(kindnet, detail=True, port=5432).svg
    from labkit.diagrams import style
    assert style.BLUE in svg and style.GREEN in svg and style.RED in svg
    g = groups(svg)
    assert "svc/demo/blue/tcp" in g and "pol/prod/default-deny-ingress" in g and "net/pods" in g
    assert set(g["svc/demo/blue/tcp"].get("data-targets").split()) == {"p/demo/blue-1", "p/demo/blue-2", "p/demo/blue-3"}
    assert g["p/prod/db"].get("data-isolated") == "1" and g["p/demo/client"].get("data-isolated") == "0"


def test_a_hundred_pods_each_keep_their_own_box(kindnet):
    from labkit.diagrams.synthetic import synthetic

    big = synthetic(kindnet, pods=100, services=20, policies=10)
    assert len(big.pods) == 105
    for layer in ("pods", "overview", "services"):
        svg = diagrams.LAYERS[layer](big).svg
        assert sum(1 for gid in groups(svg) if gid.startswith("p/")) == 105
        assert len(svg) < 400_000


def test_a_pod_whose_host_route_is_gone_is_marked(kindnet):
    """Break-and-fix: `ip route del <pod IP>` on the node shows on the pod (red, dashed veth, tooltip)."""
    pod = next(p for p in wiring.pods(kindnet) if p.key == "demo/client")
    assert groups(diagrams.pod_network(kindnet).svg)["p/demo/client"].get("data-route") == "ok"
    node = kindnet.node(pod.node)
    node.routes = [r for r in node.routes if r.dst != pod.ip]
    g = groups(diagrams.pod_network(kindnet).svg)
    assert g["p/demo/client"].get("data-route") == "missing" and "no route" in tooltip(g["p/demo/client"])
    assert f"{pod.ip} ✕" in group_texts(g["p/demo/client"])
    assert g["p/demo/blue-1"].get("data-route") == "ok"


@pytest.mark.parametrize("lang, word", [("en", "pod network"), ("fr", "réseau des pods")])
def test_the_overview_names_the_cluster_pod_network_not_the_union_of_node_ranges(kindnet, lang, word):
    assert kindnet.pod_cidr == "10.244.0.0/16"
    caption = next(t for t in svg_texts(diagrams.overview(kindnet, lang=lang).svg) if t.startswith(word))
    assert "10.244.0.0/16" in caption and "/22" not in caption
    kindnet.pod_cidr = "10.200.0.0/16"                     # what the cluster says wins over the nodes
    assert any("10.200.0.0/16" in t for t in svg_texts(diagrams.overview(kindnet, lang=lang).svg))


def test_without_a_cluster_range_the_overview_falls_back_to_the_nodes_union(kindnet):
    kindnet.pod_cidr = None
    assert any("10.244.0.0/22" in t for t in svg_texts(diagrams.overview(kindnet).svg))


def test_kubeadm_config_gives_the_pod_subnet():
    from labkit.cluster import pod_subnet_of_kubeadm_config

    conf = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n" \
           "  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n  serviceSubnet: 10.96.0.0/16\n"
    assert pod_subnet_of_kubeadm_config({"ClusterConfiguration": conf}) == "10.244.0.0/16"
    assert pod_subnet_of_kubeadm_config({"ClusterConfiguration": "networking: {}"}) is None
    assert pod_subnet_of_kubeadm_config({"ClusterConfiguration": ": : bad"}) is None
    assert pod_subnet_of_kubeadm_config(None) is None
