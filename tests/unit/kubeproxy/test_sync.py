"""First loads in batches and partial syncs give the node exactly the rules of a full sync.

Each test replays what the node would hold (the nft command parser for nftables, a small
``iptables-restore --noflush`` model for iptables) and compares it with a full sync of the new
input; the partial syncs must also leave unchanged services alone.
"""
from __future__ import annotations

import copy
import dataclasses

from labkit.kubeproxy import Endpoint, NodeContext, ProxyInput, ServicePort, render_iptables, render_nftables
from labkit.kubeproxy.iptables_sync import iptables_initial_batches, iptables_update, parse_restore
from labkit.kubeproxy.nft_sync import element_key, nft_delete_chains, nft_initial_batches, nft_update
from labkit.inspect.nft_text import parse_nft_text

from kubeproxy_helpers import restore_replay

CTX = NodeContext(node_name="w1", node_ips=("172.18.0.3",), cluster_cidr="10.244.0.0/16",
                  service_cidrs=("10.96.0.0/16",))


def lab_input(n: int, endpoints: int = 2) -> ProxyInput:
    inp = ProxyInput()
    for i in range(n):
        svc = ServicePort("bench", f"svc{i}", "http", "TCP", f"10.96.{i // 250}.{i % 250 + 1}", 80)
        inp.services.append(svc)
        inp.endpoints[svc.key] = [Endpoint(f"10.244.{e + 1}.{i % 250 + 2}", 8080) for e in range(endpoints)]
    return inp


def nft_state(text: str) -> dict:
    (table,) = parse_nft_text(text)
    sets = {name: sorted((e.key, e.value, e.comment) for e in elements) for name, elements in table.sets.items()}
    return {"chains": table.chains, "sets": sets}


def test_nft_first_load_in_batches_is_the_full_transaction(overall_input, upstream_ctx):
    rs = render_nftables(overall_input, upstream_ctx)
    batches = nft_initial_batches(rs, rules_per_batch=5)
    assert len(batches) > 3
    assert nft_state("".join(batches)) == nft_state(rs.transaction())
    # the service chains' rules come after every chain exists, the map elements last
    assert batches[0].count("add chain") == len(rs.chains)
    assert all(line.startswith("add element") for line in batches[-1].splitlines())


def test_nft_first_load_of_the_lab_form_is_one_transaction():
    rs = render_nftables(lab_input(5), CTX)  # no anonymous map: nothing to batch
    batches = nft_initial_batches(rs)
    assert len(batches) == 1 and "vmap {" not in batches[0]
    assert nft_state(batches[0]) == nft_state(rs.transaction())


def test_nft_partial_sync_equals_a_full_sync():
    old_inp = lab_input(6)
    new_inp = copy.deepcopy(old_inp)
    changed = new_inp.services[2]
    new_inp.endpoints[changed.key] = new_inp.endpoints[changed.key][:1]  # scaled down
    gone = new_inp.services.pop(4)  # deleted
    new_inp.endpoints.pop(gone.key)
    added = dataclasses.replace(new_inp.services[0], name="new", cluster_ip="10.96.9.9", session_affinity_timeout=60)
    new_inp.services.append(added)
    new_inp.endpoints[added.key] = [Endpoint("10.244.3.3", 8080)]
    old, new = render_nftables(old_inp, CTX), render_nftables(new_inp, CTX)

    update = nft_update(old, new)
    replay = old.transaction() + update.transaction + nft_delete_chains(update.stale_chains)
    assert nft_state(replay) == nft_state(new.transaction())
    written = {line.split()[4] for line in update.transaction.splitlines() if line.startswith("add rule")}
    assert written and all("/svc2/" in c or "/new/" in c for c in written)
    assert any("/svc4/" in c for c in update.stale_chains)
    assert "add set ip kube-proxy affinity-" in update.transaction


def test_nft_partial_sync_of_nothing_is_empty():
    rs = render_nftables(lab_input(3), CTX)
    assert nft_update(rs, render_nftables(lab_input(3), CTX)).empty


def test_nft_changed_element_value_is_deleted_then_added():
    inp = lab_input(2)
    old = render_nftables(inp, CTX)
    inp.endpoints[inp.services[1].key] = []  # no endpoints: from service-ips to no-endpoint-services
    update = nft_update(old, render_nftables(inp, CTX))
    text = update.transaction
    assert "delete element ip kube-proxy service-ips { 10.96.0.2 . tcp . 80 }" in text
    assert 'add element ip kube-proxy no-endpoint-services { 10.96.0.2 . tcp . 80 comment "bench/svc1:http"' in text
    assert element_key('10.96.0.2 . tcp . 80 comment "bench/svc1:http" : goto reject-chain') == "10.96.0.2 . tcp . 80"


def test_iptables_first_load_in_batches_is_the_full_input(overall_input, upstream_ctx):
    text = render_iptables(overall_input, upstream_ctx)
    batches = iptables_initial_batches(text, rules_per_batch=4)
    assert len(batches) > 3
    assert restore_replay(batches) == restore_replay([text])


