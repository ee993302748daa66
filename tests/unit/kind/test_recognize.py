"""CNI recognition: every reconstructed fixture set, and the embedded lab's own recorded outputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit import i18n
from labkit.inspect.cni import (CALICO_GATEWAY, chain_owner, ipvs_service_map, parse_ipvsadm, recognize,
                                recognize_cluster, rule_owners)
from labkit.inspect.iproute import parse_addr, parse_routes
from labkit.snapshot import ClusterSnapshot

from .conftest import SETS, load_set

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

# set: (cni, mode, overlay, cross-node device, gateway kind, gateway device, service proxy)
EXPECTED = {
    "kindnet": ("kindnet", "ptp", False, "eth0", "ptp", "veth*", "iptables"),
    "kindnet-nftables": ("kindnet", "ptp", False, "eth0", "ptp", "veth*", "nftables"),
    "flannel-vxlan": ("flannel", "vxlan", True, "flannel.1", "bridge", "cni0", "iptables"),
    "flannel-host-gw": ("flannel", "host-gw", False, "eth0", "bridge", "cni0", "iptables"),
    "calico-ipip": ("calico", "ipip", True, "tunl0", "proxy-arp", "cali*", "iptables"),
    "calico-vxlan": ("calico", "vxlan", True, "vxlan.calico", "proxy-arp", "cali*", "iptables"),
    "calico-bgp": ("calico", "bgp", False, "eth0", "proxy-arp", "cali*", "ipvs"),
    "cilium": ("cilium", "vxlan", True, "cilium_vxlan", "router", "cilium_host", "cilium-ebpf"),
    "kube-router": ("kube-router", "bgp", False, "eth0", "bridge", "kube-bridge", "kube-router-ipvs"),
    "weave": ("weave", "fastdp", True, "vxlan-6784", "bridge", "weave", "iptables"),
}


def test_every_fixture_set_has_an_expectation():
    assert sorted(EXPECTED) == SETS


def _node_recognition(out: dict, ip: str):
    return recognize(parse_addr(out["addr"]), parse_routes(out["route"]), out["iptables"], out["nft"],
                     out["ipvsadm"], internal_ip=ip)


@pytest.mark.parametrize("name", SETS)
def test_fixture_set_recognised_on_every_node(name):
    meta, outputs = load_set(name)
    ips = {n["metadata"]["name"]: n["status"]["addresses"][0]["address"] for n in meta["objects"]["nodes"]}
    cni, mode, overlay, device, gw_kind, gw_dev, proxy = EXPECTED[name]
    for node, out in outputs.items():
        rec = _node_recognition(out, ips[node])
        assert (rec.cni, rec.mode, rec.overlay, rec.cross_node_device) == (cni, mode, overlay, device), node
        assert (rec.gateway_kind, rec.gateway_device, rec.service_proxy) == (gw_kind, gw_dev, proxy), node
        assert rec.evidence


def test_gateways_and_tunnels():
    meta, outputs = load_set("calico-ipip")
    rec = _node_recognition(outputs["kind-worker"], "172.18.0.3")
    assert rec.pod_gateway == CALICO_GATEWAY == "169.254.1.1" and rec.encapsulation == "ipip"
    assert any("blackhole 192.168.110.128/26" in e for e in rec.evidence)
    _, outputs = load_set("flannel-vxlan")
    rec = _node_recognition(outputs["kind-worker"], "172.18.0.3")
    assert rec.tunnel == {"id": 1, "port": 8472} and rec.pod_gateway == "10.244.1.1"
    _, outputs = load_set("calico-vxlan")
    assert _node_recognition(outputs["kind-worker"], "172.18.0.3").tunnel == {"id": 4096, "port": 4789}
    _, outputs = load_set("cilium")
    rec = _node_recognition(outputs["kind-worker2"], "172.18.0.4")
    assert rec.pod_gateway == "10.244.2.1" and rec.pod_veth_prefix == "lxc" and rec.proxy_mode == "ebpf"


def test_rule_owners_per_set():
    def owners(name):
        _, outputs = load_set(name)
        rec = _node_recognition(outputs["kind-worker"], "172.18.0.3")
        return {(o.owner, o.backend) for o in rec.owners}
    # kindnetd >= kind v0.27: its masquerade chain, and its policy table in nftables
    assert owners("kindnet") == {("kindnet", "iptables"), ("kindnet", "nftables"), ("kube-proxy", "iptables")}
    assert ("kube-proxy", "nftables") in owners("kindnet-nftables")
    assert owners("calico-bgp") >= {("calico", "iptables"), ("kube-proxy", "ipvs"), ("kubelet", "iptables")}
    assert owners("kube-router") == {("kube-router", "iptables"), ("kube-router", "ipvs")}
    assert owners("cilium") == {("cilium", "iptables")}          # kube-proxy replaced: no KUBE-* at all
    assert ("weave", "iptables") in owners("weave") and ("flannel", "iptables") in owners("flannel-vxlan")


@pytest.mark.parametrize("chain,owner", [
    ("KUBE-SVC-TCOU7JCQXEZGVUNU", "kube-proxy"), ("KUBE-ROUTER-FORWARD", "kube-router"),
    ("KUBE-POD-FW-ABCDEF", "kube-router"), ("KUBE-KUBELET-CANARY", "kubelet"), ("cali-tw-cali123", "calico"),
    ("CILIUM_POST_nat", "cilium"), ("WEAVE-NPC-INGRESS", "weave"), ("FLANNEL-POSTRTG", "flannel"),
    ("KIND-MASQ-AGENT", "kindnet"), ("CNI-HOSTPORT-DNAT", "cni-portmap"), ("CNI-3f2a", "cni-ipmasq"),
    ("POSTROUTING", None), ("DOCKER", None),
])
def test_chain_owner(chain, owner):
    assert chain_owner(chain) == owner


def test_ipvsadm_parse_and_service_map():
    meta, outputs = load_set("kube-router")
    services = parse_ipvsadm(outputs["kind-worker"]["ipvsadm"])
    web = next(s for s in services if s.address == "10.96.200.80")
    assert (web.protocol, web.port, web.scheduler) == ("TCP", 80, "rr")
    assert sorted(d[0] for d in web.destinations) == ["10.244.1.2", "10.244.1.3", "10.244.2.2"]
    smap = ipvs_service_map(services, meta["objects"]["services"])
    assert smap.mode == "ipvs"
    entry = smap.get("demo/web")
    assert [round(e.share, 3) for e in entry.endpoints] == [0.333] * 3
    assert smap.get("kube-system/kube-dns:dns", "udp").endpoints[0].ip == "10.244.0.2"
    unnamed = ipvs_service_map(services)          # without Service objects: addresses stand for names
    assert unnamed.get("10.96.200.80:80") is not None


def test_owners_from_nft_json_only():
    _, outputs = load_set("kindnet-nftables")
    owners = {o.owner: o for o in rule_owners(nft=outputs["kind-worker"]["nft"])}
    assert sorted(owners) == ["kindnet", "kube-proxy"]           # kindnet: its policy table
    assert any("service-" in c for c in owners["kube-proxy"].chains)
    assert "inet kindnet-network-policies postrouting" in owners["kindnet"].chains


@pytest.mark.parametrize("cni", ["kindnet", "bridge", "flannel", "calico"])
def test_embedded_snapshots_are_recognised(cni):
    snap = ClusterSnapshot.load(FIXTURES / "snapshots" / f"embedded-{cni}.json")
    recs = [recognize(n.interfaces, n.routes, internal_ip=n.internal_ip) for n in snap.nodes if n.interfaces]
    assert recognize_cluster(recs).cni == cni
    workers = [r for r, n in zip(recs, snap.nodes) if "control-plane" not in n.roles]
    assert all(r.cni == cni for r in workers)


@pytest.mark.parametrize("cni,mode", [("kindnet", "ptp"), ("flannel", "vxlan")])
def test_embedded_iproute_recordings(cni, mode):
    base = FIXTURES / "iproute"
    rec = recognize(parse_addr((base / f"{cni}-worker-addr.json").read_text()),
                    parse_routes((base / f"{cni}-worker-route.json").read_text()))
    assert (rec.cni, rec.mode) == (cni, mode)


def test_nothing_known_is_not_recognised():
    rec = recognize(parse_addr('[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"link_type":"loopback"}]'), [])
    assert rec.cni is None and rec.describe("en").startswith("CNI not recognised")


def test_describe_in_both_languages():
    _, outputs = load_set("calico-ipip")
    rec = _node_recognition(outputs["kind-worker"], "172.18.0.3")
    assert "encapsulated (ipip) by tunl0" in rec.describe("en") and "proxy ARP" in rec.describe("en")
    fr = rec.describe("fr")
    assert "encapsulé (ipip) par tunl0" in fr and "169.254.1.1" in fr
    assert i18n.t("cni.gateway.ptp", "fr", ip="x", device="y").startswith("la passerelle")


def test_majority_vote_ignores_a_node_still_starting():
    meta, outputs = load_set("flannel-vxlan")
    recs = [_node_recognition(o, "172.18.0.3") for o in outputs.values()]
    empty = recognize([], [])
    assert recognize_cluster([empty] + recs).cni == "flannel"
    assert recognize_cluster([]).cni is None


def test_fixture_facts_as_the_projects_write_them():
    """Calico's IPAM blocks are not the nodes' podCIDR; Felix's VXLAN routes are proto 80;
    KUBE-ROUTER-SERVICES is a filter chain jumped from INPUT; kindnet's policy table exists."""
    meta, outputs = load_set("calico-vxlan")
    node = next(n for n in meta["objects"]["nodes"] if n["metadata"]["name"] == "kind-worker")
    assert node["spec"]["podCIDR"] == "192.168.1.0/24"
    routes = json.loads(outputs["kind-worker"]["route"])
    hole = next(r for r in routes if r.get("type") == "blackhole")
    assert (hole["dst"], hole["protocol"]) == ("192.168.110.128/26", "80")
    _, outputs = load_set("calico-ipip")
    assert next(r for r in json.loads(outputs["kind-worker"]["route"]) if r.get("type") == "blackhole")[
        "protocol"] == "bird"
    _, outputs = load_set("kube-router")
    save = outputs["kind-worker"]["iptables"]
    filter_part = save.split("*nat")[0]
    assert "-A INPUT -m comment --comment \"handle traffic to IPVS service IPs in custom chain\" " \
           "-j KUBE-ROUTER-SERVICES" in filter_part and "KUBE-ROUTER-SERVICES" not in save.split("*nat")[1]
    _, outputs = load_set("kindnet")
    tables = {(i["table"]["family"], i["table"]["name"]) for i in json.loads(outputs["kind-worker"]["nft"])[
        "nftables"] if "table" in i}
    assert ("inet", "kindnet-network-policies") in tables
