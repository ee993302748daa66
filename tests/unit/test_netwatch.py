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


def test_one_ip_batch_reads_back_as_addr_show_and_route_show():
    from labkit.inspect.batch import addr_and_routes
    from labkit.inspect.iproute import parse_routes

    text = ('[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"addr_info":[]}]\n'
            '[{"type":"unicast","dst":"default","gateway":"10.244.1.1","dev":"eth0","protocol":"boot",'
            '"scope":"global","flags":[]},{"type":"unicast","dst":"10.244.1.0/24","dev":"eth0",'
            '"protocol":"kernel","scope":"link","prefsrc":"10.244.1.2","flags":[]}]\n')
    addr, routes = addr_and_routes(text)
    assert [a["ifname"] for a in addr] == ["lo"]
    plain = ('[{"dst":"default","gateway":"10.244.1.1","dev":"eth0","flags":[]},{"dst":"10.244.1.0/24","dev":"eth0",'
             '"protocol":"kernel","scope":"link","prefsrc":"10.244.1.2","flags":[]}]')
    assert parse_routes(routes) == parse_routes(plain)
    import pytest

    with pytest.raises(ValueError):
        addr_and_routes("[]")
