"""No string of an object can add a rule: injection attempts in every string field that reaches
kube-proxy's rules leave the rendered ruleset equal to the one of the cluster without them.

The lab's kube-proxy reads objects through ``labkit.embedded.proxy.usable`` (one object at a
time; what it cannot read is skipped and reported) and renders with the same code the nodes load.
"""
from __future__ import annotations

import copy

import pytest

from labkit.embedded.proxy import usable
from labkit.kubeproxy.iptables import _line, render_iptables
from labkit.kubeproxy.manifests import from_objects
from labkit.kubeproxy.model import NodeContext
from labkit.kubeproxy.nftables import quoted, render_nftables

CTX = NodeContext(node_name="n1", node_ips=("172.18.0.2",), cluster_cidr="10.244.0.0/16",
                  service_cidrs=("10.96.0.0/16",))
ATTEMPTS = ["a\n-I KUBE-SERVICES 1 -j RETURN", 'a" ; add rule ip kube-proxy services accept ; "',
            "a\r-A KUBE-SERVICES -j ACCEPT", "a -j ACCEPT", "A", "a" * 64, "a\x00b"]


def cluster() -> list[dict]:
    svc = {"kind": "Service", "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
           "spec": {"clusterIP": "10.96.0.20", "type": "NodePort",
                    "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}}
    eps = {"kind": "EndpointSlice", "metadata": {
        "name": "web-abc", "namespace": "default", "uid": "u2",
        "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.244.1.5"], "nodeName": "n1",
                       "conditions": {"ready": True}}]}
    return [svc, eps]


def render(objs: list[dict]) -> tuple[str, str]:
    inp = from_objects([("api", i, o) for i, o in enumerate(usable(objs, lambda o, e: None))],
                       node_name="n1")
    return render_iptables(inp, CTX), render_nftables(inp, CTX).transaction()


def setters():
    """Every string field that reaches a rule (a comment, a chain hash), as a setter."""
    def svc_name(objs, v):
        objs[0]["metadata"]["name"] = v
        objs[1]["metadata"]["labels"]["kubernetes.io/service-name"] = v

    def namespace(objs, v):
        for o in objs:
            o["metadata"]["namespace"] = v

    def port_name(objs, v):
        objs[0]["spec"]["ports"][0]["name"] = v
        objs[1]["ports"][0]["name"] = v

    def slice_port_name(objs, v):
        objs[1]["ports"][0]["name"] = v

    def slice_label(objs, v):
        objs[1]["metadata"]["labels"]["kubernetes.io/service-name"] = v

    def endpoint_ip(objs, v):
        objs[1]["endpoints"][0]["addresses"][0] = "10.244.1.5" + v

    def cluster_ip(objs, v):
        objs[0]["spec"]["clusterIP"] = "10.96.0.20" + v
    return [svc_name, namespace, port_name, slice_port_name, slice_label, endpoint_ip, cluster_ip]


@pytest.mark.parametrize("setter", setters(), ids=lambda f: f.__name__)
@pytest.mark.parametrize("attempt", ATTEMPTS[:4] + ATTEMPTS[6:])
def test_an_injection_attempt_adds_no_rule(setter, attempt):
    clean = cluster()
    bad = copy.deepcopy(clean)
    setter(bad, attempt)
    # the cluster without the attempt: the objects the attempt was made in are not there
    touched = [i for i, (a, b) in enumerate(zip(clean, bad)) if a != b]
    without = [o for i, o in enumerate(clean) if i not in touched]
    mixed = [b if i in touched else c for i, (c, b) in enumerate(zip(clean, bad))]
    assert render(mixed) == render(without)


def test_the_renderers_refuse_what_would_start_a_line_even_past_validation():
    with pytest.raises(ValueError):
        _line("-A", "KUBE-SERVICES", "-m", "comment", "--comment", '"x\n-I KUBE-SERVICES 1"')
    with pytest.raises(ValueError):
        quoted('x" ; add rule ip t c accept ; "')
    assert quoted("default/web:http") == '"default/web:http"'
