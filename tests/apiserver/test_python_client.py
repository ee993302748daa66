"""The official ``kubernetes`` Python client against the lab API server."""
from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream


def pod_body(name: str, labels: dict | None = None, **spec) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}


def wait_running(lab, v1, name, namespace="default"):
    return lab.wait_for(lambda: v1.read_namespaced_pod(name, namespace).status.pod_ip,
                        what=f"pod {name} running")


def test_watch_sees_added_modified_deleted(lab):
    v1 = lab.client()
    events: list[tuple[str, str, str | None]] = []
    started = threading.Event()

    def consume():
        w = watch.Watch()
        for event in w.stream(v1.list_pod_for_all_namespaces, timeout_seconds=8):
            started.set()
            obj = event["object"]
            events.append((event["type"], obj.metadata.name, obj.status.phase))
            if event["type"] == "DELETED" and obj.metadata.name == "watched":
                w.stop()
    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.5)
    v1.create_namespaced_pod("default", pod_body("watched"))
    wait_running(lab, v1, "watched")
    v1.patch_namespaced_pod("watched", "default", {"metadata": {"labels": {"seen": "yes"}}})
    v1.delete_namespaced_pod("watched", "default")
    thread.join(15)
    assert not thread.is_alive()
    kinds = [kind for kind, name, _ in events if name == "watched"]
    assert kinds[0] == "ADDED" and kinds[-1] == "DELETED"
    assert "MODIFIED" in kinds
    assert ("MODIFIED", "watched", "Running") in events


def test_watch_replays_existing_objects_without_resource_version(lab):
    v1 = lab.client()
    v1.create_namespaced_pod("default", pod_body("early"))
    names = [e["object"].metadata.name
             for e in watch.Watch().stream(v1.list_namespaced_pod, "default", timeout_seconds=1)]
    assert "early" in names


def test_watch_resumes_from_resource_version(lab):
    v1 = lab.client()
    v1.create_namespaced_pod("default", pod_body("first"))
    rv = v1.list_namespaced_pod("default").metadata.resource_version
    v1.create_namespaced_pod("default", pod_body("second"))
    seen = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        v1.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=1)]
    assert ("ADDED", "second") in seen
    assert ("ADDED", "first") not in seen


