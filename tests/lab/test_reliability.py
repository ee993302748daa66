"""One bad object never stops the cluster, with real packets (issue 23).

Malformed objects are written into the lab's state while its daemon is stopped (the API refuses
them, an old state file may still hold them), then the daemon is restarted. The cluster must
keep working around them: a valid pod schedules and runs, a new deny-all is enforced, the policy
that cannot be compiled isolates what it selects (fail closed), and no string of a bad Service
reaches a node's ruleset (the rules equal those rendered for the cluster without it).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter

import pytest

from labkit.embedded import control, lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import control_socket, kubeconfig_file, lab_dir, pid_file
from labkit.embedded.proxy import node_context
from labkit.embedded.topology import LabSpec
from labkit.kubeproxy.iptables import render_iptables
from labkit.inspect.iptables_save import iptables_service_map, parse_iptables_save
from labkit.kubeproxy.manifests import from_objects

from .helpers import eventually

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NAME = "trel"
INJECTION = "a\n-I KUBE-SERVICES 1 -j RETURN\n-A KUBE-SERVICES -j RETURN"
BAD = {"inject", "dup"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, HOME=str(tmp_path_factory.mktemp("home")),
               KUBECONFIG=str(kubeconfig_file(NAME)))

    def kubectl(*args, input=None, check=True):
        proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True,
                              env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc
    yield kubectl
    lifecycle.down(NAME)


def pod_yaml(name: str, node: str) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: {name}}}}}\n"
            f"spec: {{nodeName: {NAME}-{node}, containers: [{{name: c, image: nginx, "
            f"ports: [{{containerPort: 80}}]}}]}}\n")


def running(kubectl, *names: str, timeout: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        items = json.loads(kubectl("get", "pods", "-o", "json").stdout)["items"]
        ips = {p["metadata"]["name"]: p["status"].get("podIP") for p in items
               if p["status"].get("phase") == "Running" and p["status"].get("podIP")}
        if all(n in ips for n in names):
            return ips
        assert time.monotonic() < deadline, f"not running: {set(names) - set(ips)}"
        time.sleep(0.2)


def stored(key: str, obj: dict) -> None:
    """Write ``obj`` as the store keeps it (the daemon is stopped)."""
    meta = obj["metadata"]
    meta.update(namespace="default", uid=f"bad-{meta['name']}", resourceVersion="1",
                creationTimestamp="2026-01-01T00:00:00Z")
    path = lab_dir(NAME) / "api" / "objects" / key / "default" / f"{meta['name']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def stop_daemon() -> None:
    pid = int(pid_file(NAME).read_text())
    control.call(control_socket(NAME), "shutdown", timeout=5.0)
    wait(lambda: not alive(pid), "the daemon to exit")


def alive(pid: int) -> bool:
    """Running (a daemon this process started stays a zombie until reaped: that is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def connects(lab: EmbeddedLab, src: str, ip: str) -> bool:
    return lab.exec(f"default/{src}", ["nc", "-z", "-w", "1", ip, "80"]).returncode == 0


def isolated(lab: EmbeddedLab, node: str, ip: str) -> bool:
    text = lab.node_exec(f"{NAME}-{node}", ["nft", "list", "set", "inet", "labkit-netpol",
                                            "ingress_isolated"]).stdout
    return ip in text


def warning(kubectl, name: str) -> list[dict]:
    items = json.loads(kubectl("get", "events", "-o", "json").stdout)["items"]
    return [e for e in items if e["involvedObject"]["name"] == name and e["type"] == "Warning"]


def wait(predicate, what: str):
    return eventually(predicate, bool, f"timed out waiting for {what}", interval=0.1)


def shape(text: str) -> tuple:
    """What a node's kube-proxy rules do, compared as kube-proxy's chains: the chains, their
    rule counts, and the service map they implement (options are normalized by the parser)."""
    dump = parse_iptables_save(text)
    counts = Counter({(t, c): len(r) for t, chains in dump.chains.items()
                      for c, r in chains.items() if c.startswith("KUBE-")})
    services = sorted(json.dumps(s, sort_keys=True) for s in iptables_service_map(dump).to_json()["services"])
    return counts, services


def test_bad_objects_in_the_state_do_not_stop_the_cluster(cluster):
    kubectl = cluster
    lab = EmbeddedLab(NAME)
    kubectl("apply", "-f", "-", input=pod_yaml("a", "worker") + "---\n" + pod_yaml("b", "worker2"))
    kubectl("create", "service", "clusterip", "good", "--tcp=80:80")
    kubectl("set", "selector", "service", "good", "app=a")
    running(kubectl, "a", "b")

    stop_daemon()
    stored("networking.k8s.io/networkpolicies", {
        "kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "bad"},
        "spec": {"podSelector": {"matchLabels": {"app": "a"}}, "ingress": [{"ports": [None]}]}})
    stored("core/pods", {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "broken"},
                         "spec": {"nodeSelector": ["a"], "containers": [{"name": "c", "image": "x"}]},
                         "status": {}})
    stored("core/services", {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "inject"},
                             "spec": {"clusterIP": "10.96.7.7", "ports": [{"name": INJECTION, "port": 80}]}})
    stored("core/services", {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "dup"},
                             "spec": {"clusterIP": "10.96.7.8", "ports": [{"name": "x", "port": 80},
                                                                           {"name": "x", "port": 81}]}})
    lifecycle.up(LabSpec(name=NAME))

    # the rest of the cluster works: a new pod schedules and runs, a new deny-all is enforced
    kubectl("apply", "-f", "-", input=pod_yaml("c", "worker2") + "---\n" + (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-b}\n"
        "spec: {podSelector: {matchLabels: {app: b}}}\n"))
    ips = running(kubectl, "a", "b", "c")
    wait(lambda: isolated(lab, "worker2", ips["b"]), "the deny-all in worker2's table")
    assert not connects(lab, "c", ips["b"])          # deny-all enforced
    wait(lambda: isolated(lab, "worker", ips["a"]), "the bad policy enforced closed")
    assert not connects(lab, "b", ips["a"])          # fail closed: what the bad policy selects
    assert connects(lab, "b", ips["c"])              # and nothing else
    assert wait(lambda: warning(kubectl, "bad"), "an event on the bad policy")[0]["reason"] == \
        "PolicyFailedClosed"
    assert wait(lambda: warning(kubectl, "broken"), "an event on the broken pod")

    # kube-proxy: the bad services are reported and skipped, a new service works after them
    wait(lambda: warning(kubectl, "inject") and warning(kubectl, "dup"), "kube-proxy's events")
    kubectl("create", "service", "clusterip", "after", "--tcp=80:80")
    kubectl("set", "selector", "service", "after", "app=c")
    svc_ip = json.loads(kubectl("get", "service", "after", "-o", "json").stdout)["spec"]["clusterIP"]
    wait(lambda: connects(lab, "b", svc_ip), "the new service answering")
    objs = [o for kind in ("services", "endpointslices")
            for o in json.loads(kubectl("get", kind, "-A", "-o", "json").stdout)["items"]
            if o["metadata"]["name"] not in BAD]
    spec = lab.spec
    for node in spec.node_plans():
        actual = "".join(lab.node_exec(node.name, ["iptables-save", "-t", t]).stdout
                         for t in ("nat", "filter"))
        assert "-A KUBE-SERVICES -j RETURN\n" not in actual     # what the injection would add
        expected = render_iptables(from_objects([("api", i, o) for i, o in enumerate(objs)],
                                                node_name=node.name), node_context(spec, node))
        assert shape(actual) == shape(expected), node.name


