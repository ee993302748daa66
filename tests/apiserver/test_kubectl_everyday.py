"""Everyday kubectl commands against the lab API (stand-in runtime), with the real kubectl.

``describe`` of every served kind, created the way courses create them (``kubectl create``,
``expose``, ``run``, ``apply``): it must not crash (kubectl 1.32 panicked on an EndpointSlice
port without ``name``) and must list the endpoints. The tests run in order on one server.
"""
from __future__ import annotations

import json
import re

import pytest

from .conftest import need_kubectl

pytestmark = pytest.mark.usefixtures("kubectl_available")

NS = "every"
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: every}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {run: client}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports: [{port: 80}]
"""


@pytest.fixture(scope="module")
def kubectl_available():
    need_kubectl()


def pods(lab, selector):
    out = lab.kubectl("-n", NS, "get", "pods", "-l", selector, "-o", "json", check=True).stdout
    return [p for p in json.loads(out)["items"] if p["status"].get("podIP")]


def describe(lab, *args):
    proc = lab.kubectl("-n", NS, "describe", *args)
    assert "panic" not in proc.stderr and "goroutine" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def endpoints_lines(text: str) -> list[str]:
    """The Endpoints lines of ``describe svc``, each sorted (the order follows pod names)."""
    return [",".join(sorted(line.split(None, 1)[1].split(","))) if len(line.split(None, 1)) > 1
            else "" for line in text.splitlines() if line.startswith("Endpoints:")]


def test_create_workloads_and_services_in_common_forms(shared_lab):
    lab = shared_lab
    lab.kubectl("create", "namespace", NS, check=True)
    lab.kubectl("-n", NS, "create", "deployment", "web", "--image=nginx", "--port=80",
                "--replicas=2", check=True)
    lab.kubectl("-n", NS, "create", "deployment", "named", "--image=nginx:1.27", check=True)
    lab.kubectl("-n", NS, "run", "client", "--image=busybox", "--", "sleep", "1d", check=True)
    # unnamed port (expose), NodePort, headless, named (create service), multi-port
    lab.kubectl("-n", NS, "expose", "deployment", "web", "--port=80", check=True)
    lab.kubectl("-n", NS, "expose", "deployment", "web", "--name=web-np", "--type=NodePort",
                "--port=8080", "--target-port=80", check=True)
    lab.kubectl("-n", NS, "expose", "deployment", "web", "--name=web-headless",
                "--cluster-ip=None", "--port=80", check=True)
    lab.kubectl("-n", NS, "create", "service", "clusterip", "named", "--tcp=80:8080",
                check=True)
    lab.kubectl("-n", NS, "create", "service", "clusterip", "multi", "--tcp=80:80",
                "--tcp=443:8443", check=True)
    lab.kubectl("-n", NS, "patch", "service", "multi", "-p",
                '{"spec":{"selector":{"app":"web"}}}', check=True)
    lab.kubectl("-n", NS, "expose", "pod", "client", "--port=80", check=True)
    lab.kubectl("apply", "-f", "-", input=POLICY, check=True)
    lab.wait_for(lambda: len(pods(lab, "app=web")) == 2 and pods(lab, "app=named")
                 and pods(lab, "run=client"), what="pods running")


def test_describe_services_lists_endpoints(shared_lab):
    lab = shared_lab
    web_ips = sorted(p["status"]["podIP"] for p in pods(lab, "app=web"))
    want = ",".join(sorted(f"{ip}:80" for ip in web_ips))

    seen = []

    def settled():
        seen.append(describe(lab, "service", "web"))
        return seen[-1] if endpoints_lines(seen[-1]) == [want] else None
    try:
        text = lab.wait_for(settled, timeout=30, what="web's endpoints")
    except AssertionError:
        raise AssertionError(f"want Endpoints: {want}, last describe:\n{seen[-1]}") from None
    assert re.search(r"^IP Family Policy:\s+SingleStack$", text, re.M)
    assert re.search(r"^IP Families:\s+IPv4$", text, re.M)
    assert re.search(r"^Internal Traffic Policy:\s+Cluster$", text, re.M)
    assert endpoints_lines(describe(lab, "service", "web-np")) == [want]
    assert re.search(r"^NodePort:\s+<unset>\s+3\d{4}/TCP$",
                     describe(lab, "service", "web-np"), re.M)
    assert endpoints_lines(describe(lab, "service", "web-headless")) == [want]
    assert endpoints_lines(describe(lab, "service", "multi")) == [
        want, ",".join(sorted(f"{ip}:8443" for ip in web_ips))]
    named_ip = pods(lab, "app=named")[0]["status"]["podIP"]
    assert endpoints_lines(describe(lab, "service", "named")) == [f"{named_ip}:8080"]
    client_ip = pods(lab, "run=client")[0]["status"]["podIP"]
    assert endpoints_lines(describe(lab, "service", "client")) == [f"{client_ip}:80"]


def test_describe_every_served_kind(shared_lab):
    lab = shared_lab
    out = describe(lab, "pods", "-l", "app=web")
    assert re.search(r"^QoS Class:\s+BestEffort$", out, re.M)
    assert "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s" in out
    for kind in ("deployment", "replicaset", "endpoints", "endpointslices", "networkpolicy",
                 "events"):
        assert describe(lab, kind).strip(), kind
    assert "10.0.0.0/8" in describe(lab, "networkpolicy", "web-from-client")
    for args in (("namespace", NS), ("nodes",)):
        proc = lab.kubectl("describe", *args)
        assert proc.returncode == 0 and "panic" not in proc.stderr, proc.stderr


def test_served_objects_carry_upstream_defaults(shared_lab):
    lab = shared_lab
    slices = json.loads(lab.kubectl("-n", NS, "get", "endpointslices", "-l",
                                    "kubernetes.io/service-name=web", "-o", "json",
                                    check=True).stdout)["items"]
    assert slices[0]["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]
    pod = pods(lab, "run=client")[0]
    spec = pod["spec"]
    assert spec["enableServiceLinks"] is True and spec["serviceAccountName"] == "default"
    assert spec["containers"][0]["imagePullPolicy"] == "Always"          # no tag: latest
    assert pod["status"]["qosClass"] == "BestEffort"
    deploy = json.loads(lab.kubectl("-n", NS, "get", "deploy", "named", "-o", "json",
                                    check=True).stdout)
    assert deploy["spec"]["progressDeadlineSeconds"] == 600
    template = deploy["spec"]["template"]["spec"]
    assert template["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert "tolerations" not in template and "enableServiceLinks" not in template
    rs = json.loads(lab.kubectl("-n", NS, "get", "rs", "-l", "app=named", "-o", "json",
                                check=True).stdout)["items"][0]
    assert "revisionHistoryLimit" not in rs["spec"]


@pytest.mark.parametrize("field, words", [
    ("pod.spec.containers.ports", ("<[]ContainerPort>", "containerPort\t<integer> -required-")),
    ("service.spec.ports.targetPort", ("<IntOrString>", "Number or name of the port")),
    ("networkpolicy.spec.ingress.from.ipBlock", ("<IPBlock>", "cidr\t<string> -required-")),
    ("deployment.spec.strategy.rollingUpdate.maxSurge", ("<IntOrString>",)),
    ("replicaset.spec.template.spec.containers.image", ("<string>",)),
    ("endpointslice.ports.name", ("<string>",)),
    ("endpoints.subsets.addresses.ip", ("<string>",)),
    ("namespace.status.phase", ("<string>",)),
    ("node.status.addresses", ("<[]NodeAddress>",)),
    ("event.involvedObject", ("<ObjectReference>",)),
    ("pods.metadata.labels", ("<map[string]string>",)),
    ("selfsubjectaccessreview.spec.resourceAttributes.verb", ("<string>",)),
])
def test_explain_nested_fields_of_every_kind(shared_lab, field, words):
    proc = shared_lab.kubectl("explain", field)
    assert proc.returncode == 0, proc.stderr
    for word in words:
        assert word in proc.stdout, proc.stdout


def test_explain_a_kind_lists_its_fields(shared_lab):
    out = shared_lab.kubectl("explain", "services", check=True).stdout
    assert out.startswith("KIND:       Service\nVERSION:    v1\n")
    assert "Service is a named abstraction of software service" in out
    for field in ("apiVersion\t<string>", "metadata\t<ObjectMeta>", "spec\t<ServiceSpec>"):
        assert field in out
    missing = shared_lab.kubectl("explain", "pod.spec.nosuchfield")
    assert missing.returncode == 1 and 'field "nosuchfield" does not exist' in missing.stderr


def test_auth_can_i_and_whoami(shared_lab):
    assert shared_lab.kubectl("auth", "can-i", "create", "pods", check=True).stdout == "yes\n"
    assert shared_lab.kubectl("auth", "can-i", "delete", "deployments", "-n", NS,
                              check=True).stdout == "yes\n"
    listed = shared_lab.kubectl("auth", "can-i", "--list", check=True).stdout
    assert listed.splitlines()[1].split() == ["*.*", "[]", "[]", "[*]"]
    assert "kubernetes-admin" in shared_lab.kubectl("auth", "whoami", check=True).stdout


DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, namespace: every, labels: {team: a}}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers:
      - {name: app, image: nginx:1.27, ports: [{containerPort: 80}]}
"""


