"""The ReplicaSet controller's pass on the changes counts only the pods that changed (its tally),
and its status is the one a full count gives, through creations, readiness, relabelling, deletion."""
import copy

from labkit.apiserver import objects
from labkit.apiserver.api import NAMESPACES, PODS, Api
from labkit.apiserver.podindex import PodIndex
from labkit.apiserver.store import Store
from labkit.apiserver.workloads import REPLICASETS, ReplicaSetController


def _rs(replicas: int) -> dict:
    labels = {"app": "t", "pod-template-hash": "abc"}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "t-abc", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "jpetazzo/color"}]}}}}


def _ready(pod: dict) -> dict:
    new = copy.deepcopy(pod)
    new["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    return new


class Counting(ReplicaSetController):
    claims = 0

    def _claim(self, rs, pod):
        self.claims += 1
        return super()._claim(rs, pod)


def _setup(replicas: int):
    api = Api(Store(), objects.ServiceAddresses())
    api.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    index = PodIndex([])
    api.store.listeners.append(index.on_change)
    api.create(REPLICASETS, "default", _rs(replicas))
    return api, index, Counting(api)


def _status(api) -> dict:
    return api.store.get(REPLICASETS, "default", "t-abc")["status"]


def _full_status(api) -> dict:
    """What a full pass of a fresh controller writes (it writes nothing when it agrees)."""
    ReplicaSetController(api).reconcile()
    return _status(api)


def test_the_tally_agrees_with_a_full_count_through_a_pods_life():
    api, index, rsc = _setup(40)
    for _ in range(10):                 # slow start: 1, 2, 4, ... until 40 pods
        rsc.reconcile_changes(index.take(), index)
    pods = api.list(PODS, "default")
    assert len(pods) == 40 and _status(api)["replicas"] == 40
    for pod in pods[:25]:
        api.store.put(PODS, _ready(pod))
    rsc.reconcile_changes(index.take(), index)
    assert _status(api)["readyReplicas"] == 25
    assert _full_status(api) == _status(api)
    relabelled = copy.deepcopy(api.store.get(PODS, "default", pods[0]["metadata"]["name"]))
    relabelled["metadata"]["labels"] = {"app": "elsewhere"}
    api.store.put(PODS, relabelled)      # released, and replaced
    api.delete(PODS, "default", pods[1]["metadata"]["name"])      # terminating: not counted
    rsc.reconcile_changes(index.take(), index)
    rsc.reconcile_changes(index.take(), index)
    status = _status(api)
    assert status["replicas"] == 40 and status["readyReplicas"] == 23
    assert _full_status(api) == status


def test_a_pass_on_changes_reads_only_the_pods_that_changed():
    api, index, rsc = _setup(200)
    for _ in range(10):
        rsc.reconcile_changes(index.take(), index)
    pods = api.list(PODS, "default")
    assert len(pods) == 200
    rsc.reconcile_changes(index.take(), index)
    rsc.claims = 0
    for pod in pods[:3]:
        api.store.put(PODS, _ready(pod))
    rsc.reconcile_changes(index.take(), index)
    assert rsc.claims == 3
    assert _status(api)["readyReplicas"] == 3
    api.store.put(REPLICASETS, dict(copy.deepcopy(api.store.get(REPLICASETS, "default", "t-abc")),
                                   spec=dict(_rs(190)["spec"])))          # scale down by 10
    rsc.reconcile_changes(index.take(), index)
    rsc.reconcile_changes(index.take(), index)
    status = _status(api)
    assert status["replicas"] == 190 and status["readyReplicas"] == 3     # unready ones went first
    assert _full_status(api) == status
