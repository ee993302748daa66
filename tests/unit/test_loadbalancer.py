"""The lab's MetalLB-like load-balancer planning (pure): pool, allocation, election."""
from __future__ import annotations

import hashlib

from labkit.embedded.loadbalancer import EXCLUDE_LABEL, assign, candidates, elect, plan, pool, with_ingress


def svc(name, type_="LoadBalancer", ip=None, stamp="2026-01-01T00:00:00Z"):
    status = {"loadBalancer": {"ingress": [{"ip": ip}]}} if ip else {"loadBalancer": {}}
    return {"metadata": {"name": name, "namespace": "default", "creationTimestamp": stamp},
            "spec": {"type": type_}, "status": status}


def node(name, labels=None, unavailable=False):
    conditions = [{"type": "NetworkUnavailable", "status": "True"}] if unavailable else []
    return {"metadata": {"name": name, "labels": labels or {}}, "status": {"conditions": conditions}}


def ready_slice(service):
    return {"metadata": {"namespace": "default", "labels": {"kubernetes.io/service-name": service}},
            "endpoints": [{"addresses": ["10.244.1.2"], "conditions": {"ready": True}}]}


def test_pool_is_kinds_metallb_range():
    addresses = pool("172.18.0.0/16")
    assert addresses[0] == "172.18.255.200" and addresses[-1] == "172.18.255.250" and len(addresses) == 51
    assert pool("172.18.0.0/28") == []


def test_assign_keeps_addresses_and_fills_the_lowest_free():
    addresses = pool("172.18.0.0/16")
    services = [svc("a", stamp="1"), svc("b", ip="172.18.255.200", stamp="2"), svc("c", type_="ClusterIP")]
    assert assign(services, addresses) == {"default/a": "172.18.255.201", "default/b": "172.18.255.200"}
    assert assign([svc("a")], []) == {"default/a": None}


def test_excluded_or_unavailable_nodes_never_announce():
    nodes = [node("n1", {EXCLUDE_LABEL: ""}), node("n2", unavailable=True), node("n3")]
    assert candidates(nodes) == ["n3"]


def test_election_is_metallbs_sha256_order():
    names = ["kind-worker", "kind-worker2", "kind-control-plane"]
    ip = "172.18.255.200"
    expected = sorted(names, key=lambda n: hashlib.sha256(f"{n}#{ip}".encode()).digest())[0]
    assert elect(names, ip) == expected
    assert elect(list(reversed(names)), ip) == expected
    assert elect([], ip) is None


def test_no_ready_endpoint_no_announcement_and_holder_moves():
    addresses = pool("172.18.0.0/16")
    nodes = [node("n1"), node("n2"), node("n3")]
    idle = plan([svc("a")], [], nodes, addresses)
    assert idle.addresses == {"default/a": "172.18.255.200"} and not any(idle.holders.values())
    busy = plan([svc("a")], [ready_slice("a")], nodes, addresses)
    holder = next(n for n, ips in busy.holders.items() if ips)
    nodes = [node(n, {EXCLUDE_LABEL: ""}) if n == holder else node(n) for n in ("n1", "n2", "n3")]
    moved = plan([svc("a")], [ready_slice("a")], nodes, addresses)
    assert next(n for n, ips in moved.holders.items() if ips) != holder


def test_with_ingress_writes_only_a_change():
    s = svc("a")
    new = with_ingress(s, "172.18.255.200")
    assert new["status"]["loadBalancer"] == {"ingress": [{"ip": "172.18.255.200", "ipMode": "VIP"}]}
    assert with_ingress(new, "172.18.255.200") is None
    assert s["status"] == {"loadBalancer": {}}          # not mutated


def test_only_the_status_subresource_writes_a_services_load_balancer():
    """The speaker writes status.loadBalancer through .../status; a plain update keeps it."""
    from labkit.apiserver.api import Api
    from labkit.apiserver.objects import ServiceAddresses
    from labkit.apiserver.resources import BY_KEY
    from labkit.apiserver.store import Store

    res = BY_KEY["core/services"]
    api = Api(Store(), ServiceAddresses())
    api.create(BY_KEY["core/namespaces"], None, {"metadata": {"name": "default"}})
    api.create(res, "default", {"metadata": {"name": "web"},
                                "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
    current = api.get(res, "default", "web")
    api.update(res, "default", "web", with_ingress(current, "172.18.255.200"), subresource="status")
    stored = api.get(res, "default", "web")
    assert stored["status"]["loadBalancer"]["ingress"][0]["ip"] == "172.18.255.200"
    plain = {**stored, "status": {"loadBalancer": {}}, "metadata": {**stored["metadata"], "labels": {"a": "b"}}}
    api.update(res, "default", "web", plain)
    assert api.get(res, "default", "web")["status"]["loadBalancer"]["ingress"][0]["ip"] == "172.18.255.200"
