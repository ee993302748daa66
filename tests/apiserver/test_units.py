"""Pure pieces of the API server, without a server: patches, selectors, protobuf, printers,
validation, the store."""
from __future__ import annotations

import asyncio
import json
import os

import pytest

from labkit.apiserver import protobuf
from labkit.apiserver.discovery import aggregated_version
from labkit.apiserver.journal import Journal
from labkit.apiserver.patch import PatchError, json_patch, merge_patch, strategic_merge
from labkit.apiserver.printers import human_duration, selector_string
from labkit.apiserver.resources import BY_KEY, RESOURCES
from labkit.apiserver.selectors import (fields_match, labels_match, parse_field_selector,
                                        parse_label_selector, selector_matches)
from labkit.apiserver.status import ApiError
from labkit.apiserver.store import Store
from labkit.apiserver.validation import (VALIDATORS, netpol_adapter, plug_netpol,
                                         register_validator, validate)

PODS = BY_KEY["core/pods"]


# --- patches ----------------------------------------------------------------------------------
def test_strategic_merge_like_kubectl_apply():
    deploy = {"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}]},
        {"name": "side", "image": "busybox"}]}}}}
    patch = {"spec": {"replicas": 4, "template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"image": "nginx:1.27", "name": "app"},
                       {"$patch": "delete", "name": "side"}]}}}}
    out = strategic_merge(deploy, patch)
    assert out["spec"]["replicas"] == 4
    assert out["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]
    assert deploy["spec"]["replicas"] == 2                       # input untouched


def test_strategic_merge_null_deletes_and_other_lists_replace():
    obj = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"args": ["x", "y"]}}
    out = strategic_merge(obj, {"metadata": {"labels": {"a": None}}, "spec": {"args": ["z"]}})
    assert out == {"metadata": {"labels": {"b": "2"}}, "spec": {"args": ["z"]}}


def test_strategic_merge_service_ports_by_port_and_env_by_name():
    svc = {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}
    assert strategic_merge(svc, {"ports": [{"port": 80, "targetPort": 9090}]})["ports"] == [
        {"port": 80, "targetPort": 9090}, {"port": 443}]
    c = {"env": [{"name": "A", "value": "1"}]}
    assert strategic_merge(c, {"env": [{"name": "B", "value": "2"}]})["env"] == [
        {"name": "A", "value": "1"}, {"name": "B", "value": "2"}]


def test_merge_patch_rfc7386():
    assert merge_patch({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": None, "e": 3}, "d": [2]}) \
        == {"a": {"c": 2, "e": 3}, "d": [2]}


def test_json_patch_rfc6902():
    doc = {"metadata": {"labels": {"x": "1"}}, "spec": {"items": [1, 2]}}
    out = json_patch(doc, [{"op": "add", "path": "/metadata/labels/y", "value": "2"},
                           {"op": "remove", "path": "/metadata/labels/x"},
                           {"op": "add", "path": "/spec/items/-", "value": 3},
                           {"op": "replace", "path": "/spec/items/0", "value": 0},
                           {"op": "copy", "from": "/spec/items", "path": "/copy"},
                           {"op": "test", "path": "/copy/2", "value": 3}])
    assert out == {"metadata": {"labels": {"y": "2"}}, "spec": {"items": [0, 2, 3]},
                   "copy": [0, 2, 3]}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/spec/items/0", "value": 9}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/nope"}])


# --- selectors --------------------------------------------------------------------------------
@pytest.mark.parametrize("selector,labels,expected", [
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "db"}, False),
    ("app!=web", {}, True),
    ("tier in (front, back)", {"tier": "back"}, True),
    ("tier notin (front)", {"tier": "front"}, False),
    ("tier", {"tier": ""}, True),
    ("!tier", {"tier": "x"}, False),
    ("app=web,tier in (a,b),!canary", {"app": "web", "tier": "a"}, True),
])
def test_label_selectors(selector, labels, expected):
    assert labels_match(parse_label_selector(selector), labels) is expected


def test_bad_label_selector_is_400():
    with pytest.raises(ApiError) as err:
        parse_label_selector("app===x(")
    assert err.value.code == 400


