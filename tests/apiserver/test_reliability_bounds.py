"""Bounds: a per-lab pod cap with a clear Status, ReplicaSets growing in slow-start batches and
stopping at the cap, Events expiring after an hour and capped in number."""
from __future__ import annotations

import pytest

from labkit.apiserver import limits
from labkit.apiserver.api import NAMESPACES
from labkit.apiserver.limits import EventCollector, slow_start, slow_start_batches
from labkit.apiserver.status import ApiError

PODS = "/api/v1/namespaces/default/pods"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def test_slow_start_batches_as_upstream():
    assert list(slow_start_batches(10)) == [1, 2, 4, 3]
    assert sum(slow_start_batches(10 ** 9)) == limits.BURST_REPLICAS
    calls = []

    def create():
        calls.append(1)
        if len(calls) == 5:
            raise ApiError(403, "Forbidden", "reliability.pod_cap", name="x", limit=4)
    done, error = slow_start(100, create)
    assert done == 4 and error.code == 403 and len(calls) == 5   # stopped at the failure


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(limits, "MAX_PODS", 6)


def deployment(name, replicas):
    labels = {"app": name}
    return {"metadata": {"name": name}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def test_a_huge_deployment_stops_at_the_pod_cap_with_a_clear_status(small_cap, lab):
    code, _, _ = lab.request("POST", DEPLOYMENTS, deployment("big", 1_000_000_000))
    assert code == 201

    def failed_create():
        items = lab.request("GET", "/api/v1/namespaces/default/events")[2]["items"]
        return [e for e in items if e["reason"] == "FailedCreate"]
    events = lab.wait_for(failed_create, what="a FailedCreate event")
    assert "at most 6 pods" in events[0]["message"]
    assert len(lab.request("GET", PODS)[2]["items"]) == 6
    code, _, status = lab.request("POST", PODS, {"metadata": {"name": "one-more"}, "spec": {
        "containers": [{"name": "c", "image": "nginx"}]}})
    assert code == 403 and status["reason"] == "Forbidden" and "at most 6 pods" in status["message"]
    # the API still answers at once, and the cluster is usable: scale down and it shrinks
    code, _, _ = lab.request("PATCH", DEPLOYMENTS + "/big/scale", {"spec": {"replicas": 2}},
                             "application/merge-patch+json")
    assert code == 200
    lab.wait_for(lambda: len([p for p in lab.request("GET", PODS)[2]["items"]
                              if not p["metadata"].get("deletionTimestamp")]) == 2,
                 what="two pods left")


def test_events_expire_after_the_ttl_and_are_capped(lab):
    api = lab.server.api
    now = [10_000_000.0]

    async def run():
        namespace = api.get(NAMESPACES, "", "default")
        for i in range(30):
            api.event(namespace, "Test", f"event {i}", "test")
        collector = EventCollector(api, ttl=3600, cap=20, clock=lambda: now[0])
        collector.reconcile()
        kept = [e for e in api.store.list(collector.res) if e["reason"] == "Test"]
        now[0] = 10 ** 11          # far in the future: every event is older than the TTL
        collector._next = 0
        collector.reconcile()
        left = [e for e in api.store.list(collector.res) if e["reason"] == "Test"]
        return len(kept), len(left), len(api.store.list(collector.res))
    kept, left, total = lab.server.call(run())
    assert kept <= 20 and left == 0 and total == 0
