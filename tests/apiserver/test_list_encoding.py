"""A LIST reuses the JSON of objects it already encoded: it must still show every change."""
from __future__ import annotations

PODS = "/api/v1/namespaces/default/pods"


def test_a_list_shows_each_new_version_and_no_deleted_object(lab):
    for name in ("a", "b"):
        code, _, _ = lab.request("POST", PODS, {"metadata": {"name": name, "labels": {"v": "1"}},
                                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        assert code == 201
    first = lab.request("GET", PODS)[2]
    assert sorted(p["metadata"]["name"] for p in first["items"]) == ["a", "b"]
    code, _, _ = lab.request("PATCH", PODS + "/a", {"metadata": {"labels": {"v": "2"}}},
                             "application/merge-patch+json")
    assert code == 200
    lab.request("DELETE", PODS + "/b")
    lab.wait_for(lambda: not lab.request("GET", PODS + "/b")[0] == 200, what="b gone")
    listed = lab.request("GET", PODS)[2]
    assert [p["metadata"]["labels"]["v"] for p in listed["items"]] == ["2"]
    assert listed["kind"] == "PodList" and listed["metadata"]["resourceVersion"]
    assert listed["items"][0] == lab.request("GET", PODS + "/a")[2]
