"""NetworkPolicies enforced with real packets in the embedded lab (kindnet flavor).

The upstream e2e model (namespaces x, y, z labelled ``ns=<name>``; pods a, b, c labelled
``pod=<name>``, serving 80 and 81 over TCP and UDP, ports named ``serve-<port>-<proto>``) is built
through kubectl; policies go through the official Python client. Each case reuses the engine
tests' transcription of ``network_policy.go`` (``netpol_model.policy``/``Truth``) and checks two
things: the probe's observed matrix equals the engine's prediction for the live cluster
(``result.ok``), and it equals upstream's truth table (``Truth.check``, self pairs ignored).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import labkit
from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "netpol"))
from netpol_model import Truth, policy  # noqa: E402

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
NS_LABEL = "kubernetes.io/metadata.name"
X_A, X_B, X_C, Y_A, Y_B, Z_A, Z_B = "x/a", "x/b", "x/c", "y/a", "y/b", "z/a", "z/b"
SERVED = [(80, "TCP"), (80, "UDP"), (81, "TCP"), (81, "UDP")]


def ns_is(name: str) -> dict:
    return {"matchLabels": {NS_LABEL: name}}


def pod_is(name: str) -> dict:
    return {"matchLabels": {"pod": name}}


def not_in(key: str, *values: str) -> dict:
    return {"matchExpressions": [{"key": key, "operator": "NotIn", "values": list(values)}]}


def model_yaml() -> str:
    """Namespaces and pods as ``kubectl apply`` reads them (``"y"`` quoted: YAML reads y as true)."""
    ports = ", ".join(f'{{name: serve-{n}-{p.lower()}, containerPort: {n}, protocol: {p}}}' for n, p in SERVED)
    docs = []
    for ns in "xyz":
        docs.append(f'apiVersion: v1\nkind: Namespace\nmetadata: {{name: "{ns}", labels: {{ns: "{ns}"}}}}\n')
        for pod in "abc":
            docs.append(f'apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod}, namespace: "{ns}", '
                        f'labels: {{pod: {pod}}}}}\nspec: {{containers: [{{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53, '
                        f'ports: [{ports}]}}]}}\n')
    return "---\n".join(docs)


class NetpolLab:
    """A running lab with the 3x3 model, and the steps the cases need."""

    def __init__(self, name: str, cni: str, home: Path) -> None:
        from kubernetes import client, config

        self.name = name
        lifecycle.down(name)
        lifecycle.up(LabSpec(name=name, cni=cni))
        self.lab = EmbeddedLab(name)
        self.env = dict(os.environ, HOME=str(home), KUBECONFIG=str(kubeconfig_file(name)))
        self.kubectl("apply", "-f", "-", input=model_yaml())
        self.pods = self.wait_running(9)
        api = config.new_client_from_config(config_file=str(kubeconfig_file(name)))
        self.net = client.NetworkingV1Api(api)
        self.core = client.CoreV1Api(api)

    def close(self) -> None:
        lifecycle.down(self.name)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, env=self.env,
                              timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc

    def wait_running(self, count: int, timeout: float = 90) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            items = [p for ns in "xyz" for p in json.loads(
                self.kubectl("-n", ns, "get", "pods", "-o", "json").stdout)["items"]]
            running = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p for p in items
                       if p["status"].get("phase") == "Running" and p["status"].get("podIP")}
            if len(running) == count:
                return running
            assert time.monotonic() < deadline, f"{len(running)}/{count} pods running"
            time.sleep(0.2)

    def ip(self, key: str) -> str:
        return self.pods[key]["status"]["podIP"]

    # -- steps --------------------------------------------------------------------------------
    def create(self, *policies: dict) -> None:
        for p in policies:
            self.net.create_namespaced_network_policy(p["metadata"]["namespace"], p)

    def update(self, p: dict) -> None:
        self.net.replace_namespaced_network_policy(p["metadata"]["name"], p["metadata"]["namespace"], p)

    def delete_all(self) -> None:
        for ns in "xyz":
            for p in self.net.list_namespaced_network_policy(ns).items:
                self.net.delete_namespaced_network_policy(p.metadata.name, ns)

    def label_pod(self, key: str, **labels: str | None) -> None:
        ns, name = key.split("/")
        self.kubectl("-n", ns, "label", "pod", name, "--overwrite",
                     *[f"{k}={v}" if v is not None else f"{k}-" for k, v in labels.items()])

    def label_namespace(self, ns: str, **labels: str | None) -> None:
        self.kubectl("label", "namespace", ns, "--overwrite",
                     *[f"{k}={v}" if v is not None else f"{k}-" for k, v in labels.items()])

    def probe(self, port: int = 80, protocol: str = "TCP"):
        return labkit.probe(self.name, port=port, protocol=protocol, namespaces="x,y,z", timeout=0.5, retries=3)

    def check(self, truth: Truth, port: int = 80, protocol: str = "TCP") -> None:
        result = self.probe(port, protocol)
        assert result.ok, result.to_table()
        truth.check(result)

    def rulesets(self) -> dict[str, str]:
        """Every node's policy table, without counters (``nft -s``)."""
        return {n.name: self.lab.node_exec(n.name, ["nft", "-s", "list", "table", "inet", "labkit-netpol"]).stdout
                for n in self.lab.spec.node_plans()}

    def connects(self, src: str, ip: str, port: int = 80, timeout: int = 1) -> bool:
        return self.lab.exec(src, ["nc", "-z", "-w", str(timeout), ip, str(port)]).returncode == 0