def deploy_yaml(replicas: int) -> str:
    return DEPLOY.replace("REPLICAS", str(replicas))


def test_server_side_apply_conflicts_between_two_field_managers(shared_lab):
    lab = shared_lab
    first = lab.kubectl("apply", "--server-side", "-f", "-", input=deploy_yaml(1), check=True)
    assert first.stdout.strip() == "deployment.apps/ssa serverside-applied"
    again = lab.kubectl("apply", "--server-side", "-f", "-", input=deploy_yaml(1), check=True)
    assert again.stdout.strip() == "deployment.apps/ssa serverside-applied"
    other = lab.kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                        input=deploy_yaml(3))
    assert other.returncode == 1
    assert other.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas\n')
    assert "--force-conflicts" in other.stderr
    assert lab.kubectl("-n", NS, "get", "deploy", "ssa", "-o", "jsonpath={.spec.replicas}",
                       check=True).stdout == "1"
    lab.kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f",
                "-", input=deploy_yaml(3), check=True)
    obj = json.loads(lab.kubectl("-n", NS, "get", "deploy", "ssa", "-o", "json",
                                 "--show-managed-fields", check=True).stdout)
    assert obj["spec"]["replicas"] == 3
    owners = {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"]["managedFields"]}
    assert "f:replicas" in owners[("other", "Apply")]["f:spec"]
    assert "f:replicas" not in owners[("kubectl", "Apply")]["f:spec"]
    assert "f:team" in owners[("kubectl", "Apply")]["f:metadata"]["f:labels"]   # shared


def test_server_side_apply_removes_fields_its_manager_dropped(shared_lab):
    lab = shared_lab
    without_label = deploy_yaml(3).replace(", labels: {team: a}", "")
    lab.kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                input=without_label, check=True)
    still = lab.kubectl("-n", NS, "get", "deploy", "ssa", "-o", "jsonpath={.metadata.labels}",
                        check=True).stdout
    assert json.loads(still) == {"team": "a"}           # kubectl still owns it
    lab.kubectl("apply", "--server-side", "-f", "-",
                input=without_label.replace("  replicas: 3\n", ""), check=True)
    gone = lab.kubectl("-n", NS, "get", "deploy", "ssa", "-o", "jsonpath={.metadata.labels}",
                       check=True).stdout
    assert gone == ""


