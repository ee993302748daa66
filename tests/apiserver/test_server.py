"""Server-level behaviour: TLS and token, binding, discovery, OpenAPI, watch edge cases,
persistence across a restart, and messages in French."""
from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import time

import pytest
import yaml

from labkit.apiserver import ApiServer, LocalRuntime
from labkit.apiserver.journal import Journal

from .conftest import KUBECTL, Lab, need_kubectl


def test_no_token_is_401_status(lab):
    code, _, body = lab.request("GET", "/api/v1/pods", token=False)
    assert code == 401
    assert body["kind"] == "Status" and body["reason"] == "Unauthorized" and body["code"] == 401
    code, _, _ = lab.request("GET", "/version", token=False)
    assert code == 401


def test_kubectl_with_a_wrong_token_is_unauthorized(lab):
    need_kubectl()
    config = yaml.safe_load(lab.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": "not-the-lab-token"}
    lab.kubeconfig.write_text(yaml.safe_dump(config))
    out = lab.kubectl("get", "pods")
    assert out.returncode == 1
    assert "error: You must be logged in to the server" in out.stderr


def test_kubeconfig_mode_names_and_tls(lab):
    assert stat.S_IMODE(os.stat(lab.kubeconfig).st_mode) == 0o600
    config = yaml.safe_load(lab.kubeconfig.read_text())
    assert config["current-context"] == "testlab"
    assert config["clusters"][0]["name"] == config["users"][0]["name"] == "testlab"
    assert config["contexts"][0]["context"] == {"cluster": "testlab", "user": "testlab",
                                                "namespace": "default"}
    assert config["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    # The certificate verifies against the lab CA for 127.0.0.1 (no insecure-skip).
    ctx = ssl.create_default_context(cadata=lab.server.ca_pem.decode())
    with socket.create_connection(("127.0.0.1", lab.server.port)) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", lab.server.port)) as sock:
            ssl.create_default_context().wrap_socket(sock, server_hostname="127.0.0.1")


def test_bound_to_loopback_only(lab):
    out = subprocess.run(["ss", "-Htln", f"sport = :{lab.server.port}"], capture_output=True,
                         text=True)
    if out.returncode == 0 and out.stdout.strip():
        assert all("127.0.0.1:" in line for line in out.stdout.splitlines())
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None,
                                                           socket.AF_INET)} - {"127.0.0.1"}
    addresses |= {"127.0.0.2"}          # another loopback address: still refused
    for address in addresses:
        with pytest.raises(OSError):
            socket.create_connection((address, lab.server.port), timeout=1).close()


def test_discovery_negotiation(lab):
    v2 = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
          "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
          "application/json")
    code, headers, body = lab.request("GET", "/apis", accept=v2)
    assert code == 200 and "v=v2;" in headers["Content-Type"].replace(" ", "")
    assert body["apiVersion"] == "apidiscovery.k8s.io/v2"
    groups = {item["metadata"]["name"]: item for item in body["items"]}
    assert set(groups) == {"apps", "discovery.k8s.io", "networking.k8s.io",
                           "authorization.k8s.io", "authentication.k8s.io", "k8s.cni.cncf.io"}
    deploy = groups["apps"]["versions"][0]["resources"][0]
    assert deploy["shortNames"] == ["deploy"] and deploy["categories"] == ["all"]
    old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    _, headers, body = lab.request("GET", "/api", accept=old)
    assert body["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    core = {r["resource"]: r for r in body["items"][0]["versions"][0]["resources"]}
    assert {"pods", "services", "nodes", "namespaces", "endpoints", "events"} <= set(core)
    assert core["pods"]["shortNames"] == ["po"]
    _, _, legacy = lab.request("GET", "/api")
    assert legacy["kind"] == "APIVersions" and legacy["versions"] == ["v1"]
    _, _, resources = lab.request("GET", "/apis/networking.k8s.io/v1")
    assert resources["resources"][0]["name"] == "networkpolicies"


def test_openapi_v3_has_patch_with_gvk_and_field_validation(lab):
    _, _, index = lab.request("GET", "/openapi/v3")
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    _, _, doc = lab.request("GET", url)
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1",
                                                        "kind": "Deployment"}
    assert patch["parameters"][0]["name"] == "fieldValidation"
    code, _, v2 = lab.request("GET", "/openapi/v2")     # empty: kubectl validates List items on the server
    assert code == 200 and v2["swagger"] == "2.0" and v2["definitions"] == {}


def test_method_not_allowed_and_unknown_resource(lab):
    code, _, body = lab.request("PUT", "/api/v1/namespaces/default/pods", {})
    assert (code, body["reason"]) == (405, "MethodNotAllowed")
    code, _, body = lab.request("GET", "/api/v1/foos")
    assert (code, body["reason"]) == (404, "NotFound")