def test_field_selectors_dotted_paths_and_not_equal():
    pod = {"metadata": {"name": "web"}, "spec": {"nodeName": "n1"},
           "status": {"phase": "Running"}, "involvedObject": {"uid": "u1"}}
    assert fields_match(parse_field_selector(
        "spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed"), pod)
    assert not fields_match(parse_field_selector("metadata.name=other"), pod)
    assert fields_match(parse_field_selector("spec.missing="), pod)


def test_selector_objects():
    sel = {"matchLabels": {"app": "a"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["x", "y"]}]}
    assert selector_matches(sel, {"app": "a", "tier": "y"})
    assert not selector_matches(sel, {"app": "a"})
    assert selector_matches({}, {"any": "thing"}) and not selector_matches(None, {})
    assert selector_string(sel) == "app=a,tier in (x,y)"


# --- protobuf ---------------------------------------------------------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    if isinstance(value, str):
        value = value.encode()
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _map(number: int, entries: dict) -> bytes:
    return b"".join(_field(number, _field(1, k) + _field(2, v)) for k, v in entries.items())


def test_protobuf_deployment_as_kubectl_create_sends_it():
    labels = _map(11, {"app": "blue"})
    meta = _field(1, "blue") + labels
    container = _field(1, "color") + _field(2, "jpetazzo/color") + _field(3, "sleep") + \
        _field(3, "1") + _field(8, b"")
    template = _field(1, _map(11, {"app": "blue"})) + _field(2, _field(2, container))
    spec = _field(1, 0) + _field(2, _map(1, {"app": "blue"})) + _field(3, template) + \
        _field(4, b"")
    raw = _field(1, meta) + _field(2, spec) + _field(3, _field(2, 0))
    body = protobuf.MAGIC + _field(1, _field(1, "apps/v1") + _field(2, "Deployment")) + \
        _field(2, raw) + _field(4, "application/vnd.kubernetes.protobuf")
    assert protobuf.decode(body) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "blue", "labels": {"app": "blue"}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "blue"}},
                 "template": {"metadata": {"labels": {"app": "blue"}}, "spec": {"containers": [
                     {"name": "color", "image": "jpetazzo/color", "command": ["sleep", "1"]}]}}}}


