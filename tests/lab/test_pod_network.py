"""Real packets in each CNI flavor: pods, nodes and the host reach each other without NAT."""
import json
import subprocess
import time

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


def test_pod_to_node_without_nat(flavor_lab):
    """A listener in a node's namespace sees the pod's own address."""
    node = flavor_lab.spec.node("control-plane")
    server = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{node.netns}", "python3", "-c",
         "import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
         "s.bind(('0.0.0.0',9999));s.listen();c,a=s.accept();c.sendall(a[0].encode());c.close()"])
    try:
        time.sleep(0.3)
        proc = flavor_lab.exec("a", ["nc", "-w", "2", node.ip, "9999"], input="")
        assert proc.stdout.strip() == flavor_lab.pod("a")["ip"]
    finally:
        server.kill()
        server.wait()


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
