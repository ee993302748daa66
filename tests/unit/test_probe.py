"""The probe and the notebook API without a lab: scripts run by ``sh`` with a fake ``nc``,
results compared, snapshots as clusters. No root needed."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import labkit
from labkit.errors import BadInput
from labkit.netpol.objects import from_objects
from labkit.netpol.notebook import reachability, explain
from labkit.netpol.probe import ProbeResult, observe, parse_probe_output, probe, probe_script
from labkit.snapshot import ClusterSnapshot

ROOT = Path(__file__).resolve().parents[2]
KEYS = [f"{ns}/{p}" for ns in "xyz" for p in "abc"]
IPS = {k: f"10.244.{i // 3 + 1}.{i % 3 + 2}" for i, k in enumerate(KEYS)}


def snapshot(policies=(), extra_pods=()) -> ClusterSnapshot:
    namespaces = [{"metadata": {"name": n, "labels": {"ns": n, "kubernetes.io/metadata.name": n}}}
                  for n in ("x", "y", "z", "kube-system")]
    ports = [{"name": f"serve-{n}-{p.lower()}", "containerPort": n, "protocol": p}
             for n in (80, 81) for p in ("TCP", "UDP")]
    pods = [{"metadata": {"name": k.split("/")[1], "namespace": k.split("/")[0], "labels": {"pod": k[-1]}},
             "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": ports}]},
             "status": {"phase": "Running", "podIP": IPS[k]}} for k in KEYS]
    pods.append({"metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
                 "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
                 "status": {"phase": "Running", "podIP": "10.244.9.9"}})
    return ClusterSnapshot(name="fixture", source="fixture", namespaces=namespaces, pods=pods + list(extra_pods),
                           networkpolicies=list(policies))


DENY_X = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {}}}


def fake_nc(tmp_path: Path, deny: set[str]) -> dict:
    """A ``nc`` that connects to every address but those in ``deny``; UDP answers like the echo."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "nc"
    script.write_text("#!/bin/sh\n"
                      "for a in \"$@\"; do case \"$a\" in *.*.*.*) ip=$a;; esac; done\n"
                      f"case \" {' '.join(sorted(deny))} \" in *\" $ip \"*) sleep 0.1; exit 1;; esac\n"
                      "case \" $* \" in *\" -u \"*) cat >/dev/null; echo '{\"pod_ip\": \"'$ip'\"}';; esac\n"
                      "exit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")


def runner(env: dict, calls: list | None = None, deny_for: dict | None = None):
    """An Exec that runs the probe script with the fake nc; ``deny_for[src]`` overrides per source."""
    def run(key, argv, timeout):
        if calls is not None:
            calls.append(key)
        env2 = env
        if deny_for and key in deny_for:
            env2 = deny_for[key]
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env2)
    return run


# --- script and parsing ---------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["TCP", "UDP"])
def test_script_reports_each_address_once(tmp_path, protocol):
    env = fake_nc(tmp_path, deny={"10.0.0.3"})
    script = probe_script(["10.0.0.2", "10.0.0.3", "10.0.0.4"], 80, protocol, 1)
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=10).stdout
    assert parse_probe_output(out) == {"10.0.0.2": True, "10.0.0.3": False, "10.0.0.4": True}


def test_udp_needs_the_echo_answer(tmp_path):
    """A UDP datagram that gets no answer is not a connection (nc -u exits 0 anyway)."""
    silent = tmp_path / "nc"
    silent.write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    silent.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    out = subprocess.run(["sh", "-c", probe_script(["10.0.0.2"], 81, "UDP", 1)], capture_output=True,
                         text=True, env=env, timeout=10).stdout
    assert parse_probe_output(out) == {"10.0.0.2": False}
    assert "timeout 1 nc -u -w 1" in probe_script(["10.0.0.2"], 81, "UDP", 1)
    assert "timeout 0.5 nc -z -w 1" in probe_script(["10.0.0.2"], 81, "TCP", 0.5)


def test_parse_ignores_noise():
    assert parse_probe_output("hello\n10.0.0.1 1\n10.0.0.2 0\n10.0.0.3 maybe\n") == {
        "10.0.0.1": True, "10.0.0.2": False}


