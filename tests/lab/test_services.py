"""The pod-to-service network in the embedded lab, in both kube-proxy modes, with real packets."""
import collections
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

from .helpers import ROOT, eventually, settled

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class Cluster:
    def __init__(self, name, home):
        self.name = name
        self.env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(name)))
        self.lab = EmbeddedLab(name)

    def kubectl(self, *args, input=None, check=True):
        proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True,
                              env=self.env, timeout=90)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc

    def pods(self, selector):
        out = self.kubectl("-n", "demo", "get", "pods", "-l", selector, "-o", "json").stdout
        return [p for p in json.loads(out)["items"] if p["status"].get("podIP")
                and p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]

    def wait(self, what, predicate):
        return eventually(what, predicate, "timed out; last value", interval=0.1)

    def node_rules(self, node):
        if self.lab.spec.proxy_mode == "nftables":
            return self.lab.node_exec(node, ["nft", "list", "table", "ip", "kube-proxy"]).stdout
        out = self.lab.node_exec(node, ["iptables-save"]).stdout
        return "\n".join(l for l in out.splitlines() if not l.startswith("#"))   # no timestamps

    def endpoint_chains(self, node):
        rules = self.node_rules(node)
        if self.lab.spec.proxy_mode == "nftables":
            return {l.split()[1] for l in rules.splitlines()
                    if l.strip().startswith("chain endpoint-") and "demo/blue" in l}
        return {l.split()[1] for l in rules.splitlines()
                if l.startswith("-A KUBE-SEP-") and '"demo/blue"' in l}


@pytest.fixture(scope="module", params=["iptables", "nftables"])
def cluster(request, tmp_path_factory):
    name = "tsvc" + request.param[:3]
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, proxy_mode=request.param))
    c = Cluster(name, tmp_path_factory.mktemp("home"))
    c.kubectl("create", "namespace", "demo")
    c.kubectl("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
    c.kubectl("-n", "demo", "expose", "deployment", "blue", "--port=80")
    blues = c.wait(lambda: c.pods("app=blue"), lambda p: len(p) == 3)
    for node in c.lab.spec.node_plans():     # Running is not yet programmed: wait for kube-proxy's rules
        c.wait(lambda: c.endpoint_chains(node.name), lambda chains: len(chains) == 3)
    # the client runs on a node that is not the node of the first blue pod
    other = next(n.name for n in c.lab.spec.node_plans()[1:] if n.name != blues[0]["spec"]["nodeName"])
    client = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "demo",
              "labels": {"run": "client"}}, "spec": {"nodeName": other, "containers": [
                  {"name": "client", "image": "nicolaka/netshoot", "command": ["sleep", "infinity"]}]}}
    c.kubectl("apply", "-f", "-", input=json.dumps(client))
    c.wait(lambda: c.pods("run=client"), lambda p: len(p) == 1)
    yield c
    lifecycle.down(name)


def test_curl_by_name_balances_over_all_pods_and_keeps_the_client_ip(cluster):
    client_ip = cluster.pods("run=client")[0]["status"]["podIP"]
    loop = "for i in $(seq 300); do curl -s -m 2 http://blue; echo; done"
    out = cluster.kubectl("-n", "demo", "exec", "client", "--", "sh", "-c", loop).stdout
    answers = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(answers) == 300
    counts = collections.Counter(a["pod"] for a in answers)
    assert len(counts) == 3 and all(60 <= n <= 140 for n in counts.values()), counts
    assert {a["client_ip"] for a in answers} == {client_ip}


def test_scaling_changes_the_rules_of_every_node(cluster):
    cluster.kubectl("-n", "demo", "scale", "deployment", "blue", "--replicas=5")
    for node in cluster.lab.spec.node_plans():
        cluster.wait(lambda: cluster.endpoint_chains(node.name), lambda c: len(c) == 5)
    victim = cluster.pods("app=blue")[0]
    cluster.kubectl("-n", "demo", "delete", "pod", victim["metadata"]["name"], "--wait=false")
    ip = victim["status"]["podIP"]
    for node in cluster.lab.spec.node_plans():
        cluster.wait(lambda: cluster.node_rules(node.name), lambda r: f"{ip}:80" not in r and f"{ip} . " not in r)
    cluster.kubectl("-n", "demo", "scale", "deployment", "blue", "--replicas=3")
    cluster.wait(lambda: cluster.pods("app=blue"), lambda p: len(p) == 3)


def test_partial_syncs_keep_the_cluster_ip_answering(cluster):
    """After the first (full) sync, kube-proxy writes only what changed: real packets still reach
    exactly the pods of the moment, and the chains of a removed endpoint leave every node."""
    def served(expected):
        loop = "for i in $(seq 40); do curl -s -m 2 http://blue; echo; done"
        out = cluster.kubectl("-n", "demo", "exec", "client", "--", "sh", "-c", loop).stdout
        return {json.loads(l)["pod"] for l in out.splitlines() if l.startswith("{")}

    for replicas in (4, 2, 3):
        cluster.kubectl("-n", "demo", "scale", "deployment", "blue", f"--replicas={replicas}")
        pods = cluster.wait(lambda: cluster.pods("app=blue"), lambda p: len(p) == replicas)
        names = {p["metadata"]["name"] for p in pods}
        cluster.wait(lambda: served(names), lambda s: s == names)
        for node in cluster.lab.spec.node_plans():
            cluster.wait(lambda: cluster.endpoint_chains(node.name), lambda c: len(c) == replicas)


