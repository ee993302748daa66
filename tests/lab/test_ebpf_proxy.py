"""``--service-proxy ebpf``: ClusterIPs served by a socket-level load balancer (BPF), no kube-proxy rule."""
import collections
import json
import os
import signal
import subprocess

import pytest

from labkit import agents, compare
from labkit.cluster import connect
from labkit.embedded import lifecycle, sock_lb
from labkit.embedded.paths import lab_dir
from labkit.embedded.state import LabState
from labkit.embedded.topology import LabSpec
from labkit.trace import trace

from .helpers import labkit
from .test_services import Cluster

NAME = "tebpf"


def bpftool_json(*args):
    return json.loads(subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True,
                                     check=True).stdout.strip() or "[]")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME, proxy_mode="ebpf"))
    c = Cluster(NAME, tmp_path_factory.mktemp("home"))
    c.kubectl("create", "namespace", "demo")
    c.kubectl("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
    c.kubectl("-n", "demo", "expose", "deployment", "blue", "--port=80")
    c.kubectl("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--command", "--", "sleep", "infinity")
    c.wait(lambda: c.pods("app=blue"), lambda p: len(p) == 3)
    c.wait(lambda: c.pods("run=client"), lambda p: len(p) == 1)
    svc = json.loads(c.kubectl("-n", "demo", "get", "svc", "blue", "-o", "json").stdout)
    c.cluster_ip = svc["spec"]["clusterIP"]
    yield c
    lifecycle.down(NAME)


def backends(cluster, node):
    """The blue Service's backends in ``node``'s BPF map (pod IPs)."""
    table = sock_lb.node_table(NAME, node)
    return sorted(b.address for f, bs in table.items() if f.address == cluster.cluster_ip for b in bs)


def blue_ips(cluster):
    return sorted(p["status"]["podIP"] for p in cluster.pods("app=blue"))


def answered_by(cluster, count, target="http://blue"):
    loop = f"for i in $(seq {count}); do curl -s -m 2 {target}; echo; done"
    out = cluster.kubectl("-n", "demo", "exec", "client", "--", "sh", "-c", loop).stdout
    return collections.Counter(json.loads(l)["pod"] for l in out.splitlines() if l.startswith("{"))


def test_cluster_ip_balanced_by_the_socket_lb_with_no_service_rule(cluster):
    names = {p["metadata"]["name"] for p in cluster.pods("app=blue")}
    cluster.wait(lambda: set(answered_by(cluster, 30)), lambda s: s == names)
    for node in cluster.lab.spec.node_plans():
        assert backends(cluster, node.name) == blue_ips(cluster)
        rules = cluster.lab.node_exec(node.name, ["iptables-save"]).stdout
        ruleset = cluster.lab.node_exec(node.name, ["nft", "list", "ruleset"]).stdout
        for text in (rules, ruleset):            # kube-proxy's table holds NodePorts only (none here)
            assert cluster.cluster_ip not in text and "KUBE-SVC" not in text and "dnat to" not in text
    # the programs hang on the cgroup v2 root, one set per node
    attached = {p["id"] for p in bpftool_json("cgroup", "show", sock_lb.cgroup2_root())}
    mine = {sock_lb.prog_id(sock_lb.node_pins(NAME, n.name) / p)
            for n in cluster.lab.spec.node_plans() for p in sock_lb.PROGRAMS}
    assert None not in mine and mine <= attached


def test_scaling_updates_every_node_map(cluster):
    cluster.kubectl("-n", "demo", "scale", "deployment", "blue", "--replicas=4")
    ips = cluster.wait(lambda: blue_ips(cluster), lambda i: len(i) == 4)
    for node in cluster.lab.spec.node_plans():
        cluster.wait(lambda: backends(cluster, node.name), lambda b: b == ips)


def test_inspect_snapshot_and_diagram_read_the_maps(cluster):
    ips = blue_ips(cluster)
    out = labkit("inspect", "socket-lb", "--name", NAME, "--node", "worker", check=True).stdout
    assert "demo/blue" in out and all(f"{ip}:80" in out for ip in ips) and "lb4_services" in out
    snap = connect(lab=NAME).snapshot(with_pod_networks=False)
    assert snap.proxy_mode == "ebpf"
    for node in snap.nodes:
        assert sorted(e.ip for e in node.kube_proxy.get("demo/blue").endpoints) == ips
    out_svg = lab_dir(NAME).parent / f"{NAME}-services.svg"
    labkit("draw", "services", "--name", NAME, "-o", str(out_svg), check=True)
    svg = out_svg.read_text()
    text = str(trace(snap, "demo/client", cluster.cluster_ip, 80))
    assert "BPF socket load balancer" in text and "DNAT" not in text.replace("no DNAT", "")
    out_svg.unlink()
    assert "BPF" in svg and all(ip in svg for ip in ips)


def test_an_endpoint_removed_gets_no_new_connection(cluster):
    victim = cluster.pods("app=blue")[0]
    name, ip = victim["metadata"]["name"], victim["status"]["podIP"]
    cluster.kubectl("-n", "demo", "label", "pod", name, "app=retired", "--overwrite")   # out of the Service
    for node in cluster.lab.spec.node_plans():
        cluster.wait(lambda: backends(cluster, node.name), lambda b: b and ip not in b)
    counts = answered_by(cluster, 30)
    assert sum(counts.values()) == 30 and name not in counts, counts
    assert answered_by(cluster, 1, f"http://{ip}") == {name: 1}      # it still serves, directly


def test_a_deleted_pod_leaves_every_map_and_no_new_connection_fails(cluster):
    victim = cluster.pods("app=blue")[0]
    name, ip = victim["metadata"]["name"], victim["status"]["podIP"]
    cluster.kubectl("-n", "demo", "delete", "pod", name, "--wait=false")
    for node in cluster.lab.spec.node_plans():
        cluster.wait(lambda n=node: backends(cluster, n.name), lambda b: b and ip not in b)
    counts = answered_by(cluster, 30)
    assert sum(counts.values()) == 30 and name not in counts, counts      # none sent to the dead address


def test_a_pod_created_again_with_the_same_name_is_translated(cluster):
    """Its network namespace has the same name, and often the same inode number (the kernel reuses
    the lowest free one): its connect() must still go through the socket LB (a stale cookie did not)."""
    for _ in range(2):
        cluster.kubectl("-n", "demo", "delete", "pod", "client", "--wait=true")
        cluster.kubectl("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--command", "--",
                        "sleep", "infinity")
        cluster.wait(lambda: [p for p in cluster.pods("run=client") if p["status"].get("phase") == "Running"],
                     lambda p: len(p) == 1)
        counts = cluster.wait(lambda: answered_by(cluster, 6), lambda c: sum(c.values()) == 6)
        assert set(counts) <= {p["metadata"]["name"] for p in cluster.pods("app=blue")}, counts


def curl_from_host(url):
    out = subprocess.run(["curl", "-s", "-m", "2", url], capture_output=True, text=True).stdout
    return json.loads(out) if out.startswith("{") else None


def test_a_node_port_answers_from_nftables_with_no_cluster_ip_rule(cluster):
    """NodePorts stay with kube-proxy's nftables rules (Cilium's hybrid split); ClusterIPs do not."""
    cluster.kubectl("-n", "demo", "expose", "deployment", "blue", "--name=blue-np", "--type=NodePort", "--port=80")
    svc = json.loads(cluster.kubectl("-n", "demo", "get", "svc", "blue-np", "-o", "json").stdout)["spec"]
    node = cluster.lab.spec.node_plans()[-1]
    names = {p["metadata"]["name"] for p in cluster.pods("app=blue")}
    port = svc["ports"][0]["nodePort"]
    answer = cluster.wait(lambda: curl_from_host(f"http://{node.ip}:{port}/"), lambda a: a is not None)
    assert answer["pod"] in names
    for n in cluster.lab.spec.node_plans():
        table = cluster.lab.node_exec(n.name, ["nft", "list", "table", "ip", "kube-proxy"]).stdout
        assert f"tcp . {port} : goto external-" in table
        ruleset = cluster.lab.node_exec(n.name, ["nft", "list", "ruleset"]).stdout
        assert svc["clusterIP"] not in ruleset and cluster.cluster_ip not in ruleset
        assert "KUBE-" not in cluster.lab.node_exec(n.name, ["iptables-save"]).stdout
    # the snapshot still reads the ClusterIPs from the maps, and says ebpf; its NodePorts come from
    # kube-proxy's table: a pod's connection to NodeIP:NodePort is traced through them, and the
    # backend the kernel picked (the pod that answered) is one of the trace's candidates
    picked = cluster.wait(lambda: answered_by(cluster, 1, f"http://{node.ip}:{port}/"), lambda c: len(c) == 1)
    ip = next(p["status"]["podIP"] for p in cluster.pods("app=blue") if p["metadata"]["name"] in picked)
    snap = connect(lab=NAME).snapshot(with_pod_networks=False)
    assert snap.proxy_mode == "ebpf"
    t = trace(snap, "demo/client", f"{node.ip}:{port}")
    head = next(h for h in t.hops if h.layer == "service" and h.candidate is None)
    assert head.key == "kube_proxy" and head.node == node.name and head.params["service"] == "demo/blue-np", t.to_text()
    assert ip in [c.ip for c in t.candidates] and sorted(c.ip for c in t.candidates) == blue_ips(cluster)
    assert "BPF" not in t.to_text() and "demo/blue-np" in t.to_text()
    cluster.kubectl("-n", "demo", "delete", "svc", "blue-np")


def test_the_host_reaches_cluster_ips_through_the_socket_lb(cluster):
    """``curl <ClusterIP>`` from this machine: the control plane's programs translate the host's
    sockets too, and the packet goes straight to a backend (no DNAT, no masquerade on the way)."""
    names = {p["metadata"]["name"] for p in cluster.pods("app=blue")}
    seen = collections.Counter()
    for _ in range(20):
        answer = curl_from_host(f"http://{cluster.cluster_ip}/")
        assert answer is not None
        seen[answer["pod"]] += 1
        assert answer["client_ip"] == cluster.lab.spec.gateway_ip      # the host's own address
    assert set(seen) <= names and len(seen) > 1, seen
    dns = subprocess.run(["dig", "+short", "+time=2", "+tries=1", "@" + cluster.lab.spec.dns_ip,
                          "kubernetes.default.svc.cluster.local"], capture_output=True, text=True).stdout
    kubernetes = json.loads(cluster.kubectl("get", "svc", "kubernetes", "-o", "json").stdout)["spec"]["clusterIP"]
    assert dns.split() == [kubernetes], dns       # UDP too: the answer comes back from 10.96.0.10 (recvmsg4)


def test_a_stopped_agent_keeps_serving_and_programs_nothing_new(cluster):
    """cilium-agent dies on a node: its maps keep translating; a new Service is not in them until
    it is back (the other nodes get it at once)."""
    c = connect(lab=NAME)
    node = cluster.pods("run=client")[0]["spec"]["nodeName"]
    others = [n.name for n in cluster.lab.spec.node_plans() if n.name != node]
    agents.stop(c, node)
    try:
        assert not agents.running(c, node)
        short = node.removeprefix(f"{NAME}-")
        printed = labkit("service-proxy", "status", "--name", NAME, "--node", short, check=True).stdout
        assert "stopped" in printed and node in printed
        assert sum(answered_by(cluster, 6).values()) == 6                 # the old Service still works
        cluster.kubectl("-n", "demo", "expose", "deployment", "blue", "--name=late", "--port=8080",
                        "--target-port=80")
        late = json.loads(cluster.kubectl("-n", "demo", "get", "svc", "late", "-o", "json").stdout)["spec"]["clusterIP"]
        frontends = lambda n: {f.address for f in sock_lb.node_table(NAME, n)}   # noqa: E731
        for other in others:
            cluster.wait(lambda o=other: frontends(o), lambda f: late in f)
        assert late not in frontends(node)
        assert not answered_by(cluster, 1, f"http://{late}:8080")           # not translated on the dead node
    finally:
        agents.start(c, node)
    assert agents.running(c, node)
    cluster.wait(lambda: frontends(node), lambda f: late in f)
    assert sum(answered_by(cluster, 3, f"http://{late}:8080").values()) == 3
    cluster.kubectl("-n", "demo", "delete", "svc", "late")
    c.close()


def test_the_live_comparison_measures_non_zero_figures(cluster):
    figures = compare.measure(NAME, rounds=3)
    assert figures.proxy_mode == "ebpf" and figures.service_rules == 0
    assert all(v > 0 for v in figures.figures().values()), figures


def test_the_datapath_outlives_the_agent_and_teardown_leaves_nothing(cluster):
    progs = {sock_lb.prog_id(sock_lb.node_pins(NAME, n.name) / p)
             for n in cluster.lab.spec.node_plans() for p in sock_lb.PROGRAMS}
    maps = {m["id"] for m in bpftool_json("map", "show") if m.get("name", "").startswith(("lb4_", "lab_netns"))}
    maps &= {i for p in progs for i in bpftool_json("prog", "show", "id", str(p)).get("map_ids", [])}
    assert progs and None not in progs and maps
    os.kill(int((lab_dir(NAME) / "daemon.pid").read_text()), signal.SIGKILL)   # the agent dies
    # the pods' echo servers lived in the daemon: a plain HTTP server in every backend instead
    pods = {p.ip: p.netns for p in LabState.load(NAME).pods.values()}
    for ip in blue_ips_from_map(cluster):
        subprocess.Popen(["ip", "netns", "exec", pods[ip], "python3", "-m", "http.server", "80",
                          "--bind", ip, "--directory", "/nonexistent"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    client = cluster.lab.spec.pod_netns("demo", "client")
    curl = ["ip", "netns", "exec", client, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
            "-m", "2", f"http://{cluster.cluster_ip}/"]
    status = lambda: subprocess.run(curl, capture_output=True, text=True).stdout   # noqa: E731
    cluster.wait(status, lambda code: code == "404")       # the ClusterIP is still translated
    lifecycle.down(NAME)
    assert not sock_lb.lab_pins(NAME).exists()
    assert not progs & {p["id"] for p in bpftool_json("prog", "show")}
    # a program's id goes at once, but it lets go of its maps only in its deferred free, after an
    # RCU grace period (kernel/bpf/core.c bpf_prog_free_deferred -> bpf_free_used_maps): the
    # maps' ids may outlive down() briefly (seen once in CI)
    cluster.wait(lambda: maps & {m["id"] for m in bpftool_json("map", "show")}, lambda left: not left)
    assert not progs & {p["id"] for p in bpftool_json("cgroup", "show", sock_lb.cgroup2_root())}


def blue_ips_from_map(cluster):
    return backends(cluster, cluster.lab.spec.node_plans()[0].name)
