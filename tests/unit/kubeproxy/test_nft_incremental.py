"""Partial syncs computed from the Services that changed (``nft_incremental``, ``ipt_incremental``;
the lab's kube-proxy fed by the store's events or by a scan): replaying what the lab wrote gives
the node exactly the rules a full render of the same objects gives, and a sync touches only the
changed Services' objects."""
from __future__ import annotations

import asyncio
import copy

import pytest

from labkit.embedded import proxy as proxy_mod
from labkit.embedded.proxy import KubeProxy, node_context
from labkit.embedded.topology import LabSpec
from labkit.inspect.nft_text import parse_nft_text
from labkit.kubeproxy.iptables import render_iptables
from labkit.kubeproxy.manifests import from_objects
from labkit.kubeproxy.nftables import render_nftables

from kubeproxy_helpers import restore_replay


def service(name: str, ip: str, rv: int, **spec) -> dict:
    return {"kind": "Service", "metadata": {"name": name, "namespace": "d", "resourceVersion": str(rv)},
            "spec": {"clusterIP": ip, "type": "ClusterIP",
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}], **spec}}


def slice_(svc: str, suffix: str, ips: list[str], rv: int) -> dict:
    return {"kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc}-{suffix}", "namespace": "d", "resourceVersion": str(rv),
                         "labels": {"kubernetes.io/service-name": svc}},
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": "x"} for ip in ips]}


def state(text: str) -> dict:
    (table,) = parse_nft_text(text)
    chains = {n: r for n, r in table.chains.items() if r or "/" not in n}  # flushed stale chains left out
    return {"chains": chains, "sets": {n: sorted((e.key, e.value, e.comment) for e in els)
                                       for n, els in table.sets.items()}}


class Recorder:
    """Stands for the kernel: keeps every transaction the proxy sends, per node."""

    def __init__(self, monkeypatch) -> None:
        self.sent: dict[str, list[str]] = {}

        async def nft(_self, node, text):
            self.sent.setdefault(node.name, []).append(text)

        async def partial(_self, node, text, rs):
            self.sent.setdefault(node.name, []).append(text)
            return "netlink"

        async def restore(_self, node, text):
            self.sent.setdefault(node.name, []).append(text)

        async def jumps(_self, node, ctx):
            _self._jumps_done.add(node.name)

        async def arun(*_a, **_kw):
            return ""  # iptables-save of a fresh node: no chain of kube-proxy yet
        monkeypatch.setattr(KubeProxy, "_nft", nft)
        monkeypatch.setattr(KubeProxy, "_nft_partial", partial)
        monkeypatch.setattr(KubeProxy, "_restore", restore)
        monkeypatch.setattr(KubeProxy, "_ensure_jumps", jumps)
        monkeypatch.setattr(proxy_mod.ns, "arun", arun)


