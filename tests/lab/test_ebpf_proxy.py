"""``--service-proxy ebpf``: ClusterIPs served by a socket-level load balancer (BPF), no kube-proxy rule."""
import collections
import json
import os
import signal
import subprocess

import pytest

from labkit import compare
from labkit.cluster import connect
from labkit.trace import trace
from labkit.embedded import lifecycle, sock_lb
from labkit.embedded.paths import lab_dir
from labkit.embedded.state import LabState
from labkit.embedded.topology import LabSpec

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
        for text in (rules, ruleset):
            assert cluster.cluster_ip not in text and "KUBE-SVC" not in text and "kube-proxy" not in text
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
    assert not maps & {m["id"] for m in bpftool_json("map", "show")}
    assert not progs & {p["id"] for p in bpftool_json("cgroup", "show", sock_lb.cgroup2_root())}


def blue_ips_from_map(cluster):
    return backends(cluster, cluster.lab.spec.node_plans()[0].name)
