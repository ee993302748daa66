"""``pods/ephemeralcontainers`` refuses what upstream refuses (raw requests, no kubectl)."""
from __future__ import annotations

PATH = "/api/v1/namespaces/default/pods/p1/ephemeralcontainers"
SMP = "application/strategic-merge-patch+json"


def test_ephemeral_containers_are_added_never_changed(lab):
    code, _, _ = lab.request("POST", "/api/v1/namespaces/default/pods", {
        "metadata": {"name": "p1"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
    assert code == 201
    lab.wait_for(lambda: lab.request("GET", "/api/v1/namespaces/default/pods/p1")[2]
                 ["status"].get("phase") == "Running", what="p1 running")
    code, _, body = lab.request("PATCH", PATH, {"spec": {"ephemeralContainers": [
        {"name": "app", "image": "busybox"}]}}, content_type=SMP)
    assert code == 422 and body["details"]["causes"][0]["field"] == \
        "spec.ephemeralContainers[0].name"
    code, _, body = lab.request("PATCH", PATH, {"spec": {"ephemeralContainers": [
        {"name": "dbg", "image": "busybox", "ports": [{"containerPort": 80}]}]}},
        content_type=SMP)
    assert code == 422 and body["details"]["causes"][0]["field"] == \
        "spec.ephemeralContainers[0].ports"
    code, _, pod = lab.request("PATCH", PATH, {"spec": {"ephemeralContainers": [
        {"name": "dbg", "image": "busybox", "stdin": True}]}}, content_type=SMP)
    assert code == 200
    assert pod["status"]["ephemeralContainerStatuses"][0]["state"]["running"]
    code, _, body = lab.request("PATCH", PATH, {"spec": {"ephemeralContainers": [
        {"name": "dbg", "image": "alpine"}]}}, content_type=SMP)
    assert code == 422 and "may not be removed or changed" in body["message"]
    code, _, body = lab.request("PATCH", PATH, {"spec": {"ephemeralContainers": []}},
                                content_type="application/merge-patch+json")
    assert code == 422
    code, _, pod = lab.request("GET", PATH)
    assert [c["name"] for c in pod["spec"]["ephemeralContainers"]] == ["dbg"]
