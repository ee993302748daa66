"""The break-and-fix write path: `ip route add|del|replace` on a node through the lab's API, nothing else.

A route replaced through ``labkit.exercises.node_route`` is the kernel's route in the node
afterwards (read back through the node seam), and a command outside the allowlist gets a 403
``Status`` from the API even when a client skips labkit's own check. Needs root (the lab).
"""
from __future__ import annotations

import json
import os

import pytest

LAB = f"tnr{os.getpid() % 1000}"

pytestmark = [pytest.mark.lab, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces): run `sudo make test`")
    import labkit
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    lifecycle.down(LAB)
    lifecycle.up(LabSpec(name=LAB))
    try:
        with labkit.connect(lab=LAB) as c:
            yield c
    finally:
        lifecycle.down(LAB)


def _routes(cluster, node: str) -> dict[str, dict]:
    from labkit.inspect.iproute import parse_routes

    return {r.dst: {"type": r.type, "gateway": r.gateway} for r in parse_routes(cluster.node(node).run(
        ["ip", "-j", "route", "show"]))}


def test_a_route_is_replaced_and_restored_in_the_node(cluster):
    from kubernetes import client

    from labkit.exercises import node_route

    nodes = {n.metadata.name: n for n in client.CoreV1Api(cluster.api).list_node().items}
    worker, worker2 = f"{LAB}-worker", f"{LAB}-worker2"
    cidr = nodes[worker2].spec.pod_cidr
    ip = next(a.address for a in nodes[worker2].status.addresses if a.type == "InternalIP")
    assert _routes(cluster, worker)[cidr] == {"type": "unicast", "gateway": ip}
    node_route(cluster, "worker", f"ip route replace unreachable {cidr}")
    assert _routes(cluster, worker)[cidr]["type"] == "unreachable"
    node_route(cluster, "worker", f"ip route replace {cidr} via {ip} dev eth0")
    assert _routes(cluster, worker)[cidr] == {"type": "unicast", "gateway": ip}


def test_the_api_refuses_anything_else_with_a_status(cluster):
    from labkit.exercises.noderoute import NODE_ROUTE_PATH

    path = NODE_ROUTE_PATH.replace("{node}", f"{LAB}-worker")
    for argv in (["ip", "link", "del", "eth0"], ["ip", "route", "flush", "all"], ["sh", "-c", "id"]):
        params = cluster.api.param_serialize("POST", path, query_params=[("command", a) for a in argv],
                                             auth_settings=["BearerToken"])
        resp = cluster.api.call_api(*params, _request_timeout=30)
        resp.read()
        body = json.loads(resp.data)
        assert resp.status == 403 and body["kind"] == "Status" and body["reason"] == "Forbidden", body


def test_an_unknown_node_is_a_404_and_a_route_the_kernel_refuses_is_a_422(cluster):
    from labkit.errors import LabkitError
    from labkit.exercises.noderoute import NODE_ROUTE_PATH

    params = cluster.api.param_serialize("POST", NODE_ROUTE_PATH.replace("{node}", "nosuchnode"),
                                         query_params=[("command", a) for a in "ip route del 10.9.9.0/24".split()],
                                         auth_settings=["BearerToken"])
    resp = cluster.api.call_api(*params, _request_timeout=30)
    resp.read()
    assert resp.status == 404 and json.loads(resp.data)["kind"] == "Status"
    from labkit.exercises import node_route

    with pytest.raises(LabkitError) as info:
        node_route(cluster, "worker", "ip route del 10.9.9.0/24")      # no such route: ip says so
    assert "10.9.9.0/24" in str(info.value)
