"""``labkit kind up`` / ``down`` with STAND-IN docker, kind, kubectl, helm and ip executables.

There is no Docker engine nor kind binary here: each stand-in (written below, first on PATH)
records its argv and stdin and replays what the real tool prints for the few calls whose output
matters (``docker info``, ``docker inspect`` of the control plane, ``ip -j route show``). The tests
check the command lines ``kind up`` would run, in order, and the exit codes.
"""
from __future__ import annotations

import json
import os
import textwrap

import pytest
import yaml

from labkit.cli.main import main
from labkit.kind import KindPlan, plan_steps, versions

STAND_IN = textwrap.dedent("""\
    #!/usr/bin/env python3
    # STAND-IN for {tool} in tests: records argv and stdin, replays recorded outputs. Not the real tool.
    import json, os, sys
    args = sys.argv[1:]
    stdin = "" if sys.stdin.isatty() else sys.stdin.read()
    with open(os.environ["STANDIN_LOG"], "a") as f:
        f.write(json.dumps({{"tool": "{tool}", "args": args, "stdin": stdin}}) + "\\n")
    line = " ".join(["{tool}"] + args)
    if os.environ.get("STANDIN_FAIL") and os.environ["STANDIN_FAIL"] in line:
        sys.stderr.write("ERROR: failed to create cluster: node(s) already exist for a cluster with the name\\n")
        sys.exit(1)
    if "{tool}" == "docker" and args[:1] == ["info"]:
        if os.environ.get("STANDIN_NO_ENGINE"):
            sys.stderr.write("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                             "Is the docker daemon running?\\n")
            sys.exit(1)
        print("28.2.2")
    elif "{tool}" == "docker" and args[:1] == ["inspect"]:
        print("172.18.0.2")
    elif "{tool}" == "curl":
        sys.stdout.write(open(os.environ["STANDIN_MANIFEST"]).read())
    elif "{tool}" == "ip" and args[:3] == ["-j", "route", "show"]:
        print(json.dumps([{{"dst": "default", "gateway": "192.168.1.1", "dev": "wlan0", "flags": []}},
                          {{"dst": "10.244.0.0/16", "gateway": "172.18.0.2", "dev": "br-kind", "flags": []}},
                          {{"dst": "10.96.0.0/16", "gateway": "172.18.0.2", "dev": "br-kind", "flags": []}}]))
    """)