def test_diff_exits_1_on_a_change_and_0_without(shared_lab):
    lab = shared_lab
    manifest = deploy_yaml(3).replace(", labels: {team: a}", "")
    same = lab.kubectl("diff", "-f", "-", input=manifest)
    assert same.returncode == 0 and same.stdout == "", same.stdout + same.stderr
    changed = lab.kubectl("diff", "-f", "-", input=manifest.replace("nginx:1.27", "nginx:1.28"))
    assert changed.returncode == 1, changed.stderr
    assert "-      - image: nginx:1.27" in changed.stdout
    assert "+      - image: nginx:1.28" in changed.stdout
    image = lab.kubectl("-n", NS, "get", "deploy", "ssa", "-o",
                        "jsonpath={.spec.template.spec.containers[0].image}", check=True).stdout
    assert image == "nginx:1.27"                          # diff stored nothing
    created = lab.kubectl("diff", "-f", "-", input=manifest.replace("name: ssa,", "name: fresh,"))
    assert created.returncode == 1 and "+  name: fresh" in created.stdout


def test_dry_run_server_stores_nothing(shared_lab):
    lab = shared_lab
    out = lab.kubectl("-n", NS, "run", "dry", "--image=busybox", "--dry-run=server", "-o", "json",
                      "--", "sleep", "1d", check=True).stdout
    pod = json.loads(out)
    assert pod["spec"]["enableServiceLinks"] is True and pod["metadata"]["uid"]
    assert lab.kubectl("-n", NS, "get", "pod", "dry").returncode == 1
    lab.kubectl("-n", NS, "delete", "deploy", "ssa", "--dry-run=server", check=True)
    lab.kubectl("-n", NS, "scale", "deploy", "ssa", "--replicas=7", "--dry-run=server",
                check=True)
    lab.kubectl("-n", NS, "label", "deploy", "ssa", "x=y", "--dry-run=server", check=True)
    obj = json.loads(lab.kubectl("-n", NS, "get", "deploy", "ssa", "-o", "json", check=True).stdout)
    assert obj["spec"]["replicas"] == 3 and "x" not in obj["metadata"].get("labels", {})
    applied = lab.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-",
                          input=deploy_yaml(3).replace("name: ssa,", "name: ghost,"), check=True)
    assert "serverside-applied (server dry run)" in applied.stdout
    assert lab.kubectl("-n", NS, "get", "deploy", "ghost").returncode == 1


