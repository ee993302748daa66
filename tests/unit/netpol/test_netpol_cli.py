"""``labkit netpol matrix|explain`` run as a user would: ``python3 -m labkit ...`` in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PODS = [f"{ns}/{p}" for ns in "xyz" for p in "abc"]


def _lab_yaml(policies: str = "") -> str:
    docs = []
    for i, ns in enumerate("xyz"):
        docs.append(f"kind: Namespace\nmetadata: {{name: {ns}, labels: {{ns: {ns}}}}}\n")
        for j, p in enumerate("abc"):
            docs.append(
                f"kind: Pod\nmetadata: {{name: {p}, namespace: {ns}, labels: {{pod: {p}}}}}\n"
                "spec: {containers: [{name: c, ports: [{name: serve-80-tcp, containerPort: 80}, "
                "{name: serve-81-tcp, containerPort: 81}]}]}\n"
                f"status: {{podIP: 10.244.{i + 1}.{j + 1}}}\n")
    return "---\n".join(docs) + ("---\n" + policies if policies else "")


ALLOW_FROM_B = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x-a-allows-x-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
    ports: [{port: serve-80-tcp}]
"""


@pytest.fixture
def lab(tmp_path) -> Path:
    (tmp_path / "pods.yaml").write_text(_lab_yaml())
    (tmp_path / "policy.yaml").write_text(ALLOW_FROM_B)
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LABKIT_LANG": "en", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60)


def _files(lab: Path) -> list[str]:
    return [str(lab / "pods.yaml"), str(lab / "policy.yaml")]


def test_matrix_table(lab):
    out = run("netpol", "matrix", *_files(lab))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Reachability (ingress and egress), TCP/80")
    assert lines[1].split() == ["src\\dst", *PODS]
    column = [line.split()[1] for line in lines[2:]]  # destination x/a
    assert column == [".", ".", "X", "X", "X", "X", "X", "X", "X"]  # x/a itself (self), x/b


def test_matrix_json(lab):
    out = run("netpol", "matrix", *_files(lab), "--port", "81", "--protocol", "tcp", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"port", "protocol", "pods", "allowed"}
    assert (data["port"], data["protocol"], data["pods"]) == (81, "TCP", PODS)
    assert data["allowed"] == sorted(data["allowed"])
    assert ["x/b", "x/a"] not in data["allowed"]  # the named port is serve-80-tcp: nothing opens 81
    assert ["x/a", "x/a"] in data["allowed"] and len(data["allowed"]) == 81 - 8


def test_matrix_switches(lab):
    plain = json.loads(run("netpol", "matrix", *_files(lab), "--json").stdout)
    strict = json.loads(run("netpol", "matrix", *_files(lab), "--json", "--no-self").stdout)
    assert ["x/a", "x/a"] in plain["allowed"] and ["x/a", "x/a"] not in strict["allowed"]
    egress = run("netpol", "matrix", *_files(lab), "--direction", "egress")
    assert egress.returncode == 0 and "X" not in egress.stdout.splitlines()[2]


def test_explain(lab):
    out = run("netpol", "explain", *_files(lab), "--from", "y/b", "--to", "x/a")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "y/b -> x/a, TCP/80: DENIED"
    assert "isolated by x/x-a-allows-x-b; no rule allows it" in out.stdout
    ok = run("netpol", "explain", *_files(lab), "--from", "x/b", "--to", "x/a")
    assert "allowed by x/x-a-allows-x-b spec.ingress[0]" in ok.stdout


def test_french(lab):
    out = run("--lang", "fr", "netpol", "explain", *_files(lab), "--from", "y/b", "--to", "x/a", "--port", "81")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0] == "y/b -> x/a, TCP/81 : REFUSÉ"
    table = run("--lang", "fr", "netpol", "matrix", *_files(lab)).stdout
    assert table.startswith("Joignabilité (entrée et sortie), TCP/80 : lignes = sources")


def _one_line_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("labkit: ")
    return lines[0]


def test_invalid_policy_is_one_line_exit_2(lab):
    (lab / "bad.yaml").write_text(ALLOW_FROM_B.replace("ports: [{port: serve-80-tcp}]",
                                                       "ports: [{port: 90, endPort: 80}]"))
    line = _one_line_error(run("netpol", "matrix", str(lab / "pods.yaml"), str(lab / "bad.yaml")))
    assert "bad.yaml, document 1: NetworkPolicy x-a-allows-x-b is invalid: " in line
    assert "spec.ingress[0].ports[0].endPort: Invalid value: 80" in line


def test_bad_inputs_are_one_line_exit_2(lab):
    files = _files(lab)
    assert "no pod x/zz" in _one_line_error(run("netpol", "explain", *files, "--from", "x/zz", "--to", "x/a"))
    assert "port must be" in _one_line_error(run("netpol", "matrix", *files, "--port", "http"))
    assert "protocol must be" in _one_line_error(run("netpol", "matrix", *files, "--protocol", "ICMP"))
    assert "no such file" in _one_line_error(run("netpol", "matrix", str(lab / "missing.yaml")))
    (lab / "broken.yaml").write_text("kind: Pod\nmetadata: {name: [\n")
    assert "not valid YAML" in _one_line_error(run("netpol", "matrix", str(lab / "broken.yaml")))


def test_bad_input_in_french_is_french(lab):
    out = run("--lang", "fr", "netpol", "explain", *_files(lab), "--from", "x/zz", "--to", "x/a")
    assert _one_line_error(out).startswith("labkit: aucun pod x/zz")


def test_missing_arguments_exit_2(lab):
    out = run("netpol", "explain", *_files(lab), "--from", "x/a")
    assert out.returncode == 2 and "Traceback" not in out.stderr
