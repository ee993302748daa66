"""Pure parts of the kubectl-facing semantics: field paths of server-side apply, the kubelet's
service variables, upstream defaulting. No server, no kubectl."""
from __future__ import annotations

from labkit.apiserver import defaulting, envvars, ssa
from labkit.apiserver.resources import BY_KEY

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "d", "labels": {"app": "d"}},
          "spec": {"replicas": 2, "template": {"spec": {"containers": [
              {"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}}


def test_field_paths_follow_list_map_keys_and_round_trip_as_fields_v1():
    schema = ssa.Schema(BY_KEY["apps/deployments"])
    paths = ssa.paths_of(DEPLOY, schema)
    image = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"app"}', "f:image")
    assert image in paths
    assert ("f:metadata", "f:labels", ".") in paths            # a map owns its existence
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"app"}', ".") in paths
    port = image[:-1] + ("f:ports", 'k:{"containerPort":80,"protocol":"TCP"}', "f:containerPort")
    assert port in paths and ssa.value_at(DEPLOY, port) == 80   # protocol's default is a key
    assert ssa.from_fields_v1(ssa.to_fields_v1(paths)) == paths
    assert ssa.path_text(image) == '.spec.template.spec.containers[name="app"].image'
    assert ssa.value_at(DEPLOY, image) == "nginx"


def test_merge_keeps_other_list_items_and_replaces_scalars():
    schema = ssa.Schema(BY_KEY["apps/deployments"])
    current = {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}}}
    applied = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}
    merged = ssa.merge(current, applied, schema.root, schema)
    assert merged["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": "nginx:2"}, {"name": "side", "image": "busybox"}]


def test_service_variables_as_the_kubelet_writes_them():
    svc = {"metadata": {"name": "my-db", "namespace": "ns"},
           "spec": {"clusterIP": "10.96.0.20", "ports": [
               {"port": 5432, "protocol": "TCP"}, {"name": "metrics", "port": 9187,
                                                   "protocol": "UDP"}]}}
    headless = {"metadata": {"name": "h", "namespace": "ns"},
                "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}
    env = {v["name"]: v["value"] for v in envvars.for_pod(
        {"metadata": {"namespace": "ns"}, "spec": {}}, [svc, headless])}
    assert env == {
        "MY_DB_SERVICE_HOST": "10.96.0.20", "MY_DB_SERVICE_PORT": "5432",
        "MY_DB_SERVICE_PORT_METRICS": "9187", "MY_DB_PORT": "tcp://10.96.0.20:5432",
        "MY_DB_PORT_5432_TCP": "tcp://10.96.0.20:5432", "MY_DB_PORT_5432_TCP_PROTO": "tcp",
        "MY_DB_PORT_5432_TCP_PORT": "5432", "MY_DB_PORT_5432_TCP_ADDR": "10.96.0.20",
        "MY_DB_PORT_9187_UDP": "udp://10.96.0.20:9187", "MY_DB_PORT_9187_UDP_PROTO": "udp",
        "MY_DB_PORT_9187_UDP_PORT": "9187", "MY_DB_PORT_9187_UDP_ADDR": "10.96.0.20"}
    off = envvars.for_pod({"metadata": {"namespace": "ns"}, "spec": {"enableServiceLinks": False}},
                          [svc])
    assert off == []
    pod = envvars.with_env({"spec": {"containers": [{"name": "c", "env": [
        {"name": "MY_DB_SERVICE_HOST", "value": "mine"}]}]}},
        [{"name": "MY_DB_SERVICE_HOST", "value": "10.96.0.20"}, {"name": "X", "value": "1"}])
    assert pod["spec"]["containers"][0]["env"] == [{"name": "X", "value": "1"},
                                                   {"name": "MY_DB_SERVICE_HOST", "value": "mine"}]


def test_pod_defaults_and_qos_classes():
    pod = {"spec": {"containers": [{"name": "c", "image": "busybox@sha256:00",
                                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}
    defaulting.pod(pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    container = pod["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"          # a digest is no "latest"
    assert container["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    burstable = {"spec": {"containers": [{"name": "c", "image": "x:latest",
                                          "resources": {"requests": {"cpu": "1"}}}]}}
    defaulting.pod(burstable)
    assert burstable["status"]["qosClass"] == "Burstable"
    assert burstable["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    tolerant = {"spec": {"containers": [], "tolerations": [{"operator": "Exists"}]}}
    defaulting.pod(tolerant)
    assert tolerant["spec"]["tolerations"] == [{"operator": "Exists"}]