def test_iptables_partial_sync_writes_only_changed_service_chains():
    old_inp = lab_input(5)
    new_inp = copy.deepcopy(old_inp)
    changed = new_inp.services[1]
    new_inp.endpoints[changed.key] = new_inp.endpoints[changed.key][:1]
    old, new = render_iptables(old_inp, CTX), render_iptables(new_inp, CTX)
    update = iptables_update(old, new)
    assert restore_replay([old, update.restore]) == restore_replay([new])
    svc_chains = {t.name: [c for c in t.chains if c.startswith("KUBE-SVC-")] for t in parse_restore(update.restore)}
    assert len(svc_chains["nat"]) == 1  # the scaled service only
    assert "KUBE-SERVICES" not in update.restore and "*filter" not in update.restore  # unchanged: left out
    upstream = iptables_update(old, new, full_fixed=True)  # top-level chains whole, as upstream
    assert ":KUBE-SERVICES" in upstream.restore
    assert restore_replay([old, upstream.restore]) == restore_replay([new])
    assert update.chains_written == 1 and len(update.stale_chains) == 1  # its SVC chain; one SEP gone
    assert iptables_update(new, new).empty


def test_the_lab_reads_each_object_version_once(monkeypatch):
    from labkit.embedded import proxy

    calls = []
    real = proxy.object_parts
    monkeypatch.setattr(proxy, "object_parts", lambda *a: calls.append(a[0]["metadata"]["name"]) or real(*a))
    svc = {"kind": "Service", "metadata": {"name": "web", "namespace": "d", "resourceVersion": "1"},
           "spec": {"clusterIP": "10.96.0.9", "ports": [{"port": 80}]}}
    bad = {"kind": "Service", "metadata": {"name": "bad", "namespace": "d", "resourceVersion": "2"},
           "spec": {"clusterIP": "nope", "ports": [{"port": 80}]}}
    parsed, reports = proxy.ParsedObjects(), []
    for _ in range(3):
        inputs = parsed.inputs([svc, bad], ["n1", "n2"], lambda obj, exc: reports.append(obj["metadata"]["name"]))
    assert [s.name for s in inputs["n2"].services] == ["web"]
    assert calls.count("web") == 1 and calls.count("bad") == 1   # once for every node, then cached
    assert reports == ["bad"] * 3                                 # still reported on every sync
    parsed.inputs([dict(svc, metadata={**svc["metadata"], "resourceVersion": "3"})], ["n1"], lambda *_: None)
    assert calls.count("web") == 2 and len(parsed._cache) == 1


def test_objects_read_once_give_each_node_its_local_endpoints():
    """One reading for all nodes: each node still sees the endpoints on it as local (what
    ``externalTrafficPolicy: Local`` relies on), exactly as reading the object for that node does;
    a node with no local endpoint shares the records (the render caches find them)."""
    from labkit.embedded import proxy
    from labkit.kubeproxy.manifests import object_parts

    eps = {"kind": "EndpointSlice", "addressType": "IPv4",
           "metadata": {"name": "web-a", "namespace": "d", "resourceVersion": "5",
                        "labels": {"kubernetes.io/service-name": "web"}},
           "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
           "endpoints": [{"addresses": [f"10.244.{i}.5"], "nodeName": f"n{i}"} for i in (1, 2)]}
    parsed = proxy.ParsedObjects()
    inputs = parsed.inputs([eps], ["n1", "n2", "n3"], lambda *_: None)
    for node in ("n1", "n2", "n3"):
        assert parsed.parts(eps, node, parsed._base(eps)) == object_parts(eps, "api", 0, node)
        assert [ep.is_local for ep in inputs[node].endpoints[("d", "web", "", "TCP")]] == [node == "n1", node == "n2"]
    assert parsed.parts(eps, "n3", parsed._base(eps)) is parsed.parts(eps, "n4", parsed._base(eps))
    parsed.forget(parsed._base(eps), ["n1", "n2", "n3"])
    assert not parsed._cache and not parsed._local


def test_cached_rendering_writes_the_same_bytes(overall_input, upstream_ctx):
    from labkit.kubeproxy.render_cache import CachedRenderer

    cache = CachedRenderer()
    for inp, ctx in ((overall_input, upstream_ctx), (overall_input, upstream_ctx), (lab_input(40), CTX)):
        assert cache.nftables(inp, ctx).dump() == render_nftables(inp, ctx).dump()
        assert cache.nftables(inp, ctx).transaction() == render_nftables(inp, ctx).transaction()
        assert cache.iptables(inp, ctx) == render_iptables(inp, ctx)
    changed = copy.deepcopy(lab_input(40))
    svc = changed.services[7]
    changed.endpoints[svc.key] = changed.endpoints[svc.key][:1]
    changed.services.append(dataclasses.replace(svc, name="sticky", cluster_ip="10.96.7.7", session_affinity_timeout=30))
    changed.endpoints[changed.services[-1].key] = [Endpoint("10.244.9.9", 80)]
    assert cache.nftables(changed, CTX).transaction() == render_nftables(changed, CTX).transaction()
    assert cache.iptables(changed, CTX) == render_iptables(changed, CTX)
    assert len(cache.nft) == 41 and len(cache.ipt) == 41   # only the services of the last render are kept


def test_iptables_partial_sync_of_a_removed_service_rewrites_what_jumped_to_it():
    old_inp = lab_input(4)
    new_inp = copy.deepcopy(old_inp)
    new_inp.services.pop(2)
    old, new = render_iptables(old_inp, CTX), render_iptables(new_inp, CTX)
    update = iptables_update(old, new)
    assert restore_replay([old, update.restore]) == restore_replay([new])
    assert ":KUBE-SERVICES" in update.restore and len(update.stale_chains) == 3  # SVC + 2 SEP