def test_dry_run_stores_nothing(lab):
    code, _, body = lab.request("POST", "/api/v1/namespaces/default/pods?dryRun=All",
                                {"metadata": {"name": "dry"}, "spec": {"containers": [
                                    {"name": "c", "image": "x"}]}})
    assert code == 201 and body["metadata"]["name"] == "dry"
    assert lab.request("GET", "/api/v1/namespaces/default/pods/dry")[0] == 404


def read_stream(lab, path: str, seconds: float, accept: str = "application/json") -> list[dict]:
    ctx = ssl.create_default_context(cadata=lab.server.ca_pem.decode())
    import urllib.request
    req = urllib.request.Request(lab.server.url + path, headers={
        "Authorization": f"Bearer {lab.server.token}", "Accept": accept})
    events = []
    with urllib.request.urlopen(req, context=ctx, timeout=seconds + 5) as resp:
        for line in resp:
            events.append(json.loads(line))
    return events


def test_watch_too_old_resource_version_is_410_expired(tmp_path):
    lab = Lab(tmp_path)
    lab.start()
    try:
        lab.server.store._history = type(lab.server.store._history)(maxlen=3)
        for i in range(6):
            lab.request("POST", "/api/v1/namespaces", {"metadata": {"name": f"ns{i}"}})
        events = read_stream(lab, "/api/v1/namespaces?watch=true&resourceVersion=1"
                                  "&timeoutSeconds=1", 1)
        assert events[0]["type"] == "ERROR"
        assert events[0]["object"]["code"] == 410
        assert events[0]["object"]["reason"] == "Expired"
    finally:
        lab.stop()


def test_watch_bookmarks_and_table_events(tmp_path):
    lab = Lab(tmp_path, bookmark_interval=0.2).start()
    try:
        rv = lab.request("GET", "/api/v1/namespaces")[2]["metadata"]["resourceVersion"]
        events = read_stream(lab, f"/api/v1/namespaces?watch=true&resourceVersion={rv}"
                                  "&allowWatchBookmarks=true&timeoutSeconds=1", 1)
        bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
        assert bookmarks and bookmarks[0]["object"]["metadata"]["resourceVersion"] == rv
        table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        events = read_stream(lab, "/api/v1/namespaces?watch=true&timeoutSeconds=1", 1, table)
        assert events[0]["object"]["kind"] == "Table"
        assert len(events[0]["object"]["rows"]) == 1
    finally:
        lab.stop()


