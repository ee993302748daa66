"""An ordinary user observes the kernel through the lab's API: observed traces, captures, a UDP flow
and its conntrack entry, the Service matrix; on the three flavor × proxy-mode pairs that
``test_observed_trace.py`` does not run (together: all six), and on the calico flavor (BGP-learned
routes, proxy-ARP gateway, ``cali`` veths).

The user is ``nobody`` with only a copy of the kubeconfig: no namespace, no control socket. One
script per lab runs everything as that user (``USER_SCRIPT``) and prints JSON; the tests assert on
it, and root checks what the user cannot: every node's ``nft -s list ruleset`` is unchanged and no
tcpdump or ``nft monitor`` is left in the lab's namespaces.

The user's Python must be runnable by ``nobody``: this interpreter, or ``LABKIT_USER_PYTHON`` (for
example a venv of Debian's ``/usr/bin/python3`` with ``pip install -e .`` when this one lives under
``/root``, mode 700).
"""
from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

from .helpers import ROOT, eventually, settled

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
USER_PYTHON = os.environ.get("LABKIT_USER_PYTHON") or sys.executable
UDP_DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "udp", "namespace": "demo"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "udp"}}, "template": {
        "metadata": {"labels": {"app": "udp"}},
        "spec": {"containers": [{"name": "echo", "image": "jpetazzo/color",
                                 "ports": [{"containerPort": 5353, "protocol": "UDP"}]}]}}}}

USER_SCRIPT = r'''
import json, os, sys
import labkit
from labkit import kernel_trace, nodes
from labkit.flowreq import FLOW_PATH
from labkit.observed_trace import predicted_chains, specific

cluster = labkit.connect()                       # KUBECONFIG: the user's copy
snap = cluster.snapshot()
out = {"uid": os.getuid(), "via_api": cluster.via_api, "traces": {}, "captures": {}}
pods = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p for p in snap.pods}
client = pods["demo/client"]
client_node = client["spec"]["nodeName"]
node_ip = {n.name: n.internal_ip for n in snap.nodes}
other = next(n for n in sorted(node_ip) if n != client_node)
remote_blue = next(k for k, p in sorted(pods.items()) if k.startswith("demo/blue") and p["spec"]["nodeName"] != client_node)
np = next(s for s in snap.services if s["metadata"]["name"] == "blue")["spec"]["ports"][0]["nodePort"]
dests = {"pod": f"{remote_blue}:80", "clusterip": "demo/blue:80", "nodeport-local": f"{node_ip[client_node]}:{np}",
         "nodeport-remote": f"{node_ip[other]}:{np}", "hairpin": "demo/self:80"}
for kind, dst in dests.items():
    predicted = labkit.trace(snap, "demo/client", dst)
    result = kernel_trace.observe(cluster, predicted)
    obs = result.observed
    targets = [c.target for c in predicted.candidates]
    wanted = [c for c in predicted_chains(predicted, targets.index(obs.endpoint)) if specific(c)] if obs.endpoint in targets else None
    out["traces"][kind] = {"ok": result.ok, "endpoint": obs.endpoint, "chains": obs.chains, "wanted": wanted,
                           "leftover": obs.leftover_nodes, "text": result.to_text(),
                           "dnat": any(r.verdict == "accept" and "DNAT" in r.shown.upper() for p in obs.packets for r in p.rules)}
udp_predicted = labkit.trace(snap, "demo/client", "demo/udp:53", protocol="udp")
udp = kernel_trace.observe(cluster, udp_predicted, timeout=2)
ct = cluster.node(client_node).run(["conntrack", "-L"])
sport = (udp.observed.answer or {}).get("client_port")
out["udp"] = {"ok": udp.ok, "endpoint": udp.observed.endpoint, "chains": udp.observed.chains, "text": udp.to_text(),
              "answer": udp.observed.answer, "leftover": udp.observed.leftover_nodes, "cluster_ip": udp_predicted.ip,
              "conntrack": [l for l in ct.splitlines() if l.startswith("udp") and f"sport={sport} " in l]}
for kind, dst in (("clusterip", "demo/blue:80"), ("pod", dests["pod"]), ("udp", "demo/udp:53")):
    cap = labkit.capture(snap, "demo/client", dst, protocol="udp" if kind == "udp" else "tcp")
    out["captures"][kind] = {**cap.to_dict(), "svg": cap.draw("en").svg}
refusals = {}
for name, query in (("off-lab", [("pod", "demo/client"), ("ip", "8.8.8.8"), ("port", "53"), ("protocol", "udp")]),
                    ("shell", [("pod", "demo/client;id"), ("ip", "10.96.0.10"), ("port", "53")])):
    code, body = nodes.api_call(cluster.api, "POST", FLOW_PATH.replace("{node}", client_node).replace("{what}", "trace"), query)
    refusals[name] = [code, json.loads(body)]
out["refusals"] = refusals
if sys.argv[1] == "matrix":
    matrix = labkit.service_reachability(cluster, namespaces="demo", timeout=1)
    out["matrix"] = {"ok": matrix.ok, "cells": len(matrix.cells),
                     "open": sum(1 for c in matrix.cells.values() if c.observed), "text": matrix.to_text()}
print(json.dumps(out))
'''