def lab_name(prefix: str) -> str:
    """``prefix`` + this process's id in base 36 (at most 10 characters): two test runs at once
    (engineers share the machine) never sweep each other's lab."""
    n, digits = os.getpid(), ""
    while n:
        n, r = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
    return (prefix + digits)[:10]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = NetpolLab(lab_name("tnpk"), "kindnet", tmp_path_factory.mktemp("kubectl-home"))
    yield lab
    lab.close()


@pytest.fixture(autouse=True)
def no_policies(lab):
    lab.delete_all()
    yield
    lab.delete_all()


# --- upstream cases: (policies, [(port, protocol, truth)]) built from the engine tests' data -------
def _allow_y_on(port: int, name: str) -> dict:
    return policy(name, pod_labels={"pod": "a"},
                  ingress=[{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"protocol": "TCP", "port": port}]}])


def _cases(ip):
    def x_a_from_ns(*nss):
        t = Truth()
        for ns in "xyz":
            if ns not in nss:
                t.expect_peer({"ns": ns}, {"ns": "x", "pod": "a"}, False)
        return t

    both = policy("allow-client-a-via-pod-selector", pod_labels={"pod": "a"},
                  ingress=[{"from": [{"podSelector": pod_is("b")}]}], egress=[{"ports": [{"port": 80}]}])
    from_xa = [{"from": [{"namespaceSelector": ns_is("x"), "podSelector": pod_is("a")}]}]
    return {
        "default-deny-ingress": ([policy("deny-ingress", ingress=[])], [
            (80, "TCP", Truth().expect_peer({}, {"ns": "x"}, False)),
            (81, "UDP", Truth().expect_peer({}, {"ns": "x"}, False))]),
        "default-deny-all": ([policy("deny-all", ingress=[], egress=[])], [
            (80, "TCP", Truth().expect_peer({}, {"ns": "x"}, False).expect_peer({"ns": "x"}, {}, False))]),
        "podselector": ([policy("x-a-allows-x-b", pod_labels={"pod": "a"},
                                ingress=[{"from": [{"podSelector": pod_is("b")}]}])], [
            (80, "TCP", Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True))]),
        "namespaceselector": ([policy("allow-client-a-via-ns-selector", pod_labels={"pod": "a"},
                                      ingress=[{"from": [{"namespaceSelector": ns_is("y")}]}])], [
            (80, "TCP", x_a_from_ns("y")), (80, "UDP", x_a_from_ns("y"))]),
        "podselector-or-namespaceselector": ([policy(
            "allow-ns-y-match-selector", pod_labels={"pod": "a"},
            ingress=[{"from": [{"namespaceSelector": not_in(NS_LABEL, "x")}, {"podSelector": pod_is("b")}]}])], [
            (80, "TCP", Truth().expect(X_A, X_A, False).expect(X_C, X_A, False))]),
        "podselector-and-namespaceselector": ([policy(
            "allow-ns-y-podselector-and-nsselector", pod_labels={"pod": "a"},
            ingress=[{"from": [{"namespaceSelector": not_in(NS_LABEL, "x"), "podSelector": pod_is("b")}]}])], [
            (80, "TCP", Truth().expect_all_ingress(X_A, False).expect(Y_B, X_A, True).expect(Z_B, X_A, True))]),
        "policy-based-on-ports": ([_allow_y_on(81, "allow-client-a-via-ns-selector")], [
            (81, "TCP", x_a_from_ns("y")), (80, "TCP", Truth().expect_all_ingress(X_A, False))]),
        "ingress-on-one-named-port": ([policy("allow-all", ingress=[{"ports": [{"port": "serve-81-tcp"}]}])], [
            (81, "TCP", Truth()), (80, "TCP", Truth().expect_peer({}, {"ns": "x"}, False))]),
        "egress-on-one-named-port": ([policy("allow-egress", egress=[{"ports": [{"port": "serve-80-tcp"}]}])], [
            (80, "TCP", Truth()), (81, "TCP", Truth().expect_peer({"ns": "x"}, {}, False))]),
        "ingress-and-egress-together": ([both], [
            (80, "TCP", Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True)),
            (81, "TCP", Truth().expect_all_ingress(X_A, False).expect_all_egress(X_A, False).expect(X_B, X_A, True))]),
        "deny-egress-from-a-namespace-replies-pass": ([policy("deny-egress-ns-x", egress=[])], [
            (80, "TCP", Truth().expect_peer({"ns": "x"}, {}, False)),
            (81, "UDP", Truth().expect_peer({"ns": "x"}, {}, False))]),
        "client-side-egress-denies-even-if-server-allows": ([
            policy("allow-to-ns-y-pod-a", pod_labels={"pod": "a"},
                   egress=[{"to": [{"namespaceSelector": ns_is("y"), "podSelector": pod_is("a")}]}]),
            policy("allow-from-xa-on-ya-match-selector", "y", {"pod": "a"}, ingress=from_xa),
            policy("allow-from-xa-on-yb-match-selector", "y", {"pod": "b"}, ingress=from_xa)], [
            (80, "TCP", Truth().expect_peer({"ns": "x", "pod": "a"}, {}, False)
             .expect_peer({}, {"ns": "y", "pod": "a"}, False)
             .expect_peer({"ns": "x", "pod": "a"}, {"ns": "y", "pod": "a"}, True)
             .expect_peer({}, {"ns": "y", "pod": "b"}, False))]),
        "egress-to-cidr-block": ([policy("allow-client-a-via-cidr-egress-rule", pod_labels={"pod": "a"},
                                         egress=[{"to": [{"ipBlock": {"cidr": f"{ip(Y_B)}/32"}}]}])], [
            (80, "TCP", Truth().expect_all_egress(X_A, False).expect(X_A, Y_B, True))]),
        "cidr-with-except": ([policy("allow-client-a-via-cidr-egress-rule", pod_labels={"pod": "a"},
                                     egress=[{"to": [{"ipBlock": {"cidr": f"{ip(X_A)}/4",
                                                                  "except": [f"{ip(X_B)}/32"]}}]}])], [
            (80, "TCP", Truth().expect(X_A, X_B, False))]),
        "any-port-on-one-protocol": ([policy("allow-ingress-by-proto", pod_labels={"pod": "a"},
                                             ingress=[{"ports": [{"protocol": "TCP"}]}])], [
            (80, "TCP", Truth()), (80, "UDP", Truth().expect_peer({}, {"ns": "x", "pod": "a"}, False))]),
        "udp-policy-based-on-ports": ([policy("allow-ingress-on-port-81-ns-x", pod_labels={"pod": "a"},
                                              ingress=[{"from": [{"namespaceSelector": ns_is("y")}],
                                                        "ports": [{"port": 81, "protocol": "UDP"}]}])], [
            (81, "UDP", x_a_from_ns("y")), (81, "TCP", Truth().expect_all_ingress(X_A, False))]),
        "sctp-only-still-isolates": ([policy("allow-only-sctp-ingress-on-port-81", pod_labels={"pod": "a"},
                                             ingress=[{"ports": [{"port": 81, "protocol": "SCTP"}]}])], [
            (81, "TCP", Truth().expect_all_ingress(X_A, False))]),
        "endport-range": ([policy("allow-y-81-to-82", pod_labels={"pod": "a"},
                                  ingress=[{"from": [{"namespaceSelector": ns_is("y")}],
                                            "ports": [{"port": 81, "endPort": 82, "protocol": "UDP"}]}])], [
            (81, "UDP", x_a_from_ns("y")), (80, "UDP", Truth().expect_all_ingress(X_A, False))]),
    }


