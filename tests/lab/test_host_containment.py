"""The host side of a lab: nothing to a lab address leaves the machine; ClusterIPs answer from the host.

Every range a lab owns is routed into the lab or refused on this machine (``hostnet``). The proof
is a capture on the host's own uplink (the interface of its default route), filtered on the lab's
ranges, while packets are sent to an unused ClusterIP and to an unused address of every range:
it must see nothing, before and while ``labkit down`` runs, and after a crash. Without the
refusals, ``ip route get 10.96.0.99`` answered ``via <gateway> dev eth0``: these packets left.
We never send to an address that is not the lab's: after ``down`` we only compare the host's state.
"""
from __future__ import annotations

import collections
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from labkit.embedded import dataplane, hostnet, lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file, pid_file, state_file
from labkit.embedded.topology import LabSpec

from .helpers import host_state

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def uplinks() -> list[str]:
    """The host's own interfaces that lead off the machine (those of its default routes)."""
    routes = json.loads(subprocess.run(["ip", "-j", "route", "show", "default"], capture_output=True,
                                       text=True, check=True).stdout)
    return sorted({r["dev"] for r in routes if r.get("dev")})


@contextlib.contextmanager
def capture(spec: LabSpec):
    """tcpdump on every uplink, filtered on the lab's ranges; yields the list the packets land in."""
    nets = " or ".join(f"net {c}" for c in spec.networks().values())
    seen: list[str] = []
    procs = []
    for dev in uplinks():
        procs.append(subprocess.Popen(["tcpdump", "-l", "-n", "-i", dev, "--immediate-mode", nets],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:               # tcpdump says "listening on ..." once the filter is attached
        lines = [p.stderr.readline()]
        while lines[-1] and "listening" not in lines[-1]:
            lines.append(p.stderr.readline())
        assert "listening" in lines[-1], lines
    try:
        yield seen
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
            out, _ = p.communicate(timeout=10)
            seen += [l for l in out.splitlines() if l.strip()]


def unused_addresses(spec: LabSpec) -> dict[str, str]:
    """One address per range that nothing in the lab serves."""
    node_net = ipaddress.ip_network(spec.node_cidr)
    pod_net = ipaddress.ip_network(spec.pod_cidr)
    return {"node network": str(node_net[-2]),
            "pod CIDR": str(pod_net[(pod_net.num_addresses // 2) + 7]),     # no node has this /24
            "service CIDR": str(ipaddress.ip_network(spec.service_cidr)[999])}  # no Service has it


def route_get(ip: str) -> str:
    proc = subprocess.run(["ip", "route", "get", ip], capture_output=True, text=True)
    return (proc.stdout + proc.stderr).strip()


def send_to(ip: str) -> None:
    """A TCP connection attempt and a UDP datagram to ``ip`` (a lab address), errors expected."""
    with contextlib.suppress(OSError), socket.create_connection((ip, 80), timeout=0.5):
        pass
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", (ip, 9))


def kubectl(name: str, home, *args: str, input: str | None = None) -> str:
    env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(name)))
    proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, env=env, timeout=90)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def wait_for(what, predicate, tries=300):
    for _ in range(tries):
        value = what()
        if predicate(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"never true; last value: {value!r}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    name = "tcontain"
    lifecycle.down(name)
    before = host_state(name)
    spec, _ = lifecycle.up(LabSpec(name=name))
    home = tmp_path_factory.mktemp("home")
    kubectl(name, home, "create", "namespace", "demo")
    kubectl(name, home, "-n", "demo", "create", "deployment", "web", "--image=jpetazzo/color", "--replicas=3")
    kubectl(name, home, "-n", "demo", "expose", "deployment", "web", "--port=80")
    lab = EmbeddedLab(name)
    wait_for(lambda: [p for p in lab.pods() if p["name"].startswith("web-") and p.get("ip")],
             lambda pods: len(pods) == 3)
    yield spec, home, before
    lifecycle.down(name)
    assert host_state(name) == before


def test_lab_ranges_never_leave_through_the_uplink(lab):
    spec, _, _ = lab
    assert uplinks(), "this test needs a default route to watch"
    with capture(spec) as seen:
        for what, ip in unused_addresses(spec).items():
            assert not any(f"dev {u} " in route_get(ip) + " " for u in uplinks()), (what, route_get(ip))
            send_to(ip)
    assert seen == []
    for cidr in spec.networks().values():
        assert cidr in hostnet.lab_refusals(spec.name)


def test_host_curl_to_a_cluster_ip_balances_over_every_endpoint(lab):
    spec, home, _ = lab
    svc = json.loads(kubectl(spec.name, home, "-n", "demo", "get", "svc", "web", "-o", "json"))
    ip = svc["spec"]["clusterIP"]
    pods = {p["name"] for p in EmbeddedLab(spec.name).pods() if p["name"].startswith("web-")}
    seen = collections.Counter()
    for _ in range(200):
        out = subprocess.run(["curl", "-s", "-m", "2", f"http://{ip}/"], capture_output=True, text=True).stdout
        answer = json.loads(out)
        seen[answer["pod"]] += 1
        if set(seen) == pods:
            break
    assert set(seen) == pods, seen
    # the host is a client from outside the cluster: kube-proxy masquerades it, replies come back
    assert answer["client_ip"] != spec.gateway_ip


def test_host_resolves_services_with_the_documented_resolver_stanza(lab, tmp_path):
    spec, home, _ = lab
    ip = json.loads(kubectl(spec.name, home, "-n", "demo", "get", "svc", "web", "-o", "json"))["spec"]["clusterIP"]
    out = subprocess.run(["dig", "+short", f"@{spec.dns_ip}", "web.demo.svc.cluster.local"],
                         capture_output=True, text=True, timeout=30).stdout
    assert out.split() == [ip]
    # `labkit dns --resolv-conf` prints a resolv.conf; here it is bind-mounted in a private mount
    # namespace, never over the host's own resolver.
    conf = tmp_path / "resolv.conf"
    from labkit.cli.dns import resolv_conf
    conf.write_text(resolv_conf(spec))
    script = f"mount --bind {conf} /etc/resolv.conf && curl -s -m 3 http://web.demo.svc.cluster.local/"
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert json.loads(proc.stdout)["pod"].startswith("web-"), proc.stderr


def test_a_crashed_lab_stays_contained_and_down_then_restores_the_host(lab):
    spec, _, _ = lab
    name = "tcontainb"
    lifecycle.down(name)
    before = host_state(name)
    other, _ = lifecycle.up(LabSpec(name=name, nodes=1))
    assert set(other.networks().values()).isdisjoint(spec.networks().values())
    os.kill(int(pid_file(name).read_text()), signal.SIGKILL)      # the daemon crashes ...
    subprocess.run(["ip", "link", "del", other.host_link], check=True)   # ... and its host link goes
    state_file(name).unlink()
    with capture(other) as seen:
        for ip in unused_addresses(other).values():
            assert "unreachable" in route_get(ip) or "No route" in route_get(ip), route_get(ip)
            send_to(ip)
        node_ip = other.node_plans()[0].ip
        send_to(node_ip)
        lifecycle.down(name)
    assert seen == []
    assert host_state(name) == before


def test_refusals_are_in_before_the_lab_is_built_and_swept_when_building_fails(monkeypatch):
    name = "tcontainc"
    lifecycle.down(name)
    before = host_state(name)
    seen = {}

    def failing_build(spec):
        seen["routes"] = {ip: route_get(ip) for ip in unused_addresses(spec).values()}
        raise RuntimeError("build failed")
    monkeypatch.setattr(dataplane, "build", failing_build)
    with pytest.raises(RuntimeError):
        lifecycle.up(LabSpec(name=name, nodes=1))
    assert seen["routes"] and all("unreachable" in r or "No route" in r for r in seen["routes"].values()), seen
    assert host_state(name) == before


def test_no_host_routes_refuses_locally(tmp_path):
    name = "tcontaind"
    lifecycle.down(name)
    before = host_state(name)
    spec, _ = lifecycle.up(LabSpec(name=name, nodes=1, host_routes=False, node_cidr="172.31.198.0/24",
                                   pod_cidr="10.199.0.0/16", service_cidr="10.198.0.0/16"))
    try:
        assert sorted(hostnet.lab_refusals(name)) == sorted(spec.networks().values())
        with capture(spec) as seen:
            proc = subprocess.run(["curl", "-s", "-m", "3", f"http://{spec.dns_ip}/"], capture_output=True, text=True)
            assert proc.returncode == 7, (proc.returncode, proc.stderr)      # couldn't connect: refused here
            for ip in unused_addresses(spec).values():
                send_to(ip)
        assert seen == []
    finally:
        lifecycle.down(name)
    assert host_state(name) == before