def exec_env(lab, pod: str) -> dict:
    out = lab.kubectl("-n", NS, "exec", pod, "--", "env", check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_service_variables_are_those_of_services_existing_at_start(shared_lab):
    lab = shared_lab
    lab.kubectl("-n", NS, "run", "early", "--image=busybox", "--", "sleep", "1d", check=True)
    lab.wait_for(lambda: pods(lab, "run=early"), what="early running")
    lab.kubectl("-n", NS, "create", "service", "clusterip", "late-svc", "--tcp=8080:80",
                check=True)
    ip = lab.kubectl("-n", NS, "get", "svc", "late-svc", "-o", "jsonpath={.spec.clusterIP}",
                     check=True).stdout
    lab.kubectl("-n", NS, "run", "after", "--image=busybox", "--", "sleep", "1d", check=True)
    lab.kubectl("-n", NS, "run", "nolinks", "--image=busybox",
                '--overrides={"spec":{"enableServiceLinks":false}}', "--", "sleep", "1d",
                check=True)
    lab.wait_for(lambda: pods(lab, "run=after") and pods(lab, "run=nolinks"), what="running")
    after = exec_env(lab, "after")
    assert after["LATE_SVC_SERVICE_HOST"] == ip
    assert after["LATE_SVC_SERVICE_PORT"] == "8080"
    assert after["LATE_SVC_SERVICE_PORT_8080_80"] == "8080"            # the named port
    assert after["LATE_SVC_PORT"] == f"tcp://{ip}:8080"
    assert after["LATE_SVC_PORT_8080_TCP"] == f"tcp://{ip}:8080"
    assert after["LATE_SVC_PORT_8080_TCP_ADDR"] == ip
    assert after["LATE_SVC_PORT_8080_TCP_PROTO"] == "tcp"
    assert "WEB_HEADLESS_SERVICE_HOST" not in after                     # no cluster IP
    assert after["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    early = exec_env(lab, "early")
    assert "LATE_SVC_SERVICE_HOST" not in early and "WEB_SERVICE_HOST" in early
    nolinks = exec_env(lab, "nolinks")
    assert "LATE_SVC_SERVICE_HOST" not in nolinks and "WEB_SERVICE_HOST" not in nolinks
    assert nolinks["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"


def test_debug_adds_an_ephemeral_container_and_attaches_to_its_shell(shared_lab):
    lab = shared_lab
    out = lab.kubectl("-n", NS, "debug", "-i", "early", "--image=busybox",
                      "--container=dbg", input="echo from-debug $HOSTNAME\nexit 3\n")
    assert out.returncode == 0, out.stderr
    assert "from-debug early" in out.stdout
    pod = json.loads(lab.kubectl("-n", NS, "get", "pod", "early", "-o", "json",
                                 check=True).stdout)
    assert [c["name"] for c in pod["spec"]["ephemeralContainers"]] == ["dbg"]
    assert pod["spec"]["ephemeralContainers"][0]["terminationMessagePolicy"] == "File"
    state = pod["status"]["ephemeralContainerStatuses"][0]["state"]
    assert state["terminated"]["exitCode"] == 3
    described = describe(lab, "pod", "early")
    assert "Ephemeral Containers:\n  dbg:" in described
    again = lab.kubectl("-n", NS, "attach", "early", "-c", "dbg", "-i", input="echo x\n")
    assert again.returncode == 1 and "ephemeral containers are never restarted" in again.stderr


def test_cp_into_and_out_of_a_pod_through_tar(shared_lab, tmp_path):
    """The stand-in runtime's exec runs on this machine, so the pod's files are local ones."""
    lab = shared_lab
    source = tmp_path / "hello.txt"
    source.write_text("bonjour\n")
    inside = tmp_path / "in-pod"
    inside.mkdir()
    lab.kubectl("-n", NS, "cp", str(source), f"early:{inside}/copied.txt", check=True)
    assert (inside / "copied.txt").read_text() == "bonjour\n"
    back = tmp_path / "back.txt"
    lab.kubectl("-n", NS, "cp", f"early:{inside}/copied.txt", str(back), check=True)
    assert back.read_text() == "bonjour\n"


def test_server_side_apply_takes_over_a_client_side_apply_without_conflict(shared_lab):
    lab = shared_lab
    manifest = deploy_yaml(1).replace("name: ssa,", "name: csa,")
    lab.kubectl("apply", "-f", "-", input=manifest, check=True)            # client-side
    lab.kubectl("apply", "--server-side", "-f", "-", input=manifest.replace(
        "replicas: 1", "replicas: 2"), check=True)
    other = lab.kubectl("apply", "--server-side", "--field-manager=someone", "-f", "-",
                        input=manifest.replace("replicas: 1", "replicas: 4"))
    assert other.returncode == 1 and 'conflict with "kubectl"' in other.stderr
    last = json.loads(json.loads(lab.kubectl(
        "-n", NS, "get", "deploy", "csa", "-o", "json", check=True).stdout)["metadata"][
        "annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 2          # the annotation follows the new configuration


def test_a_node_port_given_up_by_an_update_is_free_again(lab):
    """A learner corrects a Service's nodePort (or turns it back into a ClusterIP Service): the port
    it had is free for the next Service, as upstream's allocator releases it on update; a port the
    patch leaves unnamed keeps its nodePort."""
    lab.kubectl("create", "namespace", "np", check=True)
    lab.kubectl("-n", "np", "create", "service", "nodeport", "a", "--tcp=80:80", "--node-port=30091", check=True)
    lab.kubectl("-n", "np", "patch", "service", "a", "-p", '{"spec":{"ports":[{"port":80,"nodePort":30092}]}}',
                check=True)
    taken = lab.kubectl("-n", "np", "create", "service", "nodeport", "b", "--tcp=80:80", "--node-port=30092")
    assert taken.returncode != 0 and "already allocated" in taken.stderr, taken.stderr
    lab.kubectl("-n", "np", "create", "service", "nodeport", "c", "--tcp=80:80", "--node-port=30091", check=True)
    lab.kubectl("-n", "np", "patch", "service", "c", "--type=json",
                "-p", '[{"op":"replace","path":"/spec/ports/0/targetPort","value":8080}]', check=True)
    got = json.loads(lab.kubectl("-n", "np", "get", "service", "c", "-o", "json", check=True).stdout)
    assert got["spec"]["ports"][0]["nodePort"] == 30091
    lab.kubectl("-n", "np", "patch", "service", "a", "-p",
                '{"spec":{"type":"ClusterIP"}}', check=True)
    got = json.loads(lab.kubectl("-n", "np", "get", "service", "a", "-o", "json", check=True).stdout)
    assert "nodePort" not in got["spec"]["ports"][0] and "externalTrafficPolicy" not in got["spec"], got["spec"]
    lab.kubectl("-n", "np", "create", "service", "nodeport", "d", "--tcp=80:80", "--node-port=30092", check=True)