# --- observe / probe with a fake exec -------------------------------------------------------------
def test_observe_builds_the_matrix_in_pod_order(tmp_path):
    env = fake_nc(tmp_path, deny={IPS["y/b"]})
    pods = [(k, IPS[k]) for k in KEYS]
    m = observe(pods, 80, "TCP", runner(env), timeout=1, parallel=4)
    assert m.pods == tuple(KEYS)
    assert not m.allowed("x/a", "y/b") and m.allowed("y/b", "x/a")
    assert m.count() == 81 - 9


def test_probe_agrees_with_prediction_on_a_snapshot(tmp_path):
    """x is default-deny ingress: the fake network drops x's pods; observed = predicted."""
    deny = {IPS[k] for k in KEYS if k.startswith("x/")}
    env = fake_nc(tmp_path, deny=deny)
    # x's own pods reach themselves (self pairs never leave the pod): allow per source
    per_source = {k: fake_nc(tmp_path / k.replace("/", "_"), deny=deny - {IPS[k]})
                  for k in KEYS if k.startswith("x/")}
    result = probe(snapshot([DENY_X]), namespaces="x,y,z", timeout=1, run=runner(env, deny_for=per_source))
    assert result.ok, result.to_table()
    assert result.pods == tuple(KEYS)
    assert not result.allowed("y/a", "x/b") and result.allowed("x/a", "y/b")
    assert "all 81 cells agree" in result.to_table("en")


def test_differences_are_reported_and_retried(tmp_path):
    env_bad = fake_nc(tmp_path / "bad", deny=set())          # enforcement missing: everything connects
    calls: list[str] = []
    result = probe(snapshot([DENY_X]), namespaces=["x", "y"], timeout=1, retries=1,
                   run=runner(env_bad, calls))
    assert not result.ok
    wrong = {(d.src, d.dst) for d in result.differences}
    assert wrong == {(s, d) for s in KEYS[:6] for d in KEYS[:3] if s != d}
    assert all(d.observed and not d.predicted for d in result.differences)
    assert len(calls) == 6 + 6        # every source once, then the sources with differing cells again
    text = result.to_table("fr")
    assert "diffèrent de la prévision" in text and "observé AUTORISÉ, prévu REFUSÉ" in text
    data = json.loads(result.to_json())
    assert data["port"] == 80 and len(data["differences"]) == len(wrong)
    html = result._repr_html_()
    assert html.count("outline:3px") == len(wrong)


def test_a_retry_that_succeeds_clears_the_difference(tmp_path):
    deny = {IPS["y/a"]}
    flaky = fake_nc(tmp_path / "flaky", deny=deny)           # first pass: y/a unreachable (no policy says so)
    good = fake_nc(tmp_path / "good", deny=set())
    state = {"n": 0}

    def run(key, argv, timeout):
        state["n"] += 1
        env = flaky if state["n"] <= 3 else good
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)

    result = probe(snapshot(), namespaces="y", timeout=1, retries=2, parallel=1, run=run)
    assert result.ok and result.observed.count() == 9


def test_probe_refuses_bad_input():
    with pytest.raises(BadInput, match="TCP or UDP"):
        probe(snapshot(), protocol="SCTP", run=lambda *a: None)
    with pytest.raises(BadInput, match="timeout"):
        probe(snapshot(), timeout=0, run=lambda *a: None)
    with pytest.raises(BadInput, match="no pod in namespace"):
        probe(snapshot(), namespaces="nope", run=lambda *a: None)


def test_exec_failure_names_the_pod():
    def broken(key, argv, timeout):
        return subprocess.CompletedProcess(argv, 1, "", "sh: nc: not found")
    with pytest.raises(BadInput, match="x/a.*nc: not found|nc: not found"):
        probe(snapshot(), namespaces="x", run=broken)


# --- the notebook API on snapshots ------------------------------------------------------------------
def test_reachability_on_a_snapshot_hides_kube_system_by_default():
    r = reachability(snapshot([DENY_X]))
    assert r.pods == tuple(KEYS)
    assert not r.allowed("y/a", "x/a") and r.allowed("x/a", "y/a")
    only = reachability(snapshot([DENY_X]), namespaces="x,y")
    assert only.pods == tuple(KEYS[:6])
    assert "<table" in r._repr_html_()