def test_a_daemon_killed_while_wiring_30_pods_finishes_them_after_a_restart(cluster):
    """Pod wiring is idempotent: the next daemon rolls back what was half-wired (write-ahead
    records), and the kubelet wires it again; no namespace is left over. The daemon is killed
    three times at points drawn from a fixed seed (a number of pod namespaces already there, then
    a delay of up to 50 ms into the next pod's wiring); a later point may fall while the previous
    restart is still recovering."""
    import random
    import signal

    from labkit.embedded.netns import list_netns
    from labkit.embedded.state import LabState

    kubectl = cluster
    rng = random.Random(23)
    points = sorted((rng.randint(1, 12), rng.uniform(0, 0.05)) for _ in range(3))
    kubectl("create", "deployment", "many", "--image=nginx", "--replicas=30", "--port=80")
    seen = []
    for wired, delay in points:
        def reached(wired=wired):
            pods = [n for n in list_netns() if n.startswith(f"{NAME}-pod-default-many")]
            return len(pods) >= wired and pods
        wait(reached, f"{wired} of the 30 pods being wired")
        time.sleep(delay)
        pid = int(pid_file(NAME).read_text())
        os.kill(pid, signal.SIGKILL)
        seen.append(len([n for n in list_netns() if n.startswith(f"{NAME}-pod-default-many")]))
        wait(lambda pid=pid: not alive(pid), "the daemon to die")
        lifecycle.up(LabSpec(name=NAME))
    print("killed with", seen, "pod namespaces of 30 at", points)   # namespaces come in batches

    def all_running():
        items = json.loads(kubectl("get", "pods", "-l", "app=many", "-o", "json").stdout)["items"]
        ok = [p for p in items if p["status"].get("phase") == "Running" and p["status"].get("podIP")]
        return ok if len(ok) == 30 and len(items) == 30 else None
    pods = wait(all_running, "the 30 pods running")
    lab = EmbeddedLab(NAME)
    node = lab.spec.node_plans()[1].name
    for pod in pods:
        ip = pod["status"]["podIP"]
        assert lab.node_exec(node, ["nc", "-z", "-w", "2", ip, "80"]).returncode == 0, ip
    # no orphan: the lab's pod namespaces are exactly those of its pods
    state = LabState.load(NAME)
    assert not [p for p in state.pods.values() if p.wiring]
    pod_netns = {n for n in list_netns() if n.startswith(f"{NAME}-pod-")}
    assert pod_netns == {p.netns for p in state.pods.values()}
    api_pods = json.loads(kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
    assert {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in api_pods
            if p["status"].get("phase") == "Running"} == set(state.pods)


def test_pods_processes_cannot_read_the_lab_state(cluster):
    """Pods share this machine's filesystem, but their processes (nobody by default, root when
    asked) run in a mount namespace where the lab's directory is gone: only the image tool sets
    are there, read-only. Root in a pod has a runtime's default capabilities: it cannot unmount
    the cover, and needs NET_ADMIN added for iptables, as on a real cluster."""
    kubectl = cluster
    root_pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: rootpeek}\nspec:\n  containers:\n"
                "  - {name: c, image: busybox, command: [sleep, '3600'],"
                " securityContext: {runAsUser: 0}}\n"
                "  - {name: admin, image: busybox, command: [sleep, '3600'],"
                " securityContext: {runAsUser: 0, capabilities: {add: [NET_ADMIN]}}}\n")
    kubectl("run", "peek", "--image=busybox", "--", "sleep", "3600")
    kubectl("apply", "-f", "-", input=root_pod)
    for pod in ("peek", "rootpeek"):
        wait(lambda: "Running" in kubectl("get", "pod", pod, "-o",
                                          "jsonpath={.status.phase}").stdout, f"{pod} running")
    root = f"/run/labkit/{NAME}"
    assert os.path.exists(f"{root}/state.json")                # there, on the host
    # the store's files: a log, and a snapshot once the log has grown (earlier tests of this
    # module restart the daemon and write enough to fold it: the generation is not always 0)
    journal = sorted(f"api/journal/{f}" for f in os.listdir(f"{root}/api/journal")
                     if f.startswith(("log-", "snapshot-")))
    assert any(f.startswith("api/journal/log-") for f in journal), journal
    for pod in ("peek", "rootpeek"):
        assert kubectl("exec", pod, "--", "id", "-u").stdout.strip() == (
            "65534" if pod == "peek" else "0")
        for path in ("state.json", "daemon.log", "kubeconfig", "api/token", "api/journal", *journal):
            proc = kubectl("exec", pod, "--", "cat", f"{root}/{path}", check=False)
            assert proc.returncode != 0 and "No such file" in proc.stderr + proc.stdout, (pod, path)
        assert kubectl("exec", pod, "--", "ls", root).stdout.split() == ["images"], pod
        proc = kubectl("exec", pod, "--", "touch", f"{root}/images/x", check=False)
        assert proc.returncode != 0, pod                             # the tool sets: read-only
        assert kubectl("exec", pod, "--", "echo", "tools work").stdout.strip() == "tools work"
    # root without CAP_SYS_ADMIN cannot lift the cover, nor reach the host's through pid 1
    assert kubectl("exec", "rootpeek", "--", "umount", "/run/labkit", check=False).returncode != 0
    proc = kubectl("exec", "rootpeek", "--", "ls", f"/proc/1/root{root}", check=False)
    assert proc.returncode != 0, proc.stdout
    # iptables needs NET_ADMIN: refused by the kernel in c, allowed in admin
    assert kubectl("exec", "rootpeek", "-c", "c", "--", "ip", "link", "set", "lo", "mtu", "9000",
                   check=False).returncode != 0
    kubectl("exec", "rootpeek", "-c", "admin", "--", "ip", "link", "set", "lo", "mtu", "9000")
    # the container's own process too (not only exec sessions): it sees no lab file either
    lab = EmbeddedLab(NAME)
    pids = [p for p in lab_pids(lab, "default/rootpeek")]
    assert pids and not any(os.path.exists(f"/proc/{pid}/root{root}/state.json") for pid in pids)


