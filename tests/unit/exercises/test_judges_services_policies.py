"""The judges of notebooks 03 (expose, NodePort) and 04 (default deny, allow from a namespace, AND/OR)
on recorded facts: right, wrong, partial, missing."""
import pytest

from labkit.exercises import policies, services

EXPOSED = {"namespace": "nb03", "deployment": "hello", "service": "hello", "port": 8080, "target_port": 80,
           "replicas": 2, "deployment_exists": True, "labels": {"app": "hello"}, "pods": ["hello-a", "hello-b"],
           "service_exists": True, "ports": [{"port": 8080, "targetPort": 80}], "selector": {"app": "hello"},
           "endpoints": ["10.244.1.3", "10.244.2.4"], "url": "http://10.96.0.9:8080/", "answered_by": "hello-b",
           "error": ""}
NODEPORT = {"namespace": "nb03", "service": "web-np", "node_port": 30080, "deployment": "web",
            "deployment_exists": True, "labels": {"app": "web"}, "pods": ["web-1", "web-2", "web-3"],
            "service_exists": True, "type": "NodePort", "node_ports": [30080], "selector": {"app": "web"},
            "answers": {"172.18.0.2": "web-1", "172.18.0.3": "web-3"}, "errors": {}}
PODS = ["nb04-front/front", "nb04-ops/prometheus", "nb04-ops/shell", "nb04/api", "nb04/metrics", "nb04/web"]


def matrix(allowed, **extra):
    facts = {"port": 80, "pods": PODS, "allowed": [list(p) for p in allowed], "policy_namespaces": ["nb04"],
             "isolated": ["nb04/api", "nb04/metrics", "nb04/web"], "other_port": None, "other_port_open": [],
             "namespace": "nb04", "dst": None, "from_namespace": None, "expected": []}
    return dict(facts, **extra)


def everything_open():
    return [(s, d) for s in PODS for d in PODS if s != d]


def verdict(judge, facts, lang="en"):
    result = judge(facts, None, lang)
    return result.ok, " ".join(result.reasons)


# --- 03.1 ---------------------------------------------------------------------------------------------------
def test_exposed_right():
    ok, text = verdict(services.judge_exposed, EXPOSED)
    assert ok and "answered from pod hello-b" in text


@pytest.mark.parametrize("change, words", [
    ({"deployment_exists": False, "pods": [], "service_exists": False}, "there is no Deployment hello"),
    ({"ports": [{"port": 8080, "targetPort": 8080}]}, "forwards to targetPort 8080"),
    ({"ports": [{"port": 80, "targetPort": 80}]}, "listens on port(s) 80, expected 8080"),
    ({"selector": {"app": "helo"}}, "matches none of the pods of hello"),
])
def test_exposed_wrong(change, words):
    ok, text = verdict(services.judge_exposed, dict(EXPOSED, **change))
    assert not ok and words in text


def test_exposed_partial():
    ok, text = verdict(services.judge_exposed, dict(EXPOSED, pods=["hello-a"]), "fr")
    assert not ok and "a 1 pod(s) prêt(s), on en attend 2" in text
    ok, text = verdict(services.judge_exposed, dict(EXPOSED, endpoints=["10.244.1.3"]))
    assert not ok and "list 1 ready endpoint(s), expected 2" in text
    ok, text = verdict(services.judge_exposed, dict(EXPOSED, answered_by=None, error="exit 7"))
    assert not ok and "got no answer" in text and "exit 7" in text


# --- 03.3 ---------------------------------------------------------------------------------------------------
def test_node_port_right_wrong_partial():
    assert verdict(services.judge_node_port, NODEPORT)[0]
    ok, text = verdict(services.judge_node_port, dict(NODEPORT, node_ports=[31234], answers={}))
    assert not ok and "has nodePort(s) 31234, expected 30080" in text
    ok, text = verdict(services.judge_node_port, dict(NODEPORT, type="ClusterIP", node_ports=[], answers={}))
    assert not ok and "of type ClusterIP, not NodePort" in text
    ok, text = verdict(services.judge_node_port, dict(NODEPORT, answers={"172.18.0.2": "web-1", "172.18.0.3": None},
                                                      errors={"172.18.0.3": "exit 28"}))
    assert not ok and "http://172.18.0.3:30080/" in text and "exit 28" in text
    assert "no Service web-np" in verdict(services.judge_node_port, dict(NODEPORT, service_exists=False))[1]


# --- 04.1 ---------------------------------------------------------------------------------------------------
def test_default_deny_right():
    allowed = [(s, d) for s, d in everything_open() if not d.startswith("nb04/")]
    ok, text = verdict(policies.judge_default_deny, matrix(allowed))
    assert ok and "nb04" in text


def test_default_deny_missing_policy_and_wrong_direction():
    ok, text = verdict(policies.judge_default_deny, matrix(everything_open(), policy_namespaces=[], isolated=[]))
    assert not ok and "there is no NetworkPolicy in namespace nb04 yet" in text
    egress_too = [(s, d) for s, d in everything_open() if not d.startswith("nb04/") and not s.startswith("nb04/")]
    ok, text = verdict(policies.judge_default_deny, matrix(egress_too))
    assert not ok and "nb04/api" in text


def test_default_deny_partial_one_pod_left_open():
    allowed = [(s, d) for s, d in everything_open() if not d.startswith("nb04/") or d == "nb04/web"]
    ok, text = verdict(policies.judge_default_deny, matrix(allowed, isolated=["nb04/api", "nb04/metrics"]))
    assert not ok and "still reaches nb04/web" in text


# --- 04.2 ---------------------------------------------------------------------------------------------------
def test_allow_from_namespace_right_wrong_partial():
    base = [(s, d) for s, d in everything_open() if not d.startswith("nb04/")]
    right = matrix(base + [("nb04-front/front", "nb04/web")], dst="nb04/web", from_namespace="nb04-front",
                   other_port=8080)
    assert verdict(policies.judge_allow_from_namespace, right)[0]
    ok, text = verdict(policies.judge_allow_from_namespace, dict(right, other_port_open=["nb04-front/front"]))
    assert not ok and "8080" in text
    wrong = dict(right, allowed=right["allowed"] + [["nb04-ops/shell", "nb04/web"]])
    assert not verdict(policies.judge_allow_from_namespace, wrong)[0]
    missing = dict(right, allowed=[list(p) for p in base])
    assert not verdict(policies.judge_allow_from_namespace, missing)[0]


# --- 04.4 ---------------------------------------------------------------------------------------------------
def test_and_or_right_and_the_or_mistake():
    base = [(s, d) for s, d in everything_open() if not d.startswith("nb04/")]
    right = matrix(base + [("nb04-ops/prometheus", "nb04/api")], dst="nb04/api", expected=["nb04-ops/prometheus"])
    assert verdict(policies.judge_and_or, right)[0]
    ored = dict(right, allowed=right["allowed"] + [["nb04-ops/shell", "nb04/api"], ["nb04/metrics", "nb04/api"]])
    ok, text = verdict(policies.judge_and_or, ored, "fr")
    assert not ok and "nb04-ops/shell joint nb04/api" in text and "nb04/metrics joint nb04/api" in text
    open_all = dict(right, allowed=[list(p) for p in everything_open()], isolated=[])
    assert "no policy selects nb04/api" in verdict(policies.judge_and_or, open_all)[1]