# Shaped as kube-router's daemonset/kubeadm-kuberouter-all-features.yaml (v2.5.0): untagged image,
# pulled Always, kubeconfig from the kube-proxy ConfigMap. Written for the test, not copied.
KUBE_ROUTER_LIKE = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: kube-router, namespace: kube-system}
    spec:
      template:
        spec:
          initContainers:
          - {name: install-cni, image: docker.io/cloudnativelabs/kube-router, imagePullPolicy: Always}
          containers:
          - {name: kube-router, image: docker.io/cloudnativelabs/kube-router, imagePullPolicy: Always}
          volumes:
          - name: kube-router-cfg
            configMap: {name: kube-router-cfg}
          - name: kubeconfig
            configMap: {name: kube-proxy, items: [{key: kubeconfig.conf, path: kubeconfig}]}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: kube-router-cfg, namespace: kube-system}
    """)


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """Stand-ins on PATH (the system's own directories stay, for python3 itself)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("docker", "kind", "kubectl", "helm", "ip", "curl"):
        path = bindir / tool
        path.write_text(STAND_IN.format(tool=tool))
        path.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_LOG", str(log))
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(KUBE_ROUTER_LIKE)
    monkeypatch.setenv("STANDIN_MANIFEST", str(manifest))

    def calls():
        return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    calls.bindir = bindir
    return calls


def _lines(calls):
    return [" ".join([c["tool"], *c["args"]]) for c in calls]


def test_kind_up_calico_runs_the_pinned_steps_in_order(tools, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["kind", "up", "--cni", "calico", "--name", "lab1"]) == 0
    calls = tools()
    lines = _lines(calls)
    assert lines == [
        "docker info --format {{.ServerVersion}}",
        "kind create cluster --name lab1 --config -",
        f"kubectl --context kind-lab1 apply -f {versions.CALICO_MANIFEST}",
        "kubectl --context kind-lab1 wait --for=condition=Ready nodes --all --timeout=300s",
        "docker inspect -f {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}} lab1-control-plane",
        "ip route replace 192.168.0.0/16 via 172.18.0.2",
        "ip route replace 10.96.0.0/16 via 172.18.0.2",
    ]
    config = yaml.safe_load(calls[1]["stdin"])
    assert config["networking"]["disableDefaultCNI"] is True and config["name"] == "lab1"
    out = capsys.readouterr().out
    assert "Installing Calico v3.29.2" in out and "kubectl --context kind-lab1 get nodes" in out


def test_kind_up_cilium_without_kube_proxy(tools, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["kind", "up", "--cni", "cilium", "--proxy-mode", "none", "--workers", "1", "--name", "c1"]) == 0
    lines = _lines(tools())
    helm = next(l for l in lines if l.startswith("helm --kube-context"))
    assert f"cilium/cilium --version {versions.CILIUM_VERSION} --namespace kube-system" in helm
    assert "--set kubeProxyReplacement=true" in helm and "--set k8sServiceHost=c1-control-plane" in helm
    assert "--set bpf.lbExternalClusterIP=true" in helm          # the host's route to ClusterIPs
    assert lines.index(helm) < next(i for i, l in enumerate(lines) if " wait " in l)
    config = yaml.safe_load(tools()[1]["stdin"])
    assert config["networking"]["kubeProxyMode"] == "none" and len(config["nodes"]) == 2


def test_kind_up_flannel_copies_the_bridge_plugin_into_every_node(tools, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["kind", "up", "--cni", "flannel", "--name", "f1"]) == 0
    execs = [c["args"] for c in tools() if c["tool"] == "docker" and c["args"][0] == "exec"]
    assert [a[1] for a in execs] == ["f1-control-plane", "f1-worker", "f1-worker2"]
    tarball = versions.CNI_PLUGINS_TARBALL.replace("{arch}", "$a")
    assert all(tarball in a[-1] and "./bridge" in a[-1] and "aarch64) a=arm64;;" in a[-1] for a in execs)


def test_kind_up_not_root_prints_the_routes(tools, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["kind", "up", "--name", "k1"]) == 0
    assert not any(c["tool"] == "ip" for c in tools())
    assert "sudo ip route replace 10.244.0.0/16 via 172.18.0.2" in capsys.readouterr().out


@pytest.mark.parametrize("missing", ["docker", "kind", "helm"])
def test_missing_tool_exit_2_says_how_to_install(tools, missing, capsys):
    (tools.bindir / missing).unlink()
    os.environ["PATH"] = str(tools.bindir)          # only the stand-ins (monkeypatch restores PATH)
    assert main(["kind", "up", "--cni", "cilium"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"`{missing}` is not installed" in err
    assert {"docker": "docker.io", "kind": versions.KIND_VERSION, "helm": "helm.sh"}[missing] in err
    assert not any(c["args"][:2] == ["create", "cluster"] for c in tools())


def test_docker_engine_unreachable(tools, monkeypatch, capsys):
    monkeypatch.setenv("STANDIN_NO_ENGINE", "1")
    assert main(["kind", "up"]) == 2
    err = capsys.readouterr().err
    assert "Is the docker daemon running?" in err and err.count("\n") == 1


def test_failing_step_is_one_line_exit_1(tools, monkeypatch, capsys):
    monkeypatch.setenv("STANDIN_FAIL", "kind create cluster")
    assert main(["kind", "up", "--name", "dup"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("labkit: `kind create cluster --name dup --config -` failed (exit 1)")
    assert "already exist" in err and err.count("\n") == 1


def test_bad_plan_runs_nothing(tools, capsys):
    assert main(["kind", "up", "--cni", "flannel", "--proxy-mode", "none"]) == 2
    assert tools() == []


def test_kind_down_removes_routes_then_the_cluster(tools, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["kind", "down", "--name", "lab1"]) == 0
    lines = _lines(tools())
    assert lines[-3:] == ["ip route del 10.244.0.0/16 via 172.18.0.2", "ip route del 10.96.0.0/16 via 172.18.0.2",
                          "kind delete cluster --name lab1"]
    assert "2 host route(s) removed" in capsys.readouterr().out


def test_plan_steps_per_cni():
    def tools_of(cni, mode="iptables"):
        return [s.argv[0] for s in plan_steps(KindPlan(cni, mode))]
    assert tools_of("kindnet") == ["kind", "kubectl"]
    assert tools_of("kube-router", "none")[-3:] == ["kubectl", "kubectl", "kubectl"]
    kr = [s.fetch for s in plan_steps(KindPlan("kube-router", "none"))]
    assert versions.KUBE_ROUTER_ALL_FEATURES_MANIFEST in kr
    assert versions.KUBE_ROUTER_MANIFEST in [s.fetch for s in plan_steps(KindPlan("kube-router"))]


def test_kind_up_kube_router_without_kube_proxy_applies_the_pinned_manifest(tools, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["kind", "up", "--cni", "kube-router", "--proxy-mode", "none", "--name", "kr"]) == 0
    calls = tools()
    lines = _lines(calls)
    create_cm = lines.index("kubectl --context kind-kr -n kube-system create configmap kube-router-kubeconfig "
                            "--from-file=kubeconfig.conf=/dev/stdin")
    assert "server: https://kr-control-plane:6443" in calls[create_cm]["stdin"]
    fetch = lines.index(f"curl -fsSL {versions.KUBE_ROUTER_ALL_FEATURES_MANIFEST}")
    apply = lines.index("kubectl --context kind-kr apply -f -")
    assert create_cm < fetch < apply
    ds = next(d for d in yaml.safe_load_all(calls[apply]["stdin"]) if d["kind"] == "DaemonSet")
    spec = ds["spec"]["template"]["spec"]
    images = {c["image"] for c in spec["initContainers"] + spec["containers"]}
    assert images == {f"docker.io/cloudnativelabs/kube-router:{versions.KUBE_ROUTER_VERSION}"}
    assert {c["imagePullPolicy"] for c in spec["containers"]} == {"IfNotPresent"}
    assert {"name": "kube-router-kubeconfig", "items": [{"key": "kubeconfig.conf", "path": "kubeconfig"}]} \
        in [v.get("configMap") for v in spec["volumes"]]