def lab_pids(lab: EmbeddedLab, pod: str) -> list[int]:
    from labkit.embedded.processes import netns_processes
    from labkit.embedded.state import LabState
    return netns_processes(LabState.load(NAME).pods[pod].netns)


def test_pods_cannot_open_connections_to_this_machine(cluster):
    """A service this machine listens on (all addresses) is not reachable from the lab's pods or
    nodes through the node network's gateway; the lab's own traffic is untouched."""
    import socket

    kubectl = cluster
    lab = EmbeddedLab(NAME)
    ips = running(kubectl, "c")          # c: no policy selects it (a is enforced closed)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen(8)
    port = str(listener.getsockname()[1])
    try:
        gateway = lab.spec.gateway_ip
        assert lab.exec("default/c", ["nc", "-z", "-w", "2", gateway, port]).returncode != 0
        node = lab.spec.node_plans()[2].name                 # c's node (worker2)
        assert lab.node_exec(node, ["nc", "-z", "-w", "2", gateway, port]).returncode != 0
        assert lab.node_exec(node, ["nc", "-z", "-w", "2", ips["c"], "80"]).returncode == 0
        # the guard is what refused them: the kernel counted them on its rules
        table = lab.node_exec(node, ["nft", "list", "table", "inet", "labkit-guard"]).stdout
        counts = [int(n) for n in re.findall(r"counter packets (\d+)", table)]
        assert len(counts) == 2 and all(c > 0 for c in counts), table
    finally:
        listener.close()


