"""Real packets in each CNI flavor: pods reach each other without NAT, same-node pods of the
bridge flavors across cni0 at layer 2, and pods reach nodes masqueraded as the real daemons do."""
import json
import re
import subprocess
import time

import pytest

from labkit import nodes
from labkit.inspect.iproute import route_for

from .helpers import echo


def test_pod_to_pod_on_one_node_without_nat(flavor_lab):
    b = flavor_lab.pod("b")
    answer = echo(flavor_lab, "a", b["ip"])
    assert answer["pod"] == "b" and answer["pod_ip"] == b["ip"]
    assert answer["client_ip"] == flavor_lab.pod("a")["ip"]


def test_pod_to_pod_across_nodes_without_nat(flavor_lab):
    c = flavor_lab.pod("c")
    answer = echo(flavor_lab, "a", c["ip"])
    assert answer["node"] == c["node"] == f"{flavor_lab.name}-worker2"
    assert answer["client_ip"] == flavor_lab.pod("a")["ip"]
    back = echo(flavor_lab, "c", flavor_lab.pod("a")["ip"])
    assert back["client_ip"] == c["ip"]


def test_udp_echo_reports_the_client_pod(flavor_lab):
    a = flavor_lab.pod("a")
    proc = flavor_lab.exec("c", ["sh", "-c", f"echo hi | nc -u -w1 {a['ip']} 81"])
    answer = json.loads(proc.stdout.splitlines()[0])
    assert answer["protocol"] == "UDP" and answer["client_ip"] == flavor_lab.pod("c")["ip"]


def test_node_to_pod_sees_the_node_ip(flavor_lab):
    c = flavor_lab.pod("c")
    for node in ("control-plane", "worker", "worker2"):
        plan = flavor_lab.spec.node(node)
        proc = flavor_lab.node_exec(node, ["curl", "-s", "-m", "3", f"http://{c['ip']}/"])
        answer = json.loads(proc.stdout)
        if node == "worker2":   # the pod's own node talks from its gateway-side address
            assert answer["client_ip"] in (plan.ip, plan.pod_gateway)
        else:
            assert answer["client_ip"] in (plan.ip, plan.flannel_address)


def node_listener(lab, node: str):
    """A TCP server in a node's namespace that answers the client address it saw."""
    plan = lab.spec.node(node)
    server = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{plan.netns}", "python3", "-c",
         "import socket,sys;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
         "s.bind(('0.0.0.0',9999));s.listen();print('up',flush=True)\n"
         "while True:\n c,a=s.accept();c.sendall(a[0].encode());c.close()"],
        stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "up"
    return plan, server


# What a node sees from a pod of *another* node: kindnetd's ip-masq-agent exempts only the pod
# subnet (kind images/kindnetd/cmd/kindnetd/masq.go), flanneld --ip-masq masquerades pod traffic
# leaving the flannel network (flannel pkg/trafficmngr/iptables/iptables.go); plain bridge does not.
MASQUERADED_TO_NODES = {"kindnet": True, "flannel": True, "bridge": False}


def test_pod_to_node_source_address_as_the_real_daemon(flavor_lab):
    a = flavor_lab.pod("a")
    worker = flavor_lab.spec.node("worker")
    for node, expected in (("control-plane", worker.ip if MASQUERADED_TO_NODES[flavor_lab.spec.cni]
                            else a["ip"]), ("worker", a["ip"])):   # its own node: LOCAL, no NAT
        plan, server = node_listener(flavor_lab, node)
        try:
            proc = flavor_lab.exec("a", ["nc", "-w", "2", plan.ip, "9999"], input="")
            assert proc.stdout.strip() == expected, (node, proc.stdout, proc.stderr)
        finally:
            server.kill()
            server.wait()


def mac_of(lab, pod: str) -> str:
    return json.loads(lab.exec(pod, ["ip", "-j", "link", "show", "eth0"]).stdout)[0]["address"]


@pytest.fixture
def bridged(flavor_lab):
    if flavor_lab.spec.cni == "kindnet":
        pytest.skip("kindnet: ptp veths, no bridge (same-node pods are routed by the node)")
    return flavor_lab


