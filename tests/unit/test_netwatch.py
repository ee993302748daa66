"""The daemon's node-event bookkeeping (no namespace needed): generations, waiting, a client far behind."""
import asyncio

from labkit.embedded import netwatch
from labkit.embedded.netwatch import NodeWatcher


def test_wait_returns_the_events_after_a_generation_and_times_out_empty():
    async def scenario():
        w = NodeWatcher([])
        await w.start()
        assert await w.wait(0, 0.05) == []
        waiter = asyncio.create_task(w.wait(0, 5))
        await asyncio.sleep(0.01)
        await w._record("kubenet-worker", "Deleted 10.244.2.0/24 via 172.18.0.4 dev eth0")
        events = await waiter
        assert [(e["generation"], e["node"]) for e in events] == [(1, "kubenet-worker")]
        await w._record("kubenet-worker2", "x")
        assert [e["generation"] for e in await w.wait(1, 1)] == [2]
        await w.stop()
    asyncio.run(scenario())


def test_a_client_that_fell_behind_is_told_to_redraw(monkeypatch):
    monkeypatch.setattr(netwatch, "KEEP", 2)

    async def scenario():
        w = NodeWatcher([])
        await w.start()
        for i in range(5):
            await w._record("n", str(i))
        events = await w.wait(0, 1)
        assert events[0]["event"] == "missed" and events[0]["generation"] == 5
        await w.stop()
    asyncio.run(scenario())
