"""fieldValidation=Strict, kubectl's default: unknown fields are refused as a real server does."""
from labkit.apiserver.fields import unknown_fields


def test_unknown_fields_are_found_with_their_paths():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": {"any": "thing"}},
           "spec": {"foo": 1, "containers": [{"name": "c", "image": "i", "bogus": 2,
                                              "ports": [{"containerPort": 80, "prot": "TCP"}]}]}}
    assert unknown_fields(pod, "Pod") == ["spec.foo", "spec.containers[0].bogus",
                                          "spec.containers[0].ports[0].prot"]


def test_known_objects_and_patch_directives_pass():
    deploy = {"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "x"}],
                                                            "$setElementOrder/containers": [{"name": "c"}]}}}}
    assert unknown_fields(deploy, "Deployment") == []
    assert unknown_fields({"spec": {"ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}]}},
                          "NetworkPolicy") == []
    assert unknown_fields({"spec": {"ingress": [{"form": []}]}}, "NetworkPolicy") == ["spec.ingress[0].form"]


def test_strict_create_is_a_400_and_stores_nothing(lab):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
            "spec": {"contianers": [{"name": "c", "image": "nginx"}]}}
    code, _, answer = lab.request("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", body)
    assert code == 400 and 'unknown field "spec.contianers"' in answer["message"]
    code, _, _ = lab.request("GET", "/api/v1/namespaces/default/pods/typo")
    assert code == 404