def _ready(name: str) -> bool:
    snap = labkit.connect(lab=name).snapshot()
    pods = [p for p in snap.pods if p["metadata"]["namespace"] == "demo" and (p.get("status") or {}).get("podIP")]
    try:
        counts = [len(labkit.trace(snap, "demo/client", d, protocol=p).candidates)
                  for d, p in (("demo/blue:80", "tcp"), ("demo/self:80", "tcp"), ("demo/udp:53", "udp"))]
    except labkit.LabkitError:
        return False
    return len(pods) == 6 and counts == [3, 1, 2]


def _lab_processes(lab_name: str) -> list[str]:
    """tcpdump or nft monitor processes inside one of the lab's network namespaces."""
    inodes = {os.stat(f"/run/netns/{n}").st_ino for n in os.listdir("/run/netns") if n.startswith(lab_name + "-")}
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            ours = "tcpdump" in cmd or (cmd.startswith("nft ") and "monitor" in cmd)   # not the daemon's ip monitor
            if os.stat(proc / "ns" / "net").st_ino in inodes and ours:
                found.append(cmd)
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture(scope="module", params=[("kindnet", "nftables"), ("flannel", "iptables"), ("bridge", "iptables"),
                        ("calico", "iptables")],
                ids=lambda p: "-".join(p))