def test_nodeport_answers_on_every_node_also_without_local_pods(cluster):
    cluster.kubectl("-n", "demo", "expose", "deployment", "blue", "--name=blue-np", "--type=NodePort", "--port=80")
    svc = json.loads(cluster.kubectl("-n", "demo", "get", "svc", "blue-np", "-o", "json").stdout)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    blue_nodes = {p["spec"]["nodeName"] for p in cluster.pods("app=blue")}
    plans = cluster.lab.spec.node_plans()
    assert plans[0].name not in blue_nodes            # the control plane runs none of them
    for plan in plans:
        url = f"http://{plan.ip}:{node_port}/"
        answer = cluster.wait(lambda: subprocess.run(["curl", "-s", "-m", "2", url], capture_output=True,
                                                     text=True).stdout, lambda out: out.startswith("{"))
        assert json.loads(answer)["pod"].startswith("blue-")
    from_node = cluster.lab.node_exec(plans[0].name, ["curl", "-s", "-m", "2", f"http://{plans[1].ip}:{node_port}/"])
    assert json.loads(from_node.stdout)["pod"].startswith("blue-")


def test_cluster_dns_answers_the_cluster_ip(cluster):
    svc = json.loads(cluster.kubectl("-n", "demo", "get", "svc", "blue", "-o", "json").stdout)
    out = cluster.kubectl("-n", "demo", "exec", "client", "--", "dig", "+short",
                          f"@{cluster.lab.spec.dns_ip}", "blue.demo.svc.cluster.local").stdout
    assert out.split() == [svc["spec"]["clusterIP"]]
    srv = cluster.kubectl("-n", "demo", "exec", "client", "--", "dig", "+short", "SRV",
                          "_dns._udp.kube-dns.kube-system.svc.cluster.local").stdout
    assert srv.split()[2:] == ["53", "kube-dns.kube-system.svc.cluster.local."]
    missing = cluster.kubectl("-n", "demo", "exec", "client", "--", "dig", "nothere.demo.svc.cluster.local").stdout
    assert "NXDOMAIN" in missing


def test_inspect_reads_the_live_node_rules(cluster):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    node = cluster.lab.spec.node_plans()[1].name
    proc = subprocess.run([sys.executable, "-m", "labkit", "inspect", "kube-proxy", "--name", cluster.name,
                           "--node", node, "--json"], capture_output=True, text=True, env=env)
    smap = json.loads(proc.stdout)
    assert smap["mode"] == cluster.lab.spec.proxy_mode
    blue = next(s for s in smap["services"] if s["service"] == "demo/blue")
    assert len(blue["endpoints"]) == 3
    assert abs(sum(e["share"] for e in blue["endpoints"]) - 1) < 1e-4   # shares are rounded to 6 digits
    assert all(abs(e["share"] - 1 / 3) < 1e-3 for e in blue["endpoints"])


@pytest.mark.parametrize("spec,field", [
    ({"ports": [{"port": 70000}]}, "spec.ports[0].port"),
    ({"selector": "app", "ports": [{"port": 80}]}, "spec.selector"),
    ({"clusterIP": "10.1.2.3", "ports": [{"port": 80}]}, "spec.clusterIPs"),
    ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}, "spec.ports[0].nodePort"),
])
def test_bad_services_are_refused_and_change_no_rules(cluster, spec, field):
    rules = lambda: {n.name: cluster.node_rules(n.name) for n in cluster.lab.spec.node_plans()}
    before = settled(rules, "the rules of the previous tests")
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad", "namespace": "demo"}, "spec": spec}
    proc = cluster.kubectl("apply", "-f", "-", input=json.dumps(svc), check=False)
    # a wrong type is refused by the decoder (400, as kube-apiserver does), a wrong value by validation (422)
    refused = "cannot unmarshal" if field == "spec.selector" else "is invalid"
    assert proc.returncode != 0 and refused in proc.stderr and field in proc.stderr
    time.sleep(0.3)
    assert {n.name: cluster.node_rules(n.name) for n in cluster.lab.spec.node_plans()} == before


def test_taken_node_port_is_refused(cluster):
    svc = json.loads(cluster.kubectl("-n", "demo", "get", "svc", "blue-np", "-o", "json").stdout)
    taken = svc["spec"]["ports"][0]["nodePort"]
    dup = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dup", "namespace": "demo"},
           "spec": {"type": "NodePort", "selector": {"app": "blue"}, "ports": [{"port": 80, "nodePort": taken}]}}
    proc = cluster.kubectl("apply", "-f", "-", input=json.dumps(dup), check=False)
    assert proc.returncode != 0 and "already allocated" in proc.stderr


def test_session_affinity_and_internal_traffic_policy_local(cluster):
    manifest = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sticky", "namespace": "demo"},
         "spec": {"selector": {"app": "blue"}, "sessionAffinity": "ClientIP", "ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "local", "namespace": "demo"},
         "spec": {"selector": {"app": "blue"}, "internalTrafficPolicy": "Local", "ports": [{"port": 80}]}},
    ]
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifest}))
    client = cluster.pods("run=client")[0]
    local_blues = [p for p in cluster.pods("app=blue") if p["spec"]["nodeName"] == client["spec"]["nodeName"]]

    def answers(url):
        loop = f"for i in $(seq 12); do curl -s -m 2 {url}; echo; done"
        out = cluster.kubectl("-n", "demo", "exec", "client", "--", "sh", "-c", loop).stdout
        return [json.loads(l) for l in out.splitlines() if l.startswith("{")]

    cluster.wait(lambda: answers("http://sticky"), lambda a: len(a) == 12)
    assert len({a["pod"] for a in answers("http://sticky")}) == 1        # ClientIP affinity
    local = cluster.wait(lambda: answers("http://local"), lambda a: len(a) == 12 or not local_blues)
    if local_blues:
        assert {a["node"] for a in local} == {client["spec"]["nodeName"]}  # only this node's endpoints