def _fuzz_cases():
    """The API fuzzer's request generator (tests/apiserver/test_reliability_fuzz.py), loaded by
    path so both suites mutate requests the same way."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "apiserver" / "test_reliability_fuzz.py"
    spec = importlib.util.spec_from_file_location("labkit_fuzz_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mutated_requests_against_the_real_data_plane(cluster):
    """The bounded fuzzer (fixed seed, 400 requests) against the lab's own API server with the
    real kube-proxy, policy enforcer and pod wiring behind it: no 5xx; afterwards a new pod runs
    and answers, and every node's rules and pod namespaces are those of what the API holds."""
    import base64
    import random
    from types import SimpleNamespace

    import yaml

    from labkit.embedded.netns import list_netns
    from labkit.embedded.state import LabState

    kubectl = cluster
    fuzz = _fuzz_cases()
    config = yaml.safe_load(kubeconfig_file(NAME).read_text())
    server = config["clusters"][0]["cluster"]["server"].removeprefix("https://")
    host, port = server.rsplit(":", 1)
    client = fuzz.Client(SimpleNamespace(server=SimpleNamespace(
        host=host, port=int(port), token=config["users"][0]["user"]["token"],
        ca_pem=base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))))
    rng = random.Random(fuzz.SEED + 1)
    fives, codes = [], Counter()
    for _ in range(400):
        method, path, raw, content_type = fuzz.case(rng)
        code, answer = client.request(method, path, raw, content_type)
        codes[code // 100] += 1
        if code >= 500:
            fives.append((method, path, raw[:200], content_type, code, answer))
    print("fuzz status classes:", dict(codes))
    assert not fives, fives[:5]
    assert codes[2] >= 20, codes              # enough got through for the data plane to act on

    # a new pod still schedules, runs and answers; a deny-all on it is still enforced
    lab = EmbeddedLab(NAME)
    kubectl("apply", "-f", "-", input=pod_yaml("postfuzz", "worker"))
    ips = running(kubectl, "postfuzz")
    node = lab.spec.node_plans()[2].name
    wait(lambda: lab.node_exec(node, ["nc", "-z", "-w", "2", ips["postfuzz"], "80"]).returncode
         == 0, "the new pod answering")
    # the data plane is what the API says: pod namespaces = the running pods, and each node's
    # kube-proxy rules = those rendered for the API's Services and EndpointSlices
    def settled():
        api_pods = json.loads(kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
        running_pods = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in api_pods
                        if p["status"].get("phase") == "Running"}
        state = LabState.load(NAME)
        netns = {n for n in list_netns() if n.startswith(f"{NAME}-pod-")}
        return (running_pods == set(state.pods) and netns == {p.netns for p in state.pods.values()}
                and not [p for p in state.pods.values() if p.wiring])
    wait(settled, "the pods wired to match the API")
    objs = [o for kind in ("services", "endpointslices")
            for o in json.loads(kubectl("get", kind, "-A", "-o", "json").stdout)["items"]
            if o["metadata"]["name"] not in BAD]
    for plan in lab.spec.node_plans():
        expected = render_iptables(from_objects([("api", i, o) for i, o in enumerate(objs)],
                                                node_name=plan.name), node_context(lab.spec, plan))

        def same(plan=plan, expected=expected):
            actual = "".join(lab.node_exec(plan.name, ["iptables-save", "-t", t]).stdout
                             for t in ("nat", "filter"))
            return shape(actual) == shape(expected)
        wait(same, f"{plan.name}'s rules to match the API")
