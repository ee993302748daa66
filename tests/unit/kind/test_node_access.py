"""The node seam for real clusters: read-only guard, ``docker exec`` (stand-in docker), probe pods.

ProbePodAccess is exercised against the lab's API server on ``LocalRuntime`` (no root, no kernel
state): there a pod's exec runs as a local process, so the command plumbing through the official
client's ``stream`` is real while the "node" is this machine.
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from labkit.errors import BadInput, LabkitError
from labkit.kind.versions import PROBE_IMAGE
from labkit.nodes import (DockerExecAccess, ProbePodAccess, check_read_only, interfaces, probe_pod_manifest,
                          probe_pod_name, routes)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cni" / "calico-ipip" / "kind-worker"


@pytest.mark.parametrize("argv", [
    ["ip", "-j", "-d", "addr", "show"], ["ip", "-j", "route", "show"], ["ip", "neigh"], ["iptables-save"],
    ["iptables-save", "-c"], ["nft", "-j", "list", "ruleset"], ["ipvsadm", "-Ln"], ["conntrack", "-L"],
    ["bridge", "fdb", "show"], ["cat", "/etc/cni/net.d/10-kindnet.conflist"], ["sysctl", "net.ipv4.ip_forward"],
])
def test_read_only_commands_pass(argv):
    check_read_only(argv)


@pytest.mark.parametrize("argv", [
    ["ip", "route", "add", "10.0.0.0/8", "via", "1.2.3.4"], ["ip", "link", "set", "eth0", "down"],
    ["ip", "route", "flush", "all"], ["ip", "netns", "exec", "x", "sh"], ["ip", "-batch", "-"],
    ["iptables", "-F"], ["iptables-restore"], ["nft", "flush", "ruleset"], ["nft", "-f", "x.nft"],
    ["conntrack", "-D"], ["ipvsadm", "-C"], ["bridge", "fdb", "add", "x"], ["sh", "-c", "id"],
    ["cat", "/etc/shadow"], ["cat", "/etc/cni/net.d/../../shadow"], ["sysctl", "-w", "a=1"], [],
])
def test_writes_and_unknown_tools_are_refused(argv):
    with pytest.raises(BadInput) as err:
        check_read_only(argv, "kind-worker")
    assert err.value.exit_code == 2 and "kind-worker" in str(err.value)


@pytest.fixture
def stand_in_docker(tmp_path, monkeypatch):
    """STAND-IN for the docker CLI: records its argv and replays recorded node outputs (no engine)."""
    log = tmp_path / "docker.log"
    script = tmp_path / "bin" / "docker"
    script.parent.mkdir()
    script.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env python3
        # STAND-IN docker for tests: records argv, replays recorded outputs of a kind node.
        import json, sys
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps(sys.argv[1:]) + "\\n")
        args = sys.argv[1:]
        if args[:2] == ["exec", "kind-worker"]:
            cmd = args[2:]
            files = {{"addr": "ip-addr.json", "route": "ip-route.json", "iptables-save": "iptables-save.txt"}}
            key = "addr" if "addr" in cmd else "route" if "route" in cmd else cmd[0]
            if key in files:
                sys.stdout.write(open({str(FIXTURE)!r} + "/" + files[key]).read())
                sys.exit(0)
            sys.stderr.write("OCI runtime exec failed: exec: \\"" + cmd[0] + "\\": executable file not found in $PATH\\n")
            sys.exit(126)
        sys.stderr.write("Error response from daemon: No such container: " + args[1] + "\\n")
        sys.exit(1)
        """))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_docker_exec_reads_a_kind_node(stand_in_docker):
    node = DockerExecAccess("kind-worker")
    names = [i.name for i in interfaces(node)]
    assert "tunl0" in names and any(n.startswith("cali") for n in names)
    assert any(r.dev == "tunl0" for r in routes(node))
    assert "cali-FORWARD" in node.run(["iptables-save"])
    calls = [json.loads(line) for line in stand_in_docker.read_text().splitlines()]
    assert calls[0] == ["exec", "kind-worker", "ip", "-j", "-d", "addr", "show"]
    assert calls[1] == ["exec", "kind-worker", "ip", "-j", "route", "show"]


