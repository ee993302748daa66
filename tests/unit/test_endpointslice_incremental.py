"""The EndpointSlice controller's passes on the changes agree with a full pass: random pod
changes are replayed (created, given an IP, ready or not, relabelled, terminating, deleted),
each batch handled by ``reconcile_changes``, then a full ``reconcile`` must find nothing to
write (every Endpoints and EndpointSlice is what it would have written)."""
from __future__ import annotations

import random

import pytest

from labkit.apiserver import objects
from labkit.apiserver.api import NAMESPACES, PODS, SERVICES, Api
from labkit.apiserver.controllers import ENDPOINTS, SLICES, EndpointsController
from labkit.apiserver.podindex import PodIndex
from labkit.apiserver.store import Store


def _service(name: str, namespace: str, selector: dict, target: object = 80) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "uid": f"svc-{namespace}-{name}"},
            "spec": {"selector": selector, "clusterIP": "None",
                     "ports": [{"name": "http", "port": 80, "targetPort": target,
                                "protocol": "TCP"}]}}


def _pod(name: str, namespace: str, labels: dict, ip: str | None, ready: bool,
         terminating: bool = False) -> dict:
    meta = {"name": name, "namespace": namespace, "uid": f"pod-{namespace}-{name}-{ip}",
            "labels": labels}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: dict = {"phase": "Pending"}
    if ip:
        status = {"phase": "Running", "podIP": ip,
                  "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": meta, "spec": {"nodeName": "n1", "containers": [
        {"name": "c", "ports": [{"name": "web", "containerPort": 8080}]}]}, "status": status}


def _world(max_per_slice: int):
    store = Store()
    api = Api(store, objects.ServiceAddresses())
    for ns in ("default", "other"):
        store.put(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": ns, "uid": f"ns-{ns}"}, "spec": {},
                               "status": {"phase": "Active"}})
    index = PodIndex([])
    store.listeners.append(index.on_change)
    return store, api, index


def _contents(store: Store) -> list:
    out = []
    for res in (ENDPOINTS, SLICES):
        for obj in sorted(store.list(res), key=lambda o: (o["metadata"]["namespace"],
                                                           o["metadata"]["name"])):
            out.append({k: v for k, v in obj.items() if k != "metadata"})
    return out


@pytest.mark.parametrize("seed", range(6))
def test_passes_on_the_changes_agree_with_a_full_pass(seed, monkeypatch):
    monkeypatch.setattr("labkit.apiserver.controllers.MAX_ENDPOINTS_PER_SLICE", 4)
    rng = random.Random(seed)
    store, api, index = _world(4)
    store.put(SERVICES, _service("web", "default", {"app": "web"}))
    store.put(SERVICES, _service("named", "default", {"tier": "front"}, target="web"))
    store.put(SERVICES, _service("web", "other", {"app": "web"}))
    controller = EndpointsController(api)
    controller.reconcile()
    index.take()
    names = [f"p{i}" for i in range(24)]
    for step in range(40):
        for _ in range(rng.randint(1, 6)):
            name, ns = rng.choice(names), rng.choice(("default", "default", "other"))
            current = store.get(PODS, ns, name)
            if current is not None and rng.random() < 0.2:
                store.delete(PODS, current)
                continue
            labels = rng.choice(({"app": "web"}, {"app": "web", "tier": "front"},
                                 {"tier": "front"}, {"app": "db"}))
            ip = rng.choice((None, f"10.0.{step % 4}.{names.index(name) + 2}"))
            store.put(PODS, _pod(name, ns, labels, ip, rng.random() < 0.7,
                                 terminating=rng.random() < 0.1))
        if step == 20:          # a Service changes: that pass is a full one
            store.put(SERVICES, _service("web", "other", {"app": "db"}))
        controller.reconcile_changes(index.take(), index)
        written, rv = _contents(store), store.rv
        controller.reconcile()
        assert store.rv == rv, f"a full pass rewrote something after step {step}"
        assert _contents(store) == written
        index.take()
    # and what was written is what a fresh controller on the same pods writes
    fresh = EndpointsController(api)
    fresh.reconcile()
    assert store.rv == rv
    slices = [s for s in store.list(SLICES) if s["metadata"]["namespace"] == "default"
              and s["metadata"]["labels"]["kubernetes.io/service-name"] == "web"]
    held = sorted(e["targetRef"]["name"] for s in slices for e in s.get("endpoints") or [])
    wanted = sorted(p["metadata"]["name"] for p in store.list(PODS, "default")
                    if p["status"].get("podIP") and p["metadata"]["labels"].get("app") == "web")
    assert held == wanted and all(len(s.get("endpoints") or []) <= 4 for s in slices)


def test_a_changed_pod_touches_only_the_services_that_hold_or_select_it():
    store, api, index = _world(100)
    store.put(SERVICES, _service("a", "default", {"app": "a"}))
    store.put(SERVICES, _service("b", "default", {"app": "b"}))
    controller = EndpointsController(api)
    controller.reconcile()
    store.put(PODS, _pod("x", "default", {"app": "a"}, "10.0.0.2", True))
    index.take()
    controller.reconcile()
    index.take()
    b_slice = next(s for s in store.list(SLICES)
                   if s["metadata"]["labels"]["kubernetes.io/service-name"] == "b")
    store.put(PODS, _pod("x", "default", {"app": "b"}, "10.0.0.2", True))   # a -> b
    controller.reconcile_changes(index.take(), index)
    by = {s["metadata"]["labels"]["kubernetes.io/service-name"]: s for s in store.list(SLICES)}
    assert [e["targetRef"]["name"] for e in by["b"]["endpoints"]] == ["x"]
    assert not by["a"].get("endpoints")
    assert by["b"] is not b_slice
    store.put(PODS, _pod("y", "default", {"app": "c"}, "10.0.0.3", True))   # nobody's
    rv = store.rv
    controller.reconcile_changes(index.take(), index)
    assert store.rv == rv