def test_explain_on_a_snapshot_names_the_policy():
    e = explain(snapshot([DENY_X]), "y/a", "x/b", port=80)
    assert not e.allowed and "x/deny" in e.render("en")
    assert "<pre>" in e._repr_html_()


def test_top_level_exports():
    assert {"reachability", "explain", "probe"} <= set(labkit.__all__)
    assert labkit.probe is probe
    assert labkit.reachability is reachability and labkit.explain is explain
    with pytest.raises(BadInput):
        labkit.reachability(42)


def test_objects_skip_host_network_and_keep_missing_ips():
    pods = snapshot().pods + [
        {"metadata": {"name": "h", "namespace": "x"}, "spec": {"hostNetwork": True}, "status": {"podIP": "172.18.0.2"}},
        {"metadata": {"name": "pending", "namespace": "x"}, "spec": {}, "status": {"phase": "Pending"}},
        {"metadata": {"name": "done", "namespace": "x"}, "spec": {}, "status": {"phase": "Succeeded", "podIP": "10.1.1.1"}},
    ]
    bad = {"metadata": {"name": "bad", "namespace": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Sideways"]}}
    _, model_pods, policies = from_objects(snapshot().namespaces, pods, [DENY_X, bad], skip_invalid=True)
    keys = {p.key: p for p in model_pods}
    assert "x/h" not in keys and "x/done" not in keys and keys["x/pending"].ip is None
    assert keys["x/a"].resolve_port("serve-81-udp", "UDP") == 81
    assert [p.name for p in policies] == ["deny"]


# --- CLI ------------------------------------------------------------------------------------------
def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), LABKIT_LANG="en")
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_cli_bad_protocol_is_one_line_exit_2():
    proc = cli("probe", "--name", "nolabhere", "--protocol", "SCTP")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "TCP or UDP" in proc.stderr


def test_cli_missing_lab_is_one_line_in_french():
    proc = cli("--lang", "fr", "probe", "--name", "nolabhere")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "aucun lab nommé 'nolabhere'" in proc.stderr


def test_every_denied_cell_let_through_warns_that_nothing_enforces_policies(tmp_path):
    """A cluster without a policy controller: the deny-all is stored, every pair connects."""
    result = probe(snapshot([DENY_X]), namespaces=["x", "y"], timeout=1, retries=0,
                   run=runner(fake_nc(tmp_path, deny=set())))
    assert result.unenforced and result.observed.count() == 36
    assert "Nothing seems to enforce NetworkPolicies" in result.to_table("en")
    assert "Rien ne semble appliquer les NetworkPolicies" in result.to_table("fr")
    assert json.loads(result.to_json())["unenforced"] is True


def test_one_denied_cell_dropped_is_not_the_missing_controller_warning(tmp_path):
    """Enforcement that is only partly wrong is a difference, not "nothing enforces"."""
    deny = {IPS["x/b"]}
    per_source = {k: fake_nc(tmp_path / k.replace("/", "_"), deny=set()) for k in ("x/b",)}
    result = probe(snapshot([DENY_X]), namespaces=["x", "y"], timeout=1, retries=0,
                   run=runner(fake_nc(tmp_path / "net", deny=deny), deny_for=per_source))
    assert not result.ok and not result.unenforced
    assert "Nothing seems to enforce" not in result.to_table("en")


def test_no_policy_no_warning(tmp_path):
    result = probe(snapshot(), namespaces=["x"], timeout=1, retries=0, run=runner(fake_nc(tmp_path, deny=set())))
    assert result.ok and not result.unenforced


def test_french_caption_uses_a_decimal_comma(tmp_path):
    result = probe(snapshot(), namespaces=["x"], timeout=1, retries=0, run=runner(fake_nc(tmp_path, deny=set())))
    result.seconds = 0.14
    assert "0,1 s" in result.caption("fr") and "0.1 s" in result.caption("en")
