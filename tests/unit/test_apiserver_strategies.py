"""The API server asks each kind's strategy where kinds differ, instead of branching on the kind."""
import re
from pathlib import Path

from labkit.apiserver import objects, strategies
from labkit.apiserver.resources import BY_KEY, RESOURCES

APISERVER = Path(strategies.__file__).resolve().parent


def test_at_most_five_kind_branches_left():
    branches = [f"{p.name}:{n}" for p in APISERVER.glob("*.py")
                for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"kind ==", line)]
    assert len(branches) <= 5, branches


def test_every_served_kind_has_a_strategy_and_the_special_ones_their_own():
    for res in RESOURCES:
        assert isinstance(strategies.of(res), strategies.Strategy)
    assert type(strategies.for_kind("Pod")) is strategies.PodStrategy
    assert type(strategies.for_kind("Service")) is strategies.ServiceStrategy
    assert type(strategies.for_kind("Namespace")) is strategies.NamespaceStrategy
    assert strategies.for_kind("Deployment").deployment and not strategies.for_kind("ReplicaSet").deployment
    assert type(strategies.for_kind("NetworkPolicy")) is strategies.Strategy


def test_graceful_deletion_by_kind():
    pod = {"spec": {"nodeName": "worker"}, "metadata": {}}
    assert strategies.of(BY_KEY["core/pods"]).graceful(pod, None)
    assert not strategies.of(BY_KEY["core/pods"]).graceful(pod, 0)
    assert not strategies.of(BY_KEY["core/pods"]).graceful({"spec": {}}, None)
    assert strategies.of(BY_KEY["core/namespaces"]).graceful({"spec": {}}, 0)
    assert not strategies.of(BY_KEY["core/events"]).graceful({"spec": {}}, None)


def test_a_service_keeps_its_cluster_ip_on_update_and_releases_it_on_removal():
    addresses = objects.ServiceAddresses("10.96.0.0/16")
    service = strategies.for_kind("Service")
    svc = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}], "type": "NodePort"}}
    service.create_defaults(svc, addresses)
    ip, node_port = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]
    assert ip in addresses.used and node_port in addresses.node_ports
    new = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80, "nodePort": node_port}],
                                                 "type": "NodePort"}}
    service.prepare_update(svc, new)
    assert new["spec"]["clusterIP"] == ip
    taken = {"spec": {"clusterIP": ip, "ports": [{"port": 80, "nodePort": node_port}]}}
    assert len(service.allocation_causes(addresses, taken, None)) == 2       # IP and port taken
    service.on_remove(svc, addresses)
    assert ip not in addresses.used and node_port not in addresses.node_ports