def run(request):
    """One lab, the user's script run once as ``nobody``: (lab, its JSON, rulesets before, after)."""
    usable = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", USER_PYTHON, "-c",
                             "import labkit, kubernetes, scapy"], capture_output=True, text=True, cwd="/",
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if usable.returncode != 0:
        pytest.skip(f"nobody cannot run {USER_PYTHON} with labkit (set LABKIT_USER_PYTHON to a venv of "
                    f"/usr/bin/python3): {usable.stderr.strip()[-120:]}")
    cni, mode = request.param
    name = f"tu{cni[:4]}{mode[:2]}"
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, cni=cni, proxy_mode=mode, host_routes=False))
    home = Path(tempfile.mkdtemp(prefix="labkit-nobody-"))
    try:
        env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(name)))
        k = lambda *a, **kw: subprocess.run([KUBECTL, *a], env=env, check=True, capture_output=True, text=True, **kw)
        k("create", "namespace", "demo")
        k("-n", "demo", "create", "deployment", "blue", "--image=jpetazzo/color", "--replicas=3")
        k("-n", "demo", "expose", "deployment", "blue", "--port=80", "--type=NodePort")
        k("-n", "demo", "run", "client", "--image=nicolaka/netshoot", "--port=80", "--", "sleep", "infinity")
        k("-n", "demo", "expose", "pod", "client", "--port=80", "--name=self")
        k("apply", "-f", "-", input=json.dumps(UDP_DEPLOYMENT))
        k("-n", "demo", "expose", "deployment", "udp", "--port=53", "--target-port=5353", "--protocol=UDP")
        k("-n", "demo", "create", "service", "clusterip", "empty", "--tcp=80:80")     # no endpoint: closed
        eventually(lambda: _ready(name), bool, "the lab's pods and Services did not settle")
        user = pwd.getpwnam("nobody")
        copy = home / ".kube" / f"labkit-{name}.yaml"
        copy.parent.mkdir(exist_ok=True)          # kubectl above left its cache there
        shutil.copyfile(kubeconfig_file(name), copy)
        for path in (home, copy.parent, copy):
            os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(copy, 0o600)
        lab = EmbeddedLab(name)
        rulesets = lambda: {n.name: lab.node_exec(n.name, ["nft", "-s", "list", "ruleset"]).stdout
                            for n in lab.spec.node_plans()}
        # kube-proxy and the policy enforcer sync a moment after the API shows the pods and
        # Services (_ready); on a loaded machine, after the last kubectl above (the endpoint-less
        # Service's reject rule came after the first reference in the CI). The reference is the
        # rulesets once every Service is in every node's rules and nothing changes any more.
        ips = [s["spec"]["clusterIP"] for s in labkit.connect(lab=name).snapshot().services
               if s["metadata"]["namespace"] == "demo"]
        eventually(rulesets, lambda r: all(f"{ip} " in text for text in r.values() for ip in ips),
                   "every Service in every node's rules")
        before = settled(rulesets, "the nodes' rulesets")
        script = home / "observe.py"
        script.write_text(USER_SCRIPT)
        os.chown(script, user.pw_uid, user.pw_gid)
        proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", USER_PYTHON,
                               str(script), "matrix" if cni == "kindnet" else "-"], capture_output=True, text=True,
                              cwd="/", timeout=240, env={"HOME": str(home), "KUBECONFIG": str(copy),
                                                         "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT),
                                                         "LABKIT_LANG": "en"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        yield lab, json.loads(proc.stdout), before, rulesets()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        lifecycle.down(name)


def test_the_user_is_not_root_and_reads_the_kernel_through_the_api(run):
    lab, out, _, _ = run
    assert out["uid"] != 0 and out["via_api"]


@pytest.mark.parametrize("kind", ["pod", "clusterip", "nodeport-local", "nodeport-remote", "hairpin"])
def test_observed_rules_name_the_chains_of_the_endpoint_that_answered(run, kind):
    lab, out, _, _ = run
    t = out["traces"][kind]
    assert t["endpoint"] and t["ok"], t["text"]
    if kind == "pod":
        assert t["wanted"] == [] and not t["dnat"]
    else:
        sep = "KUBE-SEP-" if lab.spec.proxy_mode == "iptables" else "endpoint-"
        assert any(c.startswith(sep) for c in t["wanted"]) and set(t["wanted"]) <= set(t["chains"]), t["text"]
        assert t["dnat"], t["text"]


def test_a_udp_flow_through_a_cluster_ip_hits_the_service_rules_and_leaves_a_conntrack_entry(run):
    lab, out, _, _ = run
    udp = out["udp"]
    assert udp["ok"] and udp["answer"], udp["text"]
    svc = "KUBE-SVC-" if lab.spec.proxy_mode == "iptables" else "service-"
    assert any(c.startswith(svc) for c in udp["chains"]), udp["text"]
    pod_ip, port = udp["endpoint"].split(":")
    client, sport = lab.pod("demo/client")["ip"], str(udp["answer"]["client_port"])
    assert port == "5353" and len(udp["conntrack"]) == 1, udp["conntrack"]
    fields = re.findall(r"\b(src|dst|sport|dport)=(\S+)", udp["conntrack"][0])
    original, reply = dict(fields[:4]), dict(fields[4:8])
    assert original == {"src": client, "dst": udp["cluster_ip"], "sport": sport, "dport": "53"}, udp["conntrack"]
    assert reply == {"src": pod_ip, "dst": client, "sport": "5353", "dport": sport}, udp["conntrack"]


def test_captures_show_the_addresses_at_each_point(run):
    lab, out, _, _ = run
    client = lab.pod("demo/client")
    cap = out["captures"]["clusterip"]
    syn = [p for p in cap["packets"] if p["src"].startswith(client["ip"] + ":") and p["flags"] == "S"]
    assert syn[0]["where"] == "demo/client" and syn[0]["dst"].startswith("10.96.")
    first_dnat = next(i for i, p in enumerate(syn) if "dnat" in p["notes"])
    assert syn[first_dnat]["where"] == client["node"]
    assert all(not p["dst"].startswith("10.96.") for p in syn[first_dnat:])
    pod = out["captures"]["pod"]
    forward = [p for p in pod["packets"] if p["flags"] == "S"]
    assert {p["src"] for p in forward} == {f"{client['ip']}:{pod['sport']}"}          # no NAT between pods
    vxlan = [p for p in forward if p["vni"] is not None]
    assert bool(vxlan) == (lab.spec.cni == "flannel")
    nodes = {n.name: n.ip for n in lab.spec.node_plans()}
    for p in vxlan:
        assert p["outer_src"].split(":")[0] == nodes[client["node"]] and p["outer_dst"].endswith(":8472")
    udp = out["captures"]["udp"]
    assert any("undnat" in p["notes"] for p in udp["packets"]) and udp["answer"]
    assert 'class="capture-point"' in cap["svg"] and 'data-nat="1"' in cap["svg"]     # drawn, DNAT marked


def test_bad_requests_are_refused_with_a_status_naming_the_field(run):
    _, out, _, _ = run
    code, status = out["refusals"]["off-lab"]
    assert code == 422 and status["kind"] == "Status" and [c["field"] for c in status["details"]["causes"]] == ["ip"]
    code, status = out["refusals"]["shell"]
    assert code == 422 and [c["field"] for c in status["details"]["causes"]] == ["pod"]


def test_nothing_is_left_in_the_nodes(run):
    lab, out, before, after = run
    assert after == before
    assert not any(t["leftover"] for t in out["traces"].values()) and not out["udp"]["leftover"]
    assert _lab_processes(lab.name) == []


def test_the_service_matrix_is_probed_through_the_api(run):
    lab, out, _, _ = run
    if "matrix" not in out:
        pytest.skip("the matrix runs on one lab of this module (kindnet), to keep it short")
    assert out["matrix"]["ok"], out["matrix"]["text"]
    assert 0 < out["matrix"]["open"] < out["matrix"]["cells"]             # the empty Service's column is closed
