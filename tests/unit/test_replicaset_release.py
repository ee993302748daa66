"""A ReplicaSet releases a pod relabelled out of its selector and creates a replacement (upstream's
ClaimPods/ReleasePod): the bench's "third pod never runs" was a Deployment left one pod short."""
from labkit.apiserver import objects
from labkit.apiserver.api import NAMESPACES, PODS, Api
from labkit.apiserver.store import Store
from labkit.apiserver.workloads import REPLICASETS, ReplicaSetController, controller_of


def _rs() -> dict:
    labels = {"app": "lat", "pod-template-hash": "abc"}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "lat-abc", "namespace": "default"},
            "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "jpetazzo/color"}]}}}}


def test_a_pod_relabelled_out_of_the_selector_is_released_and_replaced():
    api = Api(Store(), objects.ServiceAddresses())
    api.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    rs = api.create(REPLICASETS, "default", _rs())
    controller = ReplicaSetController(api)
    controller.reconcile()
    pods = api.list(PODS, "default")
    assert len(pods) == 3 and all(controller_of(p) == rs["metadata"]["uid"] for p in pods)
    victim = pods[0]
    gone = dict(victim, metadata=dict(victim["metadata"], labels={"app": "gone0", "pod-template-hash": "abc"}))
    api.store.put(PODS, gone)
    controller.reconcile()
    mine = api.list(PODS, "default", "app=lat")
    assert len(mine) == 3 and victim["metadata"]["name"] not in {p["metadata"]["name"] for p in mine}
    released = api.store.get(PODS, "default", victim["metadata"]["name"])
    assert released is not None and controller_of(released) is None      # kept, no longer the RS's
    assert api.store.get(REPLICASETS, "default", "lat-abc")["status"]["replicas"] == 3
