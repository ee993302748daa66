import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.topology import LabSpec

from .helpers import host_state


@pytest.fixture(scope="module", params=["kindnet", "bridge", "flannel"])
def flavor_lab(request):
    """A 3-node lab of each CNI flavor with pods on two workers; the host is checked after down."""
    name = f"t{request.param[:5]}"
    lifecycle.down(name)
    before = host_state(name)
    lifecycle.up(LabSpec(name=name, cni=request.param))
    lab = EmbeddedLab(name)
    lab.add_pods([
        {"name": "a", "node": "worker", "ports": [80, [81, "UDP"]]},
        {"name": "b", "node": "worker", "ports": [80]},
        {"name": "c", "node": "worker2", "ports": [80]},
    ])
    yield lab
    lifecycle.down(name)
    assert host_state(name) == before