CASE_IDS = list(_cases(lambda key: "10.0.0.1"))


@pytest.mark.parametrize("case", CASE_IDS)
def test_upstream_case(lab, case):
    policies, checks = _cases(lab.ip)[case]
    lab.create(*policies)
    for port, protocol, truth in checks:
        lab.check(truth, port, protocol)


# --- multi-step -----------------------------------------------------------------------------------
def test_multi_step_update_relabel_delete(lab):
    """Policy created, updated, a pod relabelled, a namespace relabelled, the policy deleted."""
    p = policy("allow-all-mutate", pod_labels={"pod": "a"}, ingress=[{}])
    lab.create(p)
    lab.check(Truth())                                                       # step 1: allows all
    narrowed = policy("allow-all-mutate", pod_labels={"pod": "a"},
                      ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b", "pod2": "updated"}}},
                                         {"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}]}])
    lab.update(narrowed)
    lab.check(Truth().expect_all_ingress(X_A, False), 80, "TCP")            # step 2: nobody matches
    lab.label_pod(X_B, pod2="updated")
    try:
        lab.check(Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True), 80, "UDP")  # step 3
        lab.label_namespace("y", ns2="updated")
        try:
            t = Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, True).expect_peer({"ns": "y"}, {"ns": "x", "pod": "a"}, True)
            lab.check(t)                                                     # step 4: y admitted
        finally:
            lab.label_namespace("y", ns2=None)
        lab.label_pod(X_A, target="gone", pod="moved")                      # step 5: x/a leaves the selector
        try:
            lab.check(Truth())
        finally:
            lab.label_pod(X_A, pod="a", target=None)
    finally:
        lab.label_pod(X_B, pod2=None)
    lab.check(Truth().expect_all_ingress(X_A, False).expect(X_B, X_A, False))  # step 6: labels back
    lab.delete_all()
    lab.check(Truth())                                                       # step 7: deleted


