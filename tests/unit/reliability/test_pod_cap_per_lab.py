"""The pod cap is the lab's own: an Api built with ``max_pods`` refuses the pod beyond it with
403 Forbidden, whatever the default is."""
from __future__ import annotations

import pytest

from labkit.apiserver import limits, objects
from labkit.apiserver.api import NAMESPACES, PODS, Api
from labkit.apiserver.status import ApiError
from labkit.apiserver.store import Store


def pod(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@pytest.mark.parametrize("cap", [3, limits.MAX_PODS + 2])
def test_the_lab_cap_applies_not_the_default(tmp_path, monkeypatch, cap):
    monkeypatch.setattr(limits, "MAX_PODS", 2)
    api = Api(Store(tmp_path), objects.ServiceAddresses("10.96.0.0/16"), max_pods=cap)
    api.create(NAMESPACES, None, {"metadata": {"name": "default"}})
    for i in range(cap):
        api.create(PODS, "default", pod(f"p{i}"))
    with pytest.raises(ApiError) as info:
        api.create(PODS, "default", pod("one-more"))
    assert info.value.code == 403 and f"at most {cap} pods" in info.value.message("en")


def test_the_lab_spec_and_the_api_agree_on_the_bounds():
    from labkit.embedded import topology
    assert (topology.MAX_PODS, topology.MAX_PODS_LIMIT) == (limits.MAX_PODS, limits.MAX_PODS_LIMIT)
