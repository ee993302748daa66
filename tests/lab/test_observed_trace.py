"""The kernel's own trace of a real packet (nft monitor trace) against the predicted trace.

Matrix: (kindnet, iptables) and (flannel, nftables) × destination kind (pod, ClusterIP, NodePort
on the client's node and on another node, hairpin). Each observed trace must name the predicted
KUBE-SVC/KUBE-SEP (or service-/endpoint-) chains of the endpoint that answered, every node's
``nft -s list ruleset`` must be unchanged afterwards, and a rule removed by hand must show up as a
difference. Also: captures along the path, and nothing left after an interrupted run.
"""
import importlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import labkit
from labkit import kernel_trace
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec
from labkit.observed_trace import predicted_chains, specific

from .helpers import labkit as labkit_cli

capture_mod = importlib.import_module("labkit.capture")   # labkit.capture is the function


@pytest.fixture(scope="module", params=[("kindnet", "iptables"), ("flannel", "nftables"), ("bridge", "nftables")], ids=lambda p: "-".join(p))
def lab(request, tmp_path_factory):
    cni, mode = request.param
    name = "tob" + cni[:4]
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, cni=cni, proxy_mode=mode, host_routes=False))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp("h")), KUBECONFIG=str(kubeconfig_file(name)))
    k = lambda *a: subprocess.run([shutil.which("kubectl"), *a], env=env, check=True, capture_output=True, text=True)
    k("create", "namespace", "demo")
    k("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
    k("-n", "demo", "expose", "deployment", "blue", "--port=80", "--type=NodePort")
    k("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--port=80", "--", "sleep", "infinity")
    k("-n", "demo", "expose", "pod", "client", "--port=80", "--name=self")
    lab = EmbeddedLab(name)
    deadline = time.monotonic() + 30
    while not _ready(name):
        assert time.monotonic() < deadline, "the lab's pods and Services did not settle"
        time.sleep(0.2)
    lab.kubectl = k
    yield lab
    lifecycle.down(name)


def _ready(name: str) -> bool:
    snap = labkit.connect(lab=name).snapshot()
    pods = [p for p in snap.pods if p["metadata"]["namespace"] == "demo" and (p.get("status") or {}).get("podIP")]
    try:
        blue = labkit.trace(snap, "demo/client", "demo/blue:80")
        self_ = labkit.trace(snap, "demo/client", "demo/self:80")
    except labkit.LabkitError:
        return False
    return len(pods) == 4 and len(blue.candidates) == 3 and len(self_.candidates) == 1


def _node_port(lab) -> int:
    snap = labkit.connect(lab=lab.name).snapshot()
    svc = next(s for s in snap.services if s["metadata"]["name"] == "blue")
    return int(svc["spec"]["ports"][0]["nodePort"])


def _destinations(lab) -> dict[str, str]:
    client = lab.pod("demo/client")
    nodes = {n.name: n.ip for n in lab.spec.node_plans()}
    other = next(n for n in nodes if n != client["node"])
    remote_blue = next(p for p in lab.pods() if p["name"].startswith("blue") and p["node"] != client["node"])
    port = _node_port(lab)
    return {"pod": f"demo/{remote_blue['name']}:80", "clusterip": "demo/blue:80",
            "nodeport-local": f"{nodes[client['node']]}:{port}", "nodeport-remote": f"{nodes[other]}:{port}",
            "hairpin": "demo/self:80"}


@pytest.mark.parametrize("kind", ["pod", "clusterip", "nodeport-local", "nodeport-remote", "hairpin"])
def test_observed_rules_contain_the_predicted_chains_of_the_endpoint_that_answered(lab, kind):
    result = labkit.trace(lab.name, "demo/client", _destinations(lab)[kind], observe=True)
    obs = result.observed
    assert obs.answer is not None, result.to_text()
    assert result.ok, result.to_text()
    assert not obs.leftover_nodes
    targets = [c.target for c in result.predicted.candidates]
    n = targets.index(obs.endpoint)
    wanted = [c for c in predicted_chains(result.predicted, n) if specific(c)]
    if kind == "pod":
        assert wanted == [] and not any(specific(c) for c in obs.chains)
    else:
        sep = "KUBE-SEP-" if lab.spec.proxy_mode == "iptables" else "endpoint-"
        assert any(c.startswith(sep) for c in wanted) and set(wanted) <= set(obs.chains), result.to_text()
        assert any(r.verdict == "accept" and "DNAT" in r.shown.upper() for p in obs.packets for r in p.rules)
    if lab.spec.proxy_mode == "iptables" and kind == "clusterip":      # iptables-nft rules get their comment back
        assert any('--comment "demo/blue' in r.shown for p in obs.packets for r in p.rules)


def test_cli_prints_the_observed_part_and_the_same_rulesets_after(lab):
    before = {n.name: lab.node_exec(n.name, ["nft", "-s", "list", "ruleset"]).stdout for n in lab.spec.node_plans()}
    out = labkit_cli("trace", "demo/client", "demo/blue:80", "--name", lab.name, "--observe")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Observed by the kernel" in out.stdout
    assert ("KUBE-SEP-" if lab.spec.proxy_mode == "iptables" else "endpoint-") in out.stdout.split("Observed by")[1]
    after = {n.name: lab.node_exec(n.name, ["nft", "-s", "list", "ruleset"]).stdout for n in lab.spec.node_plans()}
    assert after == before


def test_capture_shows_the_dnat_point_and_the_same_source_ip_between_pods(lab):
    cap = labkit.capture(lab.name, "demo/client", "demo/blue:80")
    client = lab.pod("demo/client")
    syn = [r for r in cap.rows if r.forward and r.seen.flags == "S"]
    assert syn and all(r.seen.src.startswith(client["ip"] + ":") for r in syn), cap.to_text(all_packets=True)
    first_dnat = next(i for i, r in enumerate(syn) if ("dnat", {}) in r.notes)
    assert syn[0].seen.dst.startswith("10.96.") and syn[first_dnat].seen.where == client["node"]
    assert all(not r.seen.dst.startswith("10.96.") for r in syn[first_dnat:])
    remote = next(p for p in lab.pods() if p["name"].startswith("blue") and p["node"] != client["node"])
    pod_cap = labkit.capture(lab.name, "demo/client", f"demo/{remote['name']}:80")
    syn = [r for r in pod_cap.rows if r.forward and r.seen.flags == "S"]
    wheres = {r.seen.where for r in syn}
    assert {client["node"], remote["node"], "demo/client", f"demo/{remote['name']}"} <= wheres
    assert {r.seen.src for r in syn} == {f"{client['ip']}:{pod_cap.sport}"}           # no NAT between pods
    assert {r.seen.dst for r in syn} == {f"{remote['ip']}:80"}
    vxlan = [r for r in syn if r.seen.vni is not None]
    if lab.spec.cni == "flannel":
        nodes = {n.name: n.ip for n in lab.spec.node_plans()}
        assert vxlan and {(r.seen.outer_src.split(":")[0], r.seen.outer_dst.split(":")[0]) for r in vxlan} == {
            (nodes[client["node"]], nodes[remote["node"]])}
        assert all(r.seen.vni == 1 and r.seen.outer_dst.endswith(":8472") for r in vxlan)
    else:
        assert not vxlan


def _our_processes(lab_name: str, word: str) -> list[str]:
    """Processes running ``word`` inside one of the lab's network namespaces (nsenter has exec'd the
    tool by then, so the namespace, not the command line, says where a process runs)."""
    inodes = {os.stat(f"/run/netns/{n}").st_ino for n in os.listdir("/run/netns") if n.startswith(lab_name + "-")}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            net = os.stat(proc / "ns" / "net").st_ino
        except OSError:
            continue
        if net in inodes and word in cmd:
            found.append(cmd)
    return found


def test_nothing_is_left_after_an_interrupted_trace_or_capture(lab, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(kernel_trace, "client_argv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        labkit.trace(lab.name, "demo/client", "demo/blue:80", observe=True)
    monkeypatch.setattr(capture_mod, "parse_answer", interrupted)
    with pytest.raises(KeyboardInterrupt):
        labkit.capture(lab.name, "demo/client", "demo/blue:80")
    for n in lab.spec.node_plans():
        assert "labkit-trace" not in lab.node_exec(n.name, ["nft", "list", "tables"]).stdout
    assert _our_processes(lab.name, "nft -a monitor") == [] and _our_processes(lab.name, "tcpdump") == []


KILLED = """
import subprocess, sys, time
import labkit
real = subprocess.run
def slow(*a, **k):
    argv = a[0] if a else k.get("args")
    if argv and "nc" in argv and ("-N" in argv or "-T" in argv):
        print("READY", flush=True)
        time.sleep(120)
    return real(*a, **k)
subprocess.run = slow   # labkit.nodes.LabNetns.call looks it up in the module: trace's and capture's
if sys.argv[2] == "capture":
    labkit.capture(sys.argv[1], "demo/client", "demo/blue:80")
else:
    labkit.trace(sys.argv[1], "demo/client", "demo/blue:80", observe=True)
"""


@pytest.mark.parametrize("what", ["capture", "trace"])
def test_a_killed_run_leaves_no_process_and_the_next_trace_sweeps_its_table(lab, what, tmp_path):
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, str(script), lab.name, what], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "READY"
        assert _our_processes(lab.name, "tcpdump" if what == "capture" else "nft -a monitor")
    finally:
        proc.kill()                                   # SIGKILL: no finally runs in labkit
        proc.wait()
    deadline = time.monotonic() + 10                  # PR_SET_PDEATHSIG: the kernel ends the children
    while _our_processes(lab.name, "tcpdump") or _our_processes(lab.name, "nft -a monitor"):
        assert time.monotonic() < deadline, "a capture or monitor process outlived labkit"
        time.sleep(0.1)
    if what == "trace":
        tables = {n.name: lab.node_exec(n.name, ["nft", "list", "tables"]).stdout for n in lab.spec.node_plans()}
        assert any("labkit-trace-" in t for t in tables.values())      # left by the killed run...
        assert labkit.trace(lab.name, "demo/client", "demo/blue:80", observe=True).ok
        for n in lab.spec.node_plans():                                 # ...and swept by the next one
            assert "labkit-trace-" not in lab.node_exec(n.name, ["nft", "list", "tables"]).stdout


# Last for each lab: the rule it removes stays removed (kube-proxy only rewrites on a change).
def test_a_rule_removed_by_hand_is_reported_as_a_difference(lab):
    snap = labkit.connect(lab=lab.name).snapshot()
    predicted = labkit.trace(snap, "demo/client", "demo/blue:80")
    node = lab.pod("demo/client")["node"]
    if lab.spec.proxy_mode == "iptables":
        rule = next(l for l in lab.node_exec(node, ["iptables-save", "-t", "nat"]).stdout.splitlines()
                    if l.startswith("-A KUBE-SERVICES") and "demo/blue cluster IP" in l)
        subprocess.run(["ip", "netns", "exec", node, "iptables", "-t", "nat", "-D", *shlex.split(rule)[1:]], check=True)
        gone = next(c for c in predicted.chains if c.startswith("KUBE-SVC-"))
    else:
        element = f"{predicted.ip} . tcp . {predicted.port}"
        subprocess.run(["ip", "netns", "exec", node, "nft", "delete", "element", "ip", "kube-proxy", "service-ips",
                        "{", element, "}"], check=True)
        gone = next(c for c in predicted.chains if c.startswith("service-"))
    result = kernel_trace.observe(lab.name, predicted)
    assert not result.ok
    assert ("missing", gone) in {(d.key, d.params.get("chain")) for d in result.differences}, result.to_text()
    assert gone in result.to_text() and "≠" in result.to_text()