def test_deny_ingress_access_to_updated_pod(lab):
    lab.create(policy("deny-ingress-via-label-selector", pod_labels={"target": "isolated"}, ingress=[]))
    lab.check(Truth())
    lab.label_pod(X_A, target="isolated")
    try:
        lab.check(Truth().expect_all_ingress(X_A, False))
    finally:
        lab.label_pod(X_A, target=None)


# --- services, established connections, validation, timing -----------------------------------------
def _wait(predicate, timeout: float = 60.0, what: str = "") -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - start


def test_policy_applies_through_a_service_cluster_ip(lab):
    """kube-proxy DNATs before the filter: ingress and egress both see the real pod IP."""
    for ns in ("x", "y"):
        lab.kubectl("-n", ns, "create", "service", "clusterip", "svc-a", "--tcp=80:80", check=False)
        lab.kubectl("-n", ns, "set", "selector", "service", "svc-a", "pod=a")
    ips = {ns: json.loads(lab.kubectl("-n", ns, "get", "service", "svc-a", "-o", "json").stdout)["spec"]["clusterIP"]
           for ns in ("x", "y")}
    _wait(lambda: lab.connects(Z_B, ips["x"]) and lab.connects(Z_B, ips["y"]), what="kube-proxy rules")
    lab.create(policy("only-y-b", pod_labels={"pod": "a"},
                      ingress=[{"from": [{"namespaceSelector": ns_is("y"), "podSelector": pod_is("b")}]}]),
               policy("z-c-to-y-only", "z", {"pod": "c"}, egress=[{"to": [{"namespaceSelector": ns_is("y")}]}]))
    _wait(lambda: not lab.connects(Z_B, ips["x"]), what="the policy on x/a")
    assert lab.connects(Y_B, ips["x"])                   # allowed peer, through the ClusterIP
    assert not lab.connects(Y_A, ips["x"])
    assert lab.connects("z/c", ips["y"])                 # egress to y: the ClusterIP became y/a's IP
    assert not lab.connects("z/c", lab.ip(X_B))
    for ns in ("x", "y"):
        lab.kubectl("-n", ns, "delete", "service", "svc-a")


