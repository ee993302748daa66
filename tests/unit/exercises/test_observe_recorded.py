"""observe + judge together on the recorded nodes of tests/fixtures/cni (the 05 exercises' mysteries)."""
from labkit.exercises import judges, observe


def test_each_mystery_is_recognised_and_judged():
    calico = observe.mystery(None, "05.1")
    assert (calico["cni"], calico["mode"]) == ("calico", "vxlan")
    assert judges.stack(calico, "calico vxlan", "en").ok
    flannel = observe.mystery(None, "05.2")
    assert (flannel["cni"], flannel["mode"]) == ("flannel", "host-gw")
    assert not judges.stack(flannel, "bridge", "en").ok
