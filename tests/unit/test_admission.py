"""The policy barrier: addresses not yet published reach the enforcer, and admit waits for a sync."""
import asyncio

from labkit.embedded.admission import PolicyBarrier, overlay
from labkit.embedded.controller import DebouncedSync
from labkit.netpol.nft import PolicyObjects


def pod(name, ip=None, uid="u1"):
    return {"metadata": {"namespace": "default", "name": name, "uid": uid},
            "status": {"podIP": ip} if ip else {}}


def test_overlay_fills_only_missing_addresses_of_the_same_pod():
    pods = [pod("a"), pod("b", "10.244.1.3"), pod("c", uid="other")]
    pending = {("default", "a", "u1"): "10.244.1.9", ("default", "b", "u1"): "10.244.1.8",
               ("default", "c", "u9"): "10.244.1.7"}
    out = overlay(pods, pending)
    assert [p["status"].get("podIP") for p in out] == ["10.244.1.9", "10.244.1.3", None]
    assert pods[0]["status"] == {}                     # the store's objects are not touched


POLICY = {"metadata": {"namespace": "default", "name": "deny"}, "spec": {"podSelector": {}}}


class Recorder(DebouncedSync):
    def __init__(self, read):
        super().__init__()
        self.read, self.seen = read, []

    async def sync(self):
        self.seen.append([p["status"].get("podIP") for p in self.read().pods])


def test_admit_returns_after_a_sync_that_saw_the_address_then_forgets_it():
    async def scenario():
        store = [pod("a")]
        barrier = PolicyBarrier(timeout=5)
        enforcer = Recorder(barrier.reader(lambda: PolicyObjects([], store, [POLICY])))
        barrier.enforcer = enforcer
        enforcer.start()
        await barrier.admit(store[0], "10.244.1.9")
        assert enforcer.seen[-1] == ["10.244.1.9"]
        store[0] = pod("a", "10.244.1.9")              # the kubelet published it
        enforcer.read()
        assert barrier.pending == {}
        await enforcer.stop()
    asyncio.run(scenario())


def test_admit_gives_up_after_the_timeout_when_the_enforcer_fails():
    class Broken(DebouncedSync):
        async def sync(self):
            raise RuntimeError("nft failed")

    async def scenario():
        barrier = PolicyBarrier(timeout=0.2)
        barrier.enforcer = Broken()
        barrier.enforcer.start()
        await barrier.admit(pod("a"), "10.244.1.9")    # returns (with a warning), never hangs
        await barrier.enforcer.stop()
    asyncio.run(scenario())


def test_without_policies_admit_does_not_wait_and_the_reader_leaves_pods_alone():
    async def scenario():
        store = [pod("a")]
        barrier = PolicyBarrier(timeout=5)
        enforcer = Recorder(barrier.reader(lambda: PolicyObjects([], store, [])))
        barrier.enforcer = enforcer          # never started: a wait would time out
        barrier.unfiltered = lambda: True
        began = enforcer.sync_count
        await barrier.admit(store[0], "10.244.1.9")
        assert enforcer.sync_count == began and barrier.pending == {}
        barrier.unfiltered = lambda: False
        barrier.pending[("default", "a", "u1")] = "10.244.1.9"
        assert enforcer.read().pods[0]["status"] == {}       # no policy: pods as stored
    asyncio.run(scenario())


def test_the_enforcer_filters_nothing_only_while_every_table_is_the_empty_one():
    from labkit.embedded.policy import PolicyEnforcer
    from labkit.embedded.topology import LabSpec
    from labkit.netpol.nft import NodeRules, render

    enforcer = PolicyEnforcer(LabSpec(name="adm1"), lambda: PolicyObjects([], [], []))
    assert enforcer.filters_nothing()                    # nothing loaded yet
    enforcer._applied["n1"] = render(NodeRules())
    assert enforcer.filters_nothing()
    enforcer._applied["n2"] = "table inet labkit-netpol { chain x { drop } }"
    assert not enforcer.filters_nothing()
