"""labkit.netpol.groups: the verdicts the policy diagram draws (groups, flows, matrix counts)."""
from __future__ import annotations

from labkit import netpol
from labkit.netpol.groups import flows, pair_counts, pod_classes, selected_by, snapshot_engine
from labkit.snapshot import ClusterSnapshot


def _pod(ns: str, name: str, labels: dict, ip: str, host_network: bool = False) -> dict:
    return {"metadata": {"namespace": ns, "name": name, "labels": labels},
            "spec": {"hostNetwork": host_network,
                     "containers": [{"name": "c", "ports": [{"containerPort": 80, "name": "http"}]}]},
            "status": {"podIP": ip, "phase": "Running"}}


def _snapshot() -> ClusterSnapshot:
    db_only_from_web = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"namespace": "shop", "name": "db-from-web"},
        "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                              "ports": [{"port": 80}]}]}}
    return ClusterSnapshot(
        "t", namespaces=[{"metadata": {"name": "shop"}}],
        pods=[_pod("shop", "web-1", {"app": "web", "pod-template-hash": "a"}, "10.0.0.1"),
              _pod("shop", "web-2", {"app": "web", "pod-template-hash": "b"}, "10.0.0.2"),
              _pod("shop", "db-1", {"app": "db"}, "10.0.0.3"),
              _pod("shop", "tool", {"app": "tool"}, "10.0.0.4"),
              _pod("shop", "agent", {}, "192.168.0.9", host_network=True)],
        networkpolicies=[db_only_from_web])


def test_engine_keeps_every_drawn_pod_and_its_selecting_policies():
    eng = snapshot_engine(_snapshot())
    assert sorted(p.key for p in eng.pods) == ["shop/agent", "shop/db-1", "shop/tool", "shop/web-1", "shop/web-2"]
    chosen = {k: [p.name for p in pols] for k, pols in selected_by(eng).items()}
    assert chosen["shop/db-1"] == ["db-from-web"] and chosen["shop/web-1"] == []


def test_classes_group_pods_by_the_keys_policies_select_on():
    snap = _snapshot()
    eng = snapshot_engine(snap)
    classes = pod_classes(eng, snap.networkpolicies)
    groups = {c.name: c.keys for c in classes}
    # the two web replicas are one group (pod-template-hash is named by no selector); the pod
    # without an app label is a group of its own
    assert groups == {"G1": ["shop/agent"], "G2": ["shop/db-1"], "G3": ["shop/tool"],
                      "G4": ["shop/web-1", "shop/web-2"]}


def test_flows_and_counts_say_what_the_policy_decides():
    snap = _snapshot()
    eng = snapshot_engine(snap)
    reach = eng.reachability(80, "TCP")
    classes = {c.name: c for c in pod_classes(eng, snap.networkpolicies)}
    iso_in, iso_out = set(eng.isolated(netpol.INGRESS)), set(eng.isolated(netpol.EGRESS))
    found = flows(eng, reach, list(classes.values()), iso_in, iso_out, 80, "TCP")
    assert [(f.src.name, f.dst.name, f.allowed, f.decided) for f in found] == [("G4", "G2", 2, 2)]
    assert found[0].rules and all("db-from-web" in r for r in found[0].rules)
    into_db = pair_counts(reach, classes["G3"], classes["G2"], iso_in, iso_out)
    assert (into_db.allowed, into_db.total, into_db.decided) == (0, 1, True)
    web_to_web = pair_counts(reach, classes["G4"], classes["G4"], iso_in, iso_out)
    assert (web_to_web.allowed, web_to_web.total, web_to_web.decided) == (2, 2, False)
