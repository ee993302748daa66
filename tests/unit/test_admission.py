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
        enforcer = Recorder(barrier.reader(lambda: PolicyObjects([], store, [])))
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
