"""Bad input gets the Status a real API server gives (400/413/422 with causes), never a 500, and
nothing is stored. The reproducers of issue 23, one case each.
"""
from __future__ import annotations

import json

import pytest

PODS = "/api/v1/namespaces/default/pods"
SERVICES = "/api/v1/namespaces/default/services"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
POLICIES = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"


def pod(name="p", **spec):
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


def container(**fields):
    return pod(containers=[{"name": "c", "image": "nginx", **fields}])


def service(name="s", **spec):
    return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}


def deployment(name="d", **spec):
    labels = {"app": name}
    return {"metadata": {"name": name}, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, **spec}}


def slice_(**fields):
    return {"metadata": {"name": "sl", "labels": {"kubernetes.io/service-name": "s"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.1.5"]}],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}], **fields}


CASES = [
    # wrong types anywhere: 400 as the real decoder gives
    ("containers string", PODS, {"metadata": {"name": "p"}, "spec": {"containers": "x"}}, 400),
    ("labels string", PODS, dict(pod(), metadata={"name": "p", "labels": "x"}), 400),
    ("ports of strings", PODS, container(ports=["x"]), 400),
    ("nodeSelector list", PODS, pod(nodeSelector=["a"]), 400),
    ("tolerations string", PODS, pod(tolerations="x"), 400),
    ("metadata null", PODS, {"metadata": None, "spec": pod()["spec"]}, 400),
    ("metadata list", PODS, {"metadata": [], "spec": pod()["spec"]}, 400),
    ("body a list", PODS, [1, 2], 400),
    ("selector string", SERVICES, service(selector="app=a"), 400),
    ("replicas string", DEPLOYMENTS, deployment(replicas="3"), 400),
    # values the real validation refuses: 422
    ("label key with spaces", PODS, dict(pod(), metadata={"name": "p", "labels": {"a b": "c"}}), 422),
    ("label key of 300 characters", PODS,
     dict(pod(), metadata={"name": "p", "labels": {"k" * 300: "v"}}), 422),
    ("label value with a newline", PODS,
     dict(pod(), metadata={"name": "p", "labels": {"k": "v\nw"}}), 422),
    ("selector operator Foo", DEPLOYMENTS, deployment(selector={
        "matchLabels": {"app": "d"}, "matchExpressions": [{"key": "a", "operator": "Foo"}]}), 422),
    ("clusterIP network address", SERVICES, service(clusterIP="10.96.0.0"), 422),
    ("clusterIP broadcast address", SERVICES, service(clusterIP="10.96.255.255"), 422),
    ("externalIPs not an IP", SERVICES, service(externalIPs=["notanip"]), 422),
    ("externalIPs loopback", SERVICES, service(externalIPs=["127.0.0.1"]), 422),
    ("duplicate service port names", SERVICES, service(ports=[
        {"name": "a", "port": 80}, {"name": "a", "port": 81}]), 422),
    ("port name with a newline", SERVICES, service(ports=[
        {"name": "a\n-I KUBE-SERVICES 1 -j RETURN", "port": 80}]), 422),
    ("negative affinity timeout", SERVICES, service(
        sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": -1}}), 422),
    ("hostPort 70000", PODS, container(ports=[{"containerPort": 80, "hostPort": 70000}]), 422),
    ("duplicate containerPorts", PODS, container(ports=[{"containerPort": 80},
                                                        {"containerPort": 80}]), 422),
    ("container port name too long", PODS, container(ports=[
        {"containerPort": 80, "name": "a-very-long-port-name"}]), 422),
    ("maxSurge http", DEPLOYMENTS, deployment(strategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "http"}}), 422),
    ("toleration operator", PODS, pod(tolerations=[{"key": "a", "operator": "Maybe"}]), 422),
    ("pod name of 254 characters", PODS, pod("a" * 254), 422),
    ("slice address not an IP", SLICES, slice_(endpoints=[{"addresses": ["x"]}]), 422),
    ("slice address family", SLICES, slice_(endpoints=[{"addresses": ["fd00::1"]}]), 422),
    ("slice addressType", SLICES, slice_(addressType="IPv5"), 422),
    ("slice port name", SLICES, slice_(ports=[{"name": "A B", "port": 80}]), 422),
    ("policy ports of strings", POLICIES, {"metadata": {"name": "np"}, "spec": {
        "podSelector": {}, "ingress": [{"ports": ["x"]}]}}, 400),
]


@pytest.mark.parametrize("what,path,body,code", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_its_status_and_nothing_is_stored(shared_lab, what, path, body, code):
    before = shared_lab.request("GET", path)[2]["items"]
    got, _, status = shared_lab.request("POST", path, body)
    assert got == code, status
    assert status["kind"] == "Status" and status["code"] == code
    if code == 422:
        assert status["details"]["causes"], status
    assert shared_lab.request("GET", path)[2]["items"] == before


def test_wrong_query_parameters_are_400(shared_lab):
    for query in ("?watch=1&timeoutSeconds=abc", "?watch=1&timeoutSeconds=-1"):
        code, _, status = shared_lab.request("GET", PODS + query)
        assert code == 400 and status["reason"] == "BadRequest"
    code, _, _ = shared_lab.request("DELETE", PODS + "/nothing?gracePeriodSeconds=soon")
    assert code == 400


def test_bodies_are_bounded(shared_lab):
    deep = b'{"metadata": {"name": "deep"}, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    code, _, status = shared_lab.request("POST", PODS, deep)
    assert code == 400, status
    # a 600-byte YAML alias bomb (9 levels of 9 aliases: 387 million values once expanded)
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8))
    code, _, status = shared_lab.request("POST", PODS, bomb.encode(), "application/yaml")
    assert code == 400 and "expands" in status["message"], status
    big = json.dumps(dict(pod("big"), metadata={"name": "big", "annotations": {
        "a": "x" * (4 * 1024 * 1024)}})).encode()
    code, _, status = shared_lab.request("POST", PODS, big)
    assert code == 413 and status["reason"] == "RequestEntityTooLarge", status
    for raw in (b"k8s\x00\x0a\x05\x0a\x03abc\xff\xff", b"k8s\x00\xff\xff\xff\xff\xff", b"junk"):
        code, _, status = shared_lab.request("POST", PODS, raw, "application/vnd.kubernetes.protobuf")
        assert code == 400, status


def test_a_scale_patch_of_the_wrong_type_is_refused_not_replicas_1(shared_lab):
    assert shared_lab.request("POST", DEPLOYMENTS, deployment("scaled", replicas=3))[0] == 201
    code, _, status = shared_lab.request("PATCH", DEPLOYMENTS + "/scaled/scale", {"spec": []},
                                         "application/merge-patch+json")
    assert 400 <= code < 500, status
    code, _, status = shared_lab.request("PATCH", DEPLOYMENTS + "/scaled/scale",
                                         {"spec": {"replicas": -2}}, "application/merge-patch+json")
    assert code == 422, status
    assert shared_lab.request("GET", DEPLOYMENTS + "/scaled")[2]["spec"]["replicas"] == 3


def test_a_pod_with_a_name_of_253_characters_is_whole(shared_lab):
    """Upstream accepts names up to 253 characters (DNS-1123 subdomain); the lab stores them
    (a hashed file name), runs them and deletes them: nothing is half-built."""
    name = "a" * 253
    code, _, status = shared_lab.request("POST", PODS, pod(name))
    assert code == 201, status
    shared_lab.wait_for(lambda: shared_lab.request("GET", f"{PODS}/{name}")[2]["status"]
                        .get("phase") == "Running", what="the long-named pod running")
    code, _, _ = shared_lab.request("DELETE", f"{PODS}/{name}?gracePeriodSeconds=0")
    assert code == 200
    shared_lab.wait_for(lambda: shared_lab.request("GET", f"{PODS}/{name}")[0] == 404,
                        what="the pod gone")


def test_a_null_list_item_decodes_as_an_empty_struct(shared_lab):
    """As Go decodes ``ports: [null]``: one port with no field set (all TCP ports)."""
    code, _, obj = shared_lab.request("POST", POLICIES, {"metadata": {"name": "nullport"}, "spec": {
        "podSelector": {}, "ingress": [{"ports": [None]}]}})
    assert code == 201, obj
    assert obj["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP"}] or \
        obj["spec"]["ingress"][0]["ports"] == [{}]
