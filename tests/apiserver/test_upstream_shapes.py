"""Objects the lab returns have the fields and types a real API server returns.

Two references: the reconstructed kind objects of ``tests/fixtures/kind-objects`` (every field
they have, the lab has, with the same JSON type), and the OpenAPI v3 schemas the lab serves
(every field the lab returns is declared there, with that type). No kubectl: raw requests.
"""
from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kind-objects"
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
              float: "number", type(None): "null"}


def type_of(value) -> str:
    return JSON_TYPES[type(value)]


def missing_or_mistyped(want, got, path="") -> list[str]:
    """Paths of ``want`` that ``got`` lacks or holds with another JSON type."""
    if type_of(want) != type_of(got):
        return [f"{path}: {type_of(want)} != {type_of(got)}"]
    out = []
    if isinstance(want, dict):
        for key, value in want.items():
            if key.startswith("_"):
                continue
            if key not in got:
                out.append(f"{path}.{key}: missing")
            else:
                out += missing_or_mistyped(value, got[key], f"{path}.{key}")
    elif isinstance(want, list) and want:
        if not got:
            return [f"{path}: empty"]
        out += missing_or_mistyped(want[0], got[0], f"{path}[0]")
    return out


def resolve(schema: dict, schemas: dict) -> dict:
    while True:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        elif len(schema.get("allOf", [])) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema


def off_schema(value, schema: dict, schemas: dict, path="") -> list[str]:
    schema = resolve(schema, schemas)
    kind = schema.get("type")
    if value is None or schema.get("x-kubernetes-int-or-string"):
        return []
    if kind == "integer" and isinstance(value, bool) or kind and kind != type_of(value) and not (
            kind == "number" and isinstance(value, int)):
        return [f"{path}: {type_of(value)} where the schema says {kind}"]
    out = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                out.append(f"{path}.{key}: not in the schema")
            else:
                out += off_schema(item, schema["properties"][key], schemas, f"{path}.{key}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            out += off_schema(item, schema["additionalProperties"], schemas, f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += off_schema(item, schema["items"], schemas, f"{path}[{i}]")
    return out


def create(lab, path, body):
    code, _, obj = lab.request("POST", path, body)
    assert code == 201, obj
    return obj


def test_lab_objects_match_kind_reconstructions_and_the_served_schema(lab):
    create(lab, "/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                     "ports": [{"containerPort": 80}]}]}}}})
    create(lab, "/api/v1/namespaces/default/pods", {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "client", "creationTimestamp": None, "labels": {"run": "client"}},
        "spec": {"containers": [{"name": "client", "image": "busybox", "args": ["sleep", "1d"],
                                 "resources": {}}],
                 "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"}, "status": {}})
    for name, extra in (("web", {}), ("web-np", {"type": "NodePort"})):
        create(lab, "/api/v1/namespaces/default/services", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": {"app": "web"}, "creationTimestamp": None},
            "spec": {"ports": [{"port": 8080 if extra else 80, "protocol": "TCP",
                                "targetPort": 80}],
                     "selector": {"app": "web"}, **extra}, "status": {"loadBalancer": {}}})

    def running(name):
        code, _, pod = lab.request("GET", f"/api/v1/namespaces/default/pods/{name}")
        return pod.get("status", {}).get("phase") == "Running" and pod
    lab.wait_for(lambda: running("client"), what="client running")

    def web_slice():
        _, _, slices = lab.request(
            "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
            "?labelSelector=kubernetes.io/service-name%3Dweb")
        items = slices["items"]
        return items and items[0].get("endpoints") and items[0]
    got = {
        "pod-run": running("client"),
        "service-expose": lab.request("GET", "/api/v1/namespaces/default/services/web")[2],
        "service-nodeport": lab.request("GET", "/api/v1/namespaces/default/services/web-np")[2],
        "endpointslice": lab.wait_for(web_slice, what="web's endpoints"),
        "deployment-create": lab.request(
            "GET", "/apis/apps/v1/namespaces/default/deployments/web")[2],
    }
    for name, obj in got.items():
        want = json.loads((FIXTURES / f"{name}.json").read_text())
        assert missing_or_mistyped(want, obj) == [], name

    for name, obj in got.items():
        group_version = obj["apiVersion"]
        path = "/openapi/v3/" + ("api/v1" if group_version == "v1" else f"apis/{group_version}")
        code, _, doc = lab.request("GET", path)
        schemas = doc["components"]["schemas"]
        top = next(s for s in schemas.values() if {"group": group_version.rpartition("/")[0],
                                                   "version": "v1", "kind": obj["kind"]}
                   in s.get("x-kubernetes-group-version-kind", []))
        assert off_schema(obj, top, schemas) == [], name
