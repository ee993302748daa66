"""One malformed object never stops a controller: it is skipped with a Warning Event, the rest
of the cluster is reconciled. The malformed objects are written into the store directly, as an
old state file would hold them (the API itself refuses them).
"""
from __future__ import annotations

import copy

from labkit.apiserver import objects as api_objects
from labkit.apiserver.resources import BY_KEY

PODS = BY_KEY["core/pods"]
DEPLOYMENTS = BY_KEY["apps/deployments"]
EVENTS = "/api/v1/namespaces/default/events"


def store_directly(lab, res, obj):
    """Put ``obj`` in the store past validation (on the server's loop, as the server does)."""
    obj = copy.deepcopy(obj)
    obj["metadata"].setdefault("namespace", "default")
    obj["metadata"]["uid"] = api_objects.new_uid()
    obj["metadata"]["creationTimestamp"] = api_objects.now()
    obj.setdefault("status", {})
    obj["kind"], obj["apiVersion"] = res.kind, res.api_version

    async def put():
        return lab.server.store.put(res, obj)
    return lab.server.call(put())


def pod(name, **spec):
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


def deployment(name, **strategy):
    labels = {"app": name}
    return {"metadata": {"name": name}, "spec": {
        "replicas": 2, "selector": {"matchLabels": labels}, "strategy": strategy,
        "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def warnings_about(lab, name):
    _, _, body = lab.request("GET", EVENTS)
    return [e for e in body["items"] if e["involvedObject"]["name"] == name and e["type"] == "Warning"]


def test_malformed_pods_do_not_stop_the_scheduler(lab):
    store_directly(lab, PODS, pod("bad-selector", nodeSelector=["a"]))
    store_directly(lab, PODS, pod("bad-tolerations", tolerations="x"))
    code, _, _ = lab.request("POST", "/api/v1/namespaces/default/pods", pod("good"))
    assert code == 201
    running = lab.wait_for(lambda: lab.request("GET", "/api/v1/namespaces/default/pods/good")[2]
                           ["status"].get("phase") == "Running", what="the valid pod running")
    assert running
    events = lab.wait_for(lambda: warnings_about(lab, "bad-selector"), what="a warning event")
    assert events[0]["reason"] == "FailedScheduling"
    assert events[0]["source"]["component"] == "default-scheduler"
    # reported once per object version, not on every pass
    lab.request("POST", "/api/v1/namespaces/default/pods", pod("good2"))
    lab.wait_for(lambda: lab.request("GET", "/api/v1/namespaces/default/pods/good2")[2]
                 ["status"].get("phase") == "Running", what="a second valid pod running")
    assert len(warnings_about(lab, "bad-selector")) == 1


def test_a_malformed_deployment_does_not_stop_the_others(lab):
    store_directly(lab, DEPLOYMENTS, deployment("broken", type="RollingUpdate",
                                                rollingUpdate={"maxSurge": "http"}))
    code, _, _ = lab.request("POST", "/apis/apps/v1/namespaces/default/deployments",
                             deployment("web"))
    assert code == 201
    lab.wait_for(lambda: lab.request("GET", "/apis/apps/v1/namespaces/default/deployments/web")[2]
                 .get("status", {}).get("availableReplicas") == 2, what="web available")
    events = lab.wait_for(lambda: warnings_about(lab, "broken"), what="a warning event")
    assert events[0]["source"]["component"] == "deployment-controller"
