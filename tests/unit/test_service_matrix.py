"""The Service matrix's predictions, cell by cell, from API objects (no lab, no root)."""
from types import SimpleNamespace

from labkit.netpol import Engine
from labkit.netpol.objects import from_objects
from labkit.service_matrix import Source, columns, endpoints_of, predict

NODES = [SimpleNamespace(name="n1", internal_ip="172.18.0.2"), SimpleNamespace(name="n2", internal_ip="172.18.0.3")]


def pod(name, node, ip, labels):
    return {"metadata": {"name": name, "namespace": "s", "labels": labels}, "spec": {"nodeName": node,
            "containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}, "status": {"podIP": ip}}


def svc(name, selector_ip, **spec):
    return {"metadata": {"name": name, "namespace": "s"},
            "spec": {"clusterIP": selector_ip, "ports": [{"port": 80, "nodePort": 30080}], **spec}}


def eps(service, *pods):
    return {"metadata": {"name": service + "-x", "namespace": "s", "labels": {"kubernetes.io/service-name": service}},
            "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
            "endpoints": [{"addresses": [p["status"]["podIP"]], "nodeName": p["spec"]["nodeName"],
                           "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": "s"}} for p in pods]}


A = pod("a", "n1", "10.244.1.2", {"app": "web"})
B = pod("b", "n2", "10.244.2.2", {"app": "web"})
C = pod("c", "n1", "10.244.1.3", {"role": "client"})
DENY_C = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "s"},
          "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                   "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}}


def matrix(services, slices, policies=(), cni="bridge"):
    pods = [A, B, C]
    snap = SimpleNamespace(nodes=NODES, services=services, endpointslices=slices, cni=cni)
    eng = Engine(*from_objects([{"metadata": {"name": "s"}}], pods, list(policies)))
    sources = [Source(f"s/{p['metadata']['name']}", "pod", p["status"]["podIP"], p["spec"]["nodeName"]) for p in pods]
    sources += [Source("node/n2", "node", "172.18.0.3", "n2"), Source("host", "host", "172.18.0.1", None)]
    return predict(snap, sources, "n1", eng)


def test_columns_skip_headless_services_and_list_a_node_port_per_node():
    cols = columns([svc("web", "10.96.0.5", type="NodePort"), svc("h", "None"),
                    {"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.1",
                                                                                           "ports": [{"port": 443}]}}],
                   [("n1", "172.18.0.2"), ("n2", "172.18.0.3")])
    assert [(c.door, c.node, c.ip, c.dport) for c in cols] == [
        ("cluster_ip", None, "10.96.0.5", 80), ("node_port", "n1", "172.18.0.2", 30080),
        ("node_port", "n2", "172.18.0.3", 30080)]


def test_endpoints_of_keeps_ready_endpoints_of_the_named_port():
    sl = eps("web", A, B)
    sl["endpoints"][1]["conditions"]["ready"] = False
    assert [e.pod for e in endpoints_of([sl], "s/web", "", "TCP")] == ["s/a"]
    assert endpoints_of([sl], "s/web", "http", "TCP") == []


def test_traffic_policies_and_empty_services():
    m = matrix([svc("web", "10.96.0.5", type="NodePort", externalTrafficPolicy="Local", internalTrafficPolicy="Local"),
                svc("none", "10.96.0.6")], [eps("web", A)])
    web, np1, np2, none = (m.find("s/web"), m.find("s/web", "node_port", "n1"), m.find("s/web", "node_port", "n2"),
                           m.find("s/none"))
    assert m.cell("s/c", web).predicted == "open"                      # a on n1, c's node
    assert m.cell("s/b", web).predicted == "closed"                    # iTP Local, nothing on n2
    assert m.cell("host", np2).predicted == "closed" and m.cell("host", np1).predicted == "open"
    assert m.cell("s/b", np1).predicted == "open"                      # pod traffic: eTP short-circuit (no CNI masq)
    assert m.cell("node/n2", np1).predicted == "open"                 # external, and a is on n1
    assert m.cell("node/n2", np2).predicted == "open"                 # the node itself: short-circuit
    assert "etp_short_circuit" in [k for k, _ in m.cell("node/n2", np2).reasons]
    assert [k for k, _ in m.cell("host", none).reasons] == ["no_endpoints"]


def test_kindnet_masquerade_makes_a_pod_external_to_another_node():
    m = matrix([svc("web", "10.96.0.5", type="NodePort", externalTrafficPolicy="Local")], [eps("web", A)],
               cni="kindnet")
    cell = m.cell("s/c", m.find("s/web", "node_port", "n2"))
    assert cell.predicted == "closed" and [k for k, _ in cell.reasons][:2] == ["cni_masquerade", "etp_local_none"]


def test_policies_decide_per_endpoint_and_hairpin_is_allowed():
    m = matrix([svc("web", "10.96.0.5")], [eps("web", A, B)], [DENY_C])
    web = m.find("s/web")
    assert m.cell("s/c", web).predicted == "closed" and "ingress denied" in m.cell("s/c", web).explain()
    assert m.cell("s/a", web).predicted == "open"                                     # itself + its peer
    assert "hairpin" in [k for k, _ in m.cell("s/a", web).reasons]
    assert m.cell("node/n2", web).predicted == "partial"        # its own pod b yes, a on n1 (isolated) no
    assert m.to_dict()["cells"][0]["why"]
