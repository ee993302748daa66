"""EndpointSlices of a big Service: at most 100 endpoints each, as the upstream controller
writes them (kube-controller-manager --max-endpoints-per-slice), every pod in exactly one slice;
scaling down leaves endpoints where they were, and a Service without pods keeps one empty slice."""
from __future__ import annotations

import json

import pytest

from labkit.apiserver.controllers import pack_endpoints

from .conftest import Lab, need_kubectl


def test_packing_keeps_endpoints_in_place_and_fills_before_adding():
    assert pack_endpoints([], [f"e{i:03}" for i in range(250)], 100) == [
        [f"e{i:03}" for i in range(0, 100)], [f"e{i:03}" for i in range(100, 200)],
        [f"e{i:03}" for i in range(200, 250)]]
    # e1 gone, e9 new: e9 takes the room e1 left, the others stay where they were
    assert pack_endpoints([["e0", "e1"], ["e2", "e3"]], ["e0", "e2", "e3", "e9"], 2) == [
        ["e0", "e9"], ["e2", "e3"]]
    # a slice emptied goes (None), one always stays, an old slice over the cap is split
    assert pack_endpoints([["a"], ["b"]], ["b"], 2) == [None, ["b"]]
    assert pack_endpoints([["a"], ["b"]], [], 2) == [[], None]
    assert pack_endpoints([["a", "b", "c"]], ["a", "b", "c"], 2) == [["a", "b"], ["c"]]


def _slices(lab: Lab) -> list[list[str]]:
    out = lab.kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=big",
                      "-o", "json", check=True).stdout
    return [[e["targetRef"]["name"] for e in s.get("endpoints") or []]
            for s in json.loads(out)["items"]]


@pytest.fixture
def big(tmp_path):
    need_kubectl()
    lab = Lab(tmp_path, max_pods=300).start()
    yield lab
    lab.stop()


def test_a_250_endpoint_service_has_three_slices(big):
    big.kubectl("create", "deployment", "big", "--image=nginx", "--replicas=250", check=True)
    big.kubectl("expose", "deployment", "big", "--port=80", check=True)
    slices = big.wait_for(lambda: (s := _slices(big)) and sum(map(len, s)) == 250 and s,
                          timeout=60, what="250 endpoints")
    assert sorted(map(len, slices)) == [50, 100, 100]
    pods = json.loads(big.kubectl("get", "pods", "-l", "app=big", "-o", "json",
                                  check=True).stdout)["items"]
    assert sorted(n for s in slices for n in s) == sorted(p["metadata"]["name"] for p in pods)
    before = {n: i for i, s in enumerate(slices) for n in s}
    big.kubectl("scale", "deployment", "big", "--replicas=120", check=True)
    slices = big.wait_for(lambda: (s := _slices(big)) and sum(map(len, s)) == 120 and s,
                          timeout=60, what="120 endpoints")
    assert max(map(len, slices)) <= 100
    # every endpoint that stayed is still in the slice it was in (slices are never reshuffled,
    # as upstream's reconciler: the scaled-down slices stay partly full)
    by_slice = [{before[n] for n in s} for s in slices]
    assert all(len(owners) == 1 for owners in by_slice), by_slice
    big.kubectl("scale", "deployment", "big", "--replicas=0", check=True)
    assert big.wait_for(lambda: _slices(big) == [[]], timeout=60, what="one empty slice")