def test_kubectl_get_watch_shows_changes(lab):
    need_kubectl()
    env = dict(os.environ, HOME=str(lab.home), KUBECONFIG=str(lab.kubeconfig))
    lab.kubectl("run", "w1", "--image=x", check=True)
    proc = subprocess.Popen([KUBECTL, "get", "pods", "-w"], stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        time.sleep(1.5)
        lab.kubectl("label", "pod", "w1", "a=b", check=True)
        lab.kubectl("delete", "pod", "w1", check=True, timeout=20)
        time.sleep(1.0)
        assert proc.poll() is None                      # the watch stays open
    finally:
        proc.terminate()
        out = proc.communicate(timeout=5)[0]
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert any(line.split()[:3] == ["w1", "1/1", "Terminating"] for line in lines[1:])
    assert len([line for line in lines if line.startswith("w1 ")]) >= 3


def test_state_survives_a_restart(tmp_path):
    first = Lab(tmp_path).start()
    v1 = first.client()
    v1.create_namespace({"metadata": {"name": "keep"}})
    v1.create_namespaced_pod("keep", {"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "x"}]}})
    ip = first.wait_for(lambda: v1.read_namespaced_pod("p", "keep").status.pod_ip, what="IP")
    rv = int(v1.list_namespaced_pod("keep").metadata.resource_version)
    first.stop()
    stored = Journal(tmp_path / "state" / "journal").load()[0]
    assert [ident for ident in stored if ident.startswith("core/pods/keep/")] == ["core/pods/keep/p"]
    second = Lab(tmp_path)
    second.start()
    try:
        v1 = second.client()
        pod = v1.read_namespaced_pod("p", "keep")
        assert pod.status.pod_ip == ip and pod.status.phase == "Running"
        assert int(v1.list_namespaced_pod("keep").metadata.resource_version) >= rv
        assert second.runtime.started                     # the kubelet re-started the pod
        v1.create_namespaced_pod("keep", {"metadata": {"name": "q"}, "spec": {
            "containers": [{"name": "c", "image": "x"}]}})
        assert int(v1.read_namespaced_pod("q", "keep").metadata.resource_version) > rv
    finally:
        second.stop()


def test_messages_in_french(tmp_path):
    lab = Lab(tmp_path, lang="fr").start()
    try:
        code, _, body = lab.request("GET", "/api/v1/namespaces/default/pods/absent")
        assert code == 404 and body["message"] == 'pods "absent" introuvable'
        code, _, body = lab.request("POST", "/api/v1/namespaces/default/pods",
                                    {"metadata": {"name": "p"}, "spec": {"containers": [
                                        {"name": "c"}]}})
        assert code == 422
        assert body["details"]["causes"][0]["message"] == "Valeur requise"
    finally:
        lab.stop()


def test_start_in_thread_reports_port_and_stops(tmp_path):
    server = ApiServer(tmp_path / "s", LocalRuntime(), name="one")
    server.start_in_thread()
    port = server.port
    assert port > 0
    server.stop_in_thread()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_kubectl_run_interactive_rm_reports_exit_code(lab):
    need_kubectl()
    out = lab.kubectl("run", "t1", "-i", "--rm", "--image=x", "--restart=Never", "--", "sh",
                      "-c", "read a; echo got $a; exit 7", input="typed\n", timeout=30)
    assert out.returncode == 7
    assert "got typed" in out.stdout and 'pod "t1" deleted' in out.stdout
    assert lab.kubectl("get", "pod", "t1").returncode == 1


def test_server_side_apply_creates_then_updates_and_logs_answer(lab, tmp_path):
    need_kubectl()
    manifest = tmp_path / "np.yaml"
    manifest.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                        "  name: deny\nspec:\n  podSelector: {}\n")
    first = lab.kubectl("apply", "--server-side", "-f", str(manifest), check=True)
    assert first.stdout.strip() == "networkpolicy.networking.k8s.io/deny serverside-applied"
    manifest.write_text(manifest.read_text().replace("podSelector: {}",
                                                     "podSelector: {matchLabels: {app: db}}"))
    lab.kubectl("apply", "--server-side", "-f", str(manifest), check=True)
    out = lab.kubectl("get", "netpol", check=True).stdout.splitlines()
    assert out[1].split()[:2] == ["deny", "app=db"]
    policy = json.loads(lab.kubectl("get", "netpol", "deny", "-o", "json", check=True).stdout)
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    lab.kubectl("run", "quiet", "--image=x", check=True)
    lab.kubectl("wait", "--for=condition=Ready", "pod/quiet", "--timeout=20s", check=True)
    logs = lab.kubectl("logs", "quiet")
    assert (logs.returncode, logs.stdout) == (0, "")


class SlowStopRuntime(LocalRuntime):
    """Stopping a pod takes a while, as tearing down a real network namespace does."""

    async def stop_pod(self, pod: dict) -> None:
        import asyncio
        await asyncio.sleep(1.0)
        await super().stop_pod(pod)


def test_namespace_terminating_then_removed_with_graceful_pods(tmp_path):
    lab = Lab(tmp_path)
    lab.runtime = lab.server.runtime = SlowStopRuntime()
    lab.start()
    try:
        v1 = lab.client()
        v1.create_namespace({"metadata": {"name": "gone"}})
        for name in ("a", "b"):
            v1.create_namespaced_pod("gone", {"metadata": {"name": name}, "spec": {
                "containers": [{"name": "c", "image": "x"}]}})
        lab.wait_for(lambda: all(p.status.pod_ip for p in v1.list_namespaced_pod("gone").items),
                     what="pods running")
        v1.delete_namespace("gone")
        ns = v1.read_namespace("gone")
        assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp
        code, _, body = lab.request("POST", "/api/v1/namespaces/gone/pods", {
            "metadata": {"name": "late"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})
        assert (code, body["reason"]) == (403, "Forbidden")
        pods = v1.list_namespaced_pod("gone").items
        assert pods and all(p.metadata.deletion_timestamp for p in pods)
        lab.wait_for(lambda: "gone" not in [n.metadata.name for n in v1.list_namespace().items],
                     what="namespace removed")
        assert lab.runtime.started == {} and len(lab.runtime.stopped) == 2
    finally:
        lab.stop()


def test_delete_collection_and_killing_events(lab):
    v1 = lab.client()
    for name, app in (("x1", "x"), ("x2", "x"), ("y1", "y")):
        v1.create_namespaced_pod("default", {"metadata": {"name": name, "labels": {"app": app}},
                                             "spec": {"containers": [{"name": "c",
                                                                      "image": "i"}]}})
    lab.wait_for(lambda: all(p.status.pod_ip for p in v1.list_namespaced_pod("default").items),
                 what="pods running")
    v1.delete_collection_namespaced_pod("default", label_selector="app=x")
    lab.wait_for(lambda: [p.metadata.name for p in v1.list_namespaced_pod("default").items]
                 == ["y1"], what="x pods gone")
    killing = v1.list_namespaced_event("default", field_selector="reason=Killing").items
    assert sorted(e.involved_object.name for e in killing) == ["x1", "x2"]
    assert killing[0].source.component == "kubelet"


def test_invalid_network_policy_is_refused_with_the_field(lab, tmp_path):
    need_kubectl()
    manifest = tmp_path / "np.yaml"
    manifest.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                        "  name: bad\nspec:\n  podSelector: {}\n  ingress:\n"
                        "  - ports:\n    - port: 70000\n")
    out = lab.kubectl("apply", "-f", str(manifest))
    assert out.returncode == 1
    assert 'The NetworkPolicy "bad" is invalid: spec.ingress[0].ports[0].port' in out.stderr
    assert "bad" not in lab.kubectl("get", "netpol").stdout
