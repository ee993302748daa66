"""Fixtures of the kube-proxy tests."""
import pytest

from kubeproxy_helpers import FIXTURES
from labkit.kubeproxy import NodeContext, load_manifests


@pytest.fixture
def overall_input():
    return load_manifests([FIXTURES / "overall.yaml"], node_name="test-node")


@pytest.fixture
def upstream_ctx():
    return NodeContext.upstream_test()