def test_exec_stream(lab):
    v1 = lab.client()
    v1.create_namespaced_pod("default", pod_body("shell"))
    wait_running(lab, v1, "shell")
    out = stream(v1.connect_get_namespaced_pod_exec, "shell", "default",
                 command=["sh", "-c", "echo hi; echo oops >&2"], stderr=True, stdin=False,
                 stdout=True, tty=False)
    assert "hi\n" in out and "oops\n" in out
    resp = stream(v1.connect_get_namespaced_pod_exec, "shell", "default",
                  command=["sh", "-c", "read line; echo got $line; exit 4"], stderr=True,
                  stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin("hello\n")
    resp.run_forever(timeout=5)
    assert resp.read_stdout() == "got hello\n"
    assert resp.returncode == 4


def test_update_with_stale_resource_version_conflicts(lab):
    v1 = lab.client()
    pod = v1.create_namespaced_pod("default", pod_body("racy"))
    v1.patch_namespaced_pod("racy", "default", {"metadata": {"labels": {"a": "1"}}})
    pod.metadata.labels = {"b": "2"}
    with pytest.raises(ApiException) as err:
        v1.replace_namespaced_pod("racy", "default", pod)
    assert err.value.status == 409
    assert '"reason":"Conflict"' in err.value.body.replace(" ", "")


def test_invalid_pod_gives_field_causes_and_stores_nothing(lab):
    v1 = lab.client()
    body = {"metadata": {"name": "UPPER"}, "spec": {"containers": [{"name": "c"}]}}
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_pod("default", body)
    assert err.value.status == 422
    import json
    status = json.loads(err.value.body)
    fields = {c["field"] for c in status["details"]["causes"]}
    assert fields == {"metadata.name", "spec.containers[0].image"}
    assert status["details"]["kind"] == "Pod" and status["reason"] == "Invalid"
    assert [p.metadata.name for p in v1.list_namespaced_pod("default").items] == []


def test_generate_name_uid_timestamp(lab):
    v1 = lab.client()
    pod = v1.create_namespaced_pod("default", {"metadata": {"generateName": "gen-"},
                                               "spec": {"containers": [{"name": "c",
                                                                        "image": "x"}]}})
    assert pod.metadata.name.startswith("gen-") and len(pod.metadata.name) == 9
    assert pod.metadata.uid and pod.metadata.creation_timestamp is not None
    assert int(pod.metadata.resource_version) > 0


def test_selectors(lab):
    v1 = lab.client()
    v1.create_namespaced_pod("default", pod_body("a1", {"app": "a", "tier": "web"}))
    v1.create_namespaced_pod("default", pod_body("b1", {"app": "b"}))
    v1.create_namespaced_pod("default", pod_body("pinned", {"app": "c"},
                                                 nodeName="lab-worker2"))
    names = lambda **kw: sorted(p.metadata.name for p in  # noqa: E731
                                v1.list_namespaced_pod("default", **kw).items)
    assert names(label_selector="app=a") == ["a1"]
    assert names(label_selector="app in (a,b),!tier") == ["b1"]
    assert names(label_selector="app notin (a)") == ["b1", "pinned"]
    assert names(field_selector="metadata.name=b1") == ["b1"]
    assert names(field_selector="metadata.namespace=default,metadata.name!=b1") == ["a1", "pinned"]
    assert names(field_selector="spec.nodeName=lab-worker2", label_selector="app=c") == ["pinned"]
    lab.wait_for(lambda: len(names(field_selector="status.phase=Running")) == 3, what="running")
    assert names(field_selector="status.phase!=Running") == []


def test_node_selector_and_pinned_node_name(lab):
    v1 = lab.client()
    v1.create_namespaced_pod("default", pod_body(
        "sel", nodeSelector={"kubernetes.io/hostname": "lab-worker2"}))
    v1.create_namespaced_pod("default", pod_body("cp", nodeName="lab-control-plane"))
    v1.create_namespaced_pod("default", pod_body("nowhere", nodeSelector={"disk": "ssd"}))
    assert wait_running(lab, v1, "sel").startswith("10.244.2.")
    assert wait_running(lab, v1, "cp").startswith("10.244.0.")
    nowhere = lab.wait_for(lambda: v1.read_namespaced_pod("nowhere", "default").status.conditions,
                           what="unschedulable condition")
    assert nowhere[0].reason == "Unschedulable"
    assert v1.read_namespaced_pod("nowhere", "default").spec.node_name is None


def test_deployment_owner_references_and_garbage_collection(lab):
    apps = client.AppsV1Api(lab.api_client())
    v1 = lab.client()
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "w", "image": "nginx"}]}}}})
    pods = lab.wait_for(lambda: [p for p in v1.list_namespaced_pod(
        "default", label_selector="app=web").items if p.status.phase == "Running"]
        if len(v1.list_namespaced_pod("default", label_selector="app=web").items) == 2 else None,
        what="2 pods")
    rs = apps.list_namespaced_replica_set("default").items[0]
    assert rs.metadata.owner_references[0].kind == "Deployment"
    hash_label = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{hash_label}"
    for pod in pods:
        assert pod.metadata.labels["pod-template-hash"] == hash_label
        assert pod.metadata.owner_references[0].uid == rs.metadata.uid
    apps.delete_namespaced_deployment("web", "default")
    lab.wait_for(lambda: not v1.list_namespaced_pod("default").items
                 and not apps.list_namespaced_replica_set("default").items, what="GC")


def test_scale_subresource_and_json_patch(lab):
    apps = client.AppsV1Api(lab.api_client())
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "s"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "s"}},
                 "template": {"metadata": {"labels": {"app": "s"}},
                              "spec": {"containers": [{"name": "w", "image": "nginx"}]}}}})
    scale = apps.patch_namespaced_deployment_scale("s", "default", {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4
    assert apps.read_namespaced_deployment("s", "default").metadata.generation == 2
    v1 = lab.client()
    v1.create_namespaced_pod("default", pod_body("jp", {"x": "1"}))
    code, _, _ = lab.request("PATCH", "/api/v1/namespaces/default/pods/jp",
                             [{"op": "replace", "path": "/metadata/labels/x", "value": "2"}],
                             "application/json-patch+json")
    assert code == 200
    assert v1.read_namespaced_pod("jp", "default").metadata.labels == {"x": "2"}
    code, _, status = lab.request("PATCH", "/api/v1/namespaces/default/pods/jp",
                                  [{"op": "test", "path": "/metadata/labels/x", "value": "9"}],
                                  "application/json-patch+json")
    assert (code, status["reason"]) == (400, "BadRequest")


def test_python_client_version_with_trailing_slash(lab):
    info = client.VersionApi(lab.api_client()).get_code()
    assert (info.major, info.minor) == ("1", "32")