def test_docker_exec_errors_are_one_line(stand_in_docker):
    with pytest.raises(LabkitError) as err:
        DockerExecAccess("kind-worker").run(["ipvsadm", "-Ln"])
    assert "ipvsadm -Ln" in str(err.value) and "126" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(LabkitError, match="No such container"):
        DockerExecAccess("kind-worker9").run(["iptables-save"])


def test_docker_exec_refuses_writes_before_running_anything(stand_in_docker):
    with pytest.raises(BadInput):
        DockerExecAccess("kind-worker").run(["ip", "link", "del", "eth0"])
    assert not stand_in_docker.exists()


def test_missing_docker_is_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BadInput, match="docker"):
        DockerExecAccess("kind-worker").run(["iptables-save"])


def test_probe_pod_manifest():
    m = probe_pod_manifest(probe_pod_name("kind-worker"), "kind-worker", "kube-system", PROBE_IMAGE)
    spec = m["spec"]
    assert m["metadata"]["name"] == "labkit-probe-kind-worker"
    assert spec["nodeName"] == "kind-worker" and spec["hostNetwork"] is True
    assert spec["tolerations"] == [{"operator": "Exists"}] and spec["restartPolicy"] == "Never"
    container = spec["containers"][0]
    assert container["securityContext"]["privileged"] is True and container["image"] == PROBE_IMAGE
    assert "latest" not in container["image"]
    long = probe_pod_name("n" * 80 + "-")
    assert len(long) <= 63 and not long.endswith("-")


@pytest.fixture
def api_server(tmp_path):
    from kubernetes import config

    from labkit.apiserver import ApiServer, LocalRuntime

    server = ApiServer(tmp_path / "state", LocalRuntime(), name="probe")
    server.start_in_thread()
    server.write_kubeconfig(tmp_path / "kubeconfig")
    api = config.new_client_from_config(config_file=str(tmp_path / "kubeconfig"))
    yield api
    server.stop_in_thread()


def test_probe_pod_runs_commands_through_the_api(api_server):
    from kubernetes import client

    core = client.CoreV1Api(api_server)
    with ProbePodAccess(api_server, "lab-worker", namespace="default", timeout=30) as probe:
        out = probe.run(["ip", "-j", "route", "show"])
        assert json.loads(out) == json.loads(subprocess.run(["ip", "-j", "route", "show"], capture_output=True,
                                                            text=True).stdout)
        pod = core.read_namespaced_pod("labkit-probe-lab-worker", "default")
        assert pod.spec.node_name == "lab-worker" and pod.spec.host_network is True
        assert interfaces(probe)                        # the seam's parsers work through it
        with pytest.raises(LabkitError) as err:
            probe.run(["cat", "/etc/cni/net.d/no-such-file"])
        assert "no-such-file" in str(err.value) and "lab-worker" in str(err.value)
        with pytest.raises(BadInput):
            probe.run(["iptables", "-F"])
    names = [p.metadata.name for p in core.list_namespaced_pod("default").items
             if not p.metadata.deletion_timestamp]
    assert "labkit-probe-lab-worker" not in names       # removed after


def test_probe_pod_reuses_a_leftover_pod(api_server):
    first = ProbePodAccess(api_server, "lab-worker2", namespace="default", timeout=30)
    first.ensure()
    second = ProbePodAccess(api_server, "lab-worker2", namespace="default", timeout=30)
    assert second.run(["ip", "-j", "addr", "show"]).startswith("[")   # 409 on create: reused
    second.close()
    first.close()


def test_probe_pod_refused_by_the_api(api_server):
    probe = ProbePodAccess(api_server, "lab-worker", namespace="no-such-namespace", timeout=5)
    with pytest.raises(LabkitError) as err:
        probe.run(["iptables-save"])
    assert "lab-worker" in str(err.value)


def test_a_tool_absent_here_fails_without_starting_a_process(monkeypatch):
    """A lab node (netns on this machine) asked for a tool this machine lacks (ipvsadm, often): the
    error comes at once, no nsenter is started to find that out (a snapshot asks every node)."""
    from labkit import nodes

    started = []
    monkeypatch.setattr(nodes.subprocess, "run", lambda *a, **k: started.append(a))
    monkeypatch.setattr(nodes, "_installed", lambda tool: tool != "ipvsadm")
    with pytest.raises(LabkitError, match="not installed"):
        nodes.NetnsAccess("n", "no-such-netns").run(["ipvsadm", "-Ln"])
    assert started == []