def test_established_connection_survives_and_replies_pass(lab):
    """A connection opened before a deny-all policy still gets its answer; new ones are refused."""
    argv = ["ip", "netns", "exec", lab.lab.pod(Y_A)["netns"], "nc", "-w", "5", lab.ip(X_B), "80"]
    conn = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        _wait(lambda: lab.ip(X_B) in lab.lab.exec(Y_A, ["ss", "-Htn", "state", "established",
                                                        "dst", f"{lab.ip(X_B)}:80"]).stdout,
              what="the connection")
        lab.create(policy("deny-all", ingress=[], egress=[]))
        _wait(lambda: not lab.connects(Y_A, lab.ip(X_B)), what="the deny-all policy")
        out, _ = conn.communicate("hello\n", timeout=10)
    finally:
        conn.kill()
    assert json.loads(out)["pod"] == "b"                 # the old connection carried a reply
    assert not lab.connects(Y_A, lab.ip(X_B))


def test_invalid_policy_is_refused_and_changes_no_node(lab):
    from kubernetes.client.rest import ApiException

    lab.create(policy("deny-ingress", ingress=[]))
    lab.check(Truth().expect_peer({}, {"ns": "x"}, False))
    before = lab.rulesets()
    bad = policy("bad", ingress=[{"ports": [{"port": "serve-80-tcp", "endPort": 90}]}])
    with pytest.raises(ApiException) as err:
        lab.create(bad)
    assert err.value.status == 422
    assert "endPort" in err.value.body
    proc = lab.kubectl("apply", "-f", "-", input=json.dumps(
        policy("bad2", egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}])),
        check=False)
    assert proc.returncode != 0 and "Invalid" in proc.stderr
    time.sleep(0.5)                                      # longer than the enforcer's debounce
    assert lab.rulesets() == before
    assert [p.metadata.name for p in lab.net.list_namespaced_network_policy("x").items] == ["deny-ingress"]


def test_enforcement_follows_a_change(lab):
    """The new table reaches the node after the API's answer (the delay is printed, not asserted: a
    busy machine may take longer than the usual fraction of a second), then is checked with a packet."""
    lab.create(policy("deny-ingress", ingress=[]))
    lab.check(Truth().expect_peer({}, {"ns": "x"}, False))
    node = lab.pods[X_C]["spec"]["nodeName"]
    before = lab.rulesets()[node]
    lab.update(policy("deny-ingress", ingress=[{"from": [{"namespaceSelector": ns_is("y")}]}]))
    elapsed = _wait(lambda: lab.rulesets()[node] != before, timeout=60, what="the new ruleset")
    print(f"enforcement updated {elapsed * 1000:.0f} ms after the API answered")
    assert lab.connects(Y_A, lab.ip(X_C)) and not lab.connects(Z_A, lab.ip(X_C))


def test_notebook_api_reads_the_live_lab(lab):
    """``labkit.reachability`` / ``explain`` read labels, named ports and policies from the API."""
    lab.create(policy("allow-client-a-via-ns-selector", pod_labels={"pod": "a"},
                      ingress=[{"from": [{"namespaceSelector": ns_is("y")}], "ports": [{"port": "serve-81-udp", "protocol": "UDP"}]}]))
    predicted = labkit.reachability(lab.name, port=81, protocol="UDP", namespaces=["x", "y", "z"])
    assert predicted.pods == tuple(f"{ns}/{p}" for ns in "xyz" for p in "abc")
    assert predicted.allowed(Y_B, X_A) and not predicted.allowed(Z_B, X_A)
    assert not labkit.reachability(lab.lab, port=81, protocol="TCP").allowed(Y_B, X_A)
    observed = lab.probe(81, "UDP")
    assert observed.ok and observed.observed == predicted.combined
    why = labkit.explain(lab.name, Z_B, X_A, port=81, protocol="UDP")
    assert not why.allowed and "x/allow-client-a-via-ns-selector" in why.render("en")
    assert "<table" in predicted._repr_html_() and "<table" in observed._repr_html_()