@pytest.mark.parametrize("mode", ["nftables", "iptables"])
@pytest.mark.parametrize("fed", [True, False])
def test_partial_syncs_from_changed_services_equal_a_full_render(monkeypatch, fed, mode):
    rec = Recorder(monkeypatch)
    rv = iter(range(100, 10_000))
    objs = {}
    for i in range(6):
        objs[f"s{i}"] = service(f"svc{i}", f"10.96.0.{10 + i}", next(rv))
        objs[f"e{i}"] = slice_(f"svc{i}", "a", [f"10.244.1.{10 + i}", f"10.244.2.{10 + i}"], next(rv))
    spec = LabSpec(name="t20inc", nodes=2, proxy_mode=mode)
    proxy = KubeProxy(spec, lambda: list(objs.values()))
    proxy.fed = fed

    def write(key: str, obj: dict | None) -> None:
        old = objs.pop(key, None)
        if obj is not None:
            objs[key] = obj
        if fed:
            target = obj or old
            body = {k: v for k, v in target.items() if k != "kind"}
            proxy.object_changed(target["kind"], obj is None, body)

    def check() -> None:
        asyncio.run(proxy.sync())
        for node in spec.node_plans():
            inp = from_objects([("t", i, o) for i, o in enumerate(objs.values())], node_name=node.name)
            if mode == "nftables":
                want = render_nftables(inp, node_context(spec, node)).transaction()
                assert state("".join(rec.sent[node.name])) == state(want)
            else:
                held = restore_replay(rec.sent[node.name])
                for table in held.values():  # flushed stale chains are deleted with -X at once in iptables
                    assert all(rules or not c.startswith("KUBE-SEP") for c, rules in table.items())
                assert held == restore_replay([render_iptables(inp, node_context(spec, node))])

    check()
    if mode == "iptables":
        before = {n: len(v) for n, v in rec.sent.items()}
        write("e2", slice_("svc2", "a", ["10.244.1.12"], next(rv)))  # an endpoint gone: its chains only
        check()
        for node, texts in rec.sent.items():
            new = "".join(texts[before[node]:])
            assert "*filter" not in new and "-A KUBE-SERVICES" not in new and "-X KUBE-SEP-" in new
            assert all('"d/svc2:http' in line for line in new.splitlines() if line.startswith("-A "))
        return
    assert all(len(v) == 1 for v in rec.sent.values())  # the first sync: one full transaction
    steps = [
        ("e2", slice_("svc2", "a", ["10.244.1.12"], next(rv))),                          # scaled down
        ("s4", None), ("e4", None),                                                     # deleted
        ("s9", service("new", "10.96.0.99", next(rv), sessionAffinity="ClientIP")),     # added, affinity
        ("e9", slice_("new", "a", ["10.244.3.3"], next(rv))),
        ("e1", None),                                                                   # no endpoint left
        ("f0", slice_("svc0", "b", ["10.244.3.10"], next(rv))),                         # a second slice
        ("s3", service("svc3", "10.96.0.13", next(rv), externalIPs=["192.0.2.7"])),     # a new frontend
    ]
    for key, obj in steps:
        before = {n: len(v) for n, v in rec.sent.items()}
        write(key, copy.deepcopy(obj))
        check()
        for node, texts in rec.sent.items():
            new = "".join(texts[before[node]:])
            assert "add table" not in new  # a partial sync, never the whole table again
            touched = {line.split()[4] for line in new.splitlines() if line.startswith("add rule")}
            assert all(any(f"-d/{s}/" in c for s in ("svc0", "svc2", "new", "svc3")) for c in touched)


def test_a_fed_sync_reads_only_the_changed_objects(monkeypatch):
    Recorder(monkeypatch)
    calls = []
    real = proxy_mod.object_parts
    monkeypatch.setattr(proxy_mod, "object_parts", lambda *a: calls.append(a[0]["metadata"]["name"]) or real(*a))
    objs = [o for i in range(20) for o in (service(f"svc{i}", f"10.96.0.{10 + i}", 2 * i + 1),
                                           slice_(f"svc{i}", "a", [f"10.244.1.{10 + i}"], 2 * i + 2))]
    listed = []
    proxy = KubeProxy(LabSpec(name="t20inc", nodes=2, proxy_mode="nftables"),
                      lambda: listed.append(1) or list(objs))
    proxy.fed = True
    asyncio.run(proxy.sync())
    assert len(listed) == 1 and len(calls) == len(objs)  # the first sync reads everything, once for both nodes
    calls.clear()
    changed = slice_("svc7", "a", ["10.244.1.99"], 500)
    proxy.object_changed("EndpointSlice", False, {k: v for k, v in changed.items() if k != "kind"})
    asyncio.run(proxy.sync())
    assert len(listed) == 1  # not listed again
    assert calls == ["svc7-a"]  # the changed slice, once for both nodes (its Service: read before)
    assert all(r.kind == "partial" for r in proxy.records.values())