def test_protobuf_service_int_or_string_ports():
    port = _field(1, "80-8080") + _field(2, "TCP") + _field(3, 80) + \
        _field(4, _field(1, 0) + _field(2, 8080))
    named = _field(3, 53) + _field(4, _field(1, 1) + _field(3, "dns"))
    spec = _field(1, port) + _field(1, named) + _map(2, {"app": "svc1"}) + _field(4, "ClusterIP")
    body = protobuf.MAGIC + _field(1, _field(1, "v1") + _field(2, "Service")) + \
        _field(2, _field(1, _field(1, "svc1")) + _field(2, spec))
    out = protobuf.decode(body)
    assert out["spec"]["ports"] == [
        {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
        {"port": 53, "targetPort": "dns"}]
    assert out["spec"]["selector"] == {"app": "svc1"} and out["spec"]["type"] == "ClusterIP"


def test_protobuf_rejects_garbage():
    with pytest.raises(protobuf.ProtobufError):
        protobuf.decode(b'{"kind":"Pod"}')
    with pytest.raises(protobuf.ProtobufError):
        protobuf.decode(protobuf.MAGIC + _field(1, _field(2, "ConfigMap")))


# --- printers, discovery, table ---------------------------------------------------------------
@pytest.mark.parametrize("seconds,text", [(5, "5s"), (119, "119s"), (125, "2m5s"), (600, "10m"),
                                          (3 * 3600 + 120, "3h2m"), (30 * 3600, "30h"),
                                          (3 * 86400 + 3600, "3d1h"), (400 * 86400, "400d")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_aggregated_discovery_negotiation():
    both = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
            "application/json")
    assert aggregated_version(both) == "v2"
    assert aggregated_version(both.split(",", 1)[1]) == "v2beta1"
    assert aggregated_version("application/json, */*") is None


def test_resource_table_is_consistent():
    keys = [r.key for r in RESOURCES]
    assert len(keys) == len(set(keys))
    shorts = [s for r in RESOURCES for s in r.short_names]
    assert len(shorts) == len(set(shorts))
    pod_columns = [c.name for c in PODS.columns]
    assert pod_columns == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                           "Nominated Node", "Readiness Gates"]


# --- validation -------------------------------------------------------------------------------
def test_validation_names_and_required_fields():
    causes = validate({"metadata": {"name": "Bad_Name"}, "spec": {"containers": [
        {"name": "c"}, {"name": "c", "image": "x"}]}}, "Pod")
    fields = [c.field for c in causes]
    assert fields == ["metadata.name", "spec.containers[0].image", "spec.containers[1].name"]
    assert validate({"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}},
                    "Service")[0].field == "metadata.name"          # DNS-1035 for services
    deploy = {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "a"}},
              "template": {"metadata": {"labels": {"app": "b"}},
                           "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    assert [c.field for c in validate(deploy, "Deployment")] == ["spec.template.metadata.labels"]


def test_pluggable_networkpolicy_validator():
    class PathError:                     # the shape the brief announced: .path and a message
        def __init__(self, path, message):
            self.path, self.message = path, message

    class FieldError:                    # labkit.netpol's shape: .field and message(lang)
        field = "spec.ingress[0].from[0]"

        def message(self, lang=None):
            return {"en": "Required value", "fr": "Valeur requise"}[lang or "en"]
    saved = VALIDATORS["NetworkPolicy"]
    try:
        register_validator("NetworkPolicy", netpol_adapter(
            lambda obj: [PathError("spec.ingress[0].ports[0].port", "must be 1-65535"),
                         FieldError()]))
        causes = validate({"metadata": {"name": "p"}, "spec": {"podSelector": {}}},
                          "NetworkPolicy")
        assert causes[0].field == "spec.ingress[0].ports[0].port"
        assert causes[0].message("en") == "must be 1-65535"
        assert causes[1].field == "spec.ingress[0].from[0]"
        assert causes[1].message("fr") == "Valeur requise"
    finally:
        VALIDATORS["NetworkPolicy"] = saved


def test_labkit_netpol_validator_is_plugged_when_present():
    pytest.importorskip("labkit.netpol")
    saved = VALIDATORS["NetworkPolicy"]
    try:
        assert plug_netpol()
        bad = {"metadata": {"name": "p"}, "spec": {"podSelector": {}, "ingress": [
            {"ports": [{"port": 70000}]}]}}
        causes = validate(bad, "NetworkPolicy")
        assert [c.field for c in causes] == ["spec.ingress[0].ports[0].port"]
        assert "70000" in causes[0].message("en")
    finally:
        VALIDATORS["NetworkPolicy"] = saved


# --- store ------------------------------------------------------------------------------------
def _pod(name: str, uid: str) -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid}, "spec": {}}


def test_store_persists_atomically_and_reloads(tmp_path):
    store = Store(tmp_path)
    store.put(PODS, _pod("a", "u1"))
    store.put(PODS, _pod("b", "u2"))
    store.delete(PODS, store.get(PODS, "ns", "b"))
    assert store.rv == 3
    assert sorted(os.listdir(tmp_path / "journal")) == ["log-0"]      # no temporary file left
    stored = Journal(tmp_path / "journal").load()[0]
    assert list(stored) == ["core/pods/ns/a"]
    assert json.loads(stored["core/pods/ns/a"])["metadata"]["resourceVersion"] == "1"
    again = Store(tmp_path)
    assert again.rv >= 3 and again.get(PODS, "ns", "a")["metadata"]["uid"] == "u1"
    assert again.by_uid("u1")["metadata"]["name"] == "a" and again.get(PODS, "ns", "b") is None


def test_store_watch_history_and_expiry():
    async def run():
        store = Store(history=2)
        for i in range(4):
            store.put(PODS, _pod(f"p{i}", f"u{i}"))
        watcher = store.watch(PODS, "ns", since=2)
        assert [c.obj["metadata"]["name"] for c in
                [watcher.queue.get_nowait() for _ in range(2)]] == ["p2", "p3"]
        with pytest.raises(ApiError) as err:
            store.watch(PODS, "ns", since=1)
        assert err.value.code == 410
        other = store.watch(PODS, "elsewhere", since=None)
        store.put(PODS, _pod("p9", "u9"))
        assert other.queue.empty() and watcher.queue.get_nowait().type == "ADDED"
    asyncio.run(run())