def test_same_node_pods_are_switched_by_cni0(bridged):
    """Layer 2: TTL unchanged, the peer's own MAC in the ARP table, frames between the two MACs on cni0."""
    lab, b = bridged, bridged.pod("b")
    node = lab.spec.node("worker")
    assert lab.node_exec("worker", ["sysctl", "-n", "net.bridge.bridge-nf-call-iptables"]).stdout.strip() == "1"
    ping = lab.exec("a", ["ping", "-c", "1", "-W", "2", b["ip"]])
    assert re.search(r"ttl=64\b", ping.stdout), ping.stdout        # not decremented: no router
    neigh = json.loads(lab.exec("a", ["ip", "-j", "neigh", "show", b["ip"]]).stdout)
    assert [n["lladdr"] for n in neigh] == [mac_of(lab, "b")]
    capture = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{node.netns}", "tcpdump", "-i", "cni0", "-e", "-n", "-l",
         "-c", "1", "--immediate-mode", f"icmp and src host {lab.pod('a')['ip']} and dst host {b['ip']}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(50):                          # until tcpdump has seen one (it exits)
            lab.exec("a", ["ping", "-c", "1", "-W", "1", b["ip"]])
            if capture.poll() is not None:
                break
        out, _ = capture.communicate(timeout=10)
    finally:
        capture.kill()
    assert f"{mac_of(lab, 'a')} > {mac_of(lab, 'b')}" in out, out


def test_pod_to_pod_stays_nat_free_through_the_masquerade_rules(flavor_lab):
    """The masquerade chains never touch pod-to-pod traffic, same node or not."""
    for dst in ("b", "c"):
        assert echo(flavor_lab, "a", flavor_lab.pod(dst)["ip"])["client_ip"] == flavor_lab.pod("a")["ip"]


def test_host_reaches_pods_through_host_routes(flavor_lab):
    c = flavor_lab.pod("c")
    out = subprocess.run(["curl", "-s", "-m", "3", f"http://{c['ip']}/"], capture_output=True, text=True)
    assert json.loads(out.stdout)["client_ip"] == flavor_lab.spec.gateway_ip


def test_inspection_matches_the_flavor(flavor_lab):
    cni = flavor_lab.spec.cni
    worker = nodes.embedded_node(flavor_lab.name, "worker")
    ifaces = {i.name: i for i in nodes.interfaces(worker)}
    routes = nodes.routes(worker)
    a = flavor_lab.pod("a")
    worker2 = flavor_lab.spec.node("worker2")
    c_cidr = worker2.pod_cidr
    to_c = route_for(routes, flavor_lab.pod("c")["ip"])
    if cni == "kindnet":
        veth = ifaces[a["host_veth"]]
        assert veth.kind == "veth" and veth.ipv4()[0].cidr == f"{flavor_lab.spec.node('worker').pod_gateway}/32"
        assert route_for(routes, a["ip"]).dev == a["host_veth"]
        assert (to_c.dst, to_c.gateway, to_c.dev) == (c_cidr, worker2.ip, "eth0")
        assert "cni0" not in ifaces and "flannel.1" not in ifaces
    else:
        assert ifaces["cni0"].kind == "bridge" and ifaces[a["host_veth"]].master == "cni0"
    if cni == "bridge":
        assert (to_c.gateway, to_c.dev) == (worker2.ip, "eth0")
    if cni == "flannel":
        assert ifaces["flannel.1"].kind == "vxlan" and ifaces["flannel.1"].vxlan["port"] == 8472
        assert (to_c.gateway, to_c.dev, to_c.onlink) == (worker2.flannel_address, "flannel.1", True)
    pod_view = nodes.embedded_pod(flavor_lab.name, "default/a")
    pod_eth0 = next(i for i in nodes.interfaces(pod_view) if i.name == "eth0")
    assert pod_eth0.ipv4()[0].ip == a["ip"]
    assert pod_eth0.peer_index == ifaces[a["host_veth"]].index


def test_status_json_lists_nodes_and_pods(flavor_lab):
    from .helpers import labkit
    proc = labkit("status", "--name", flavor_lab.name, "--json", check=True)
    status = json.loads(proc.stdout)
    assert status["name"] == flavor_lab.name and status["cni"] == flavor_lab.spec.cni
    assert [n["name"] for n in status["nodes"]] == [
        f"{flavor_lab.name}-control-plane", f"{flavor_lab.name}-worker", f"{flavor_lab.name}-worker2"]
    assert {"name", "ip", "pod_cidr", "netns"} <= set(status["nodes"][0])
    assert sorted((p["name"], p["node"]) for p in status["pods"] if p["namespace"] == "default") == [
        ("a", f"{flavor_lab.name}-worker"), ("b", f"{flavor_lab.name}-worker"),
        ("c", f"{flavor_lab.name}-worker2")]
