"""A bounded fuzzer against a real API server instance: mutated requests never get a 5xx, and
the controllers keep reconciling afterwards (a valid pod runs, a valid Deployment becomes
available, the runtime runs exactly the pods the API says are running).

Fixed seed, a fixed number of requests (about 10 s here): a failure is reproducible, and the
case that failed is in the assertion message.
"""
from __future__ import annotations

import copy
import http.client
import json
import logging
import random
import ssl

PODS = "/api/v1/namespaces/default/pods"
REQUESTS = 2000
SEED = 23

SEEDS = {
    "/api/v1/namespaces/default/pods": {
        "metadata": {"name": "p", "labels": {"app": "a"}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [
            {"containerPort": 80, "name": "http", "protocol": "TCP"}]}],
            "nodeSelector": {"k": "v"}, "tolerations": [{"key": "k", "operator": "Exists"}]}},
    "/api/v1/namespaces/default/services": {
        "metadata": {"name": "s"},
        "spec": {"selector": {"app": "a"}, "type": "NodePort", "sessionAffinity": "ClientIP",
                 "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
                 "externalIPs": ["192.0.2.1"]}},
    "/apis/apps/v1/namespaces/default/deployments": {
        "metadata": {"name": "d"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                 "strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"app": "d"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
    "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies": {
        "metadata": {"name": "np"},
        "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In",
                                                       "values": ["a"]}]},
                 "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                              "ports": [{"port": 80, "endPort": 90, "protocol": "TCP"}]}]}},
    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices": {
        "metadata": {"name": "sl", "labels": {"kubernetes.io/service-name": "s"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": True}, "nodeName": "n"}],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    "/api/v1/namespaces": {"metadata": {"name": "ns1", "labels": {"a": "b"}}},
}
CONTENT_TYPES = ["application/json", "application/merge-patch+json",
                 "application/strategic-merge-patch+json", "application/json-patch+json",
                 "application/yaml", "application/vnd.kubernetes.protobuf"]
QUERIES = ["", "?timeoutSeconds=abc", "?watch=1&timeoutSeconds=-5", "?labelSelector=a%20b%3D%3D",
           "?fieldSelector=spec.nodeName!!x", "?resourceVersion=abc&watch=1&timeoutSeconds=x",
           "?dryRun=All", "?fieldValidation=Strict", "?gracePeriodSeconds=x",
           "?labelSelector=app+in+(a,b)", "?propagationPolicy=Orphan"]


def values(rng: random.Random):
    return rng.choice([
        None, "", "x", "a\n-I KUBE-SERVICES 1 -j RETURN", "A B", "é" * 70, "k" * 300, -1, 0,
        65536, 2 ** 40, 1.5, True, [], [None], {}, {"a": 1}, [1, "x"], "10.96.0.0", "notanip",
        "25%", "http", {"matchLabels": "x"}, [{"x": None}]])


def mutate(value, rng: random.Random, depth: int = 0):
    """One random change somewhere in ``value`` (replace, delete, wrong type, nesting)."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.7:
        key = rng.choice(list(value))
        if rng.random() < 0.15:
            del value[key]
        else:
            value[key] = mutate(value[key], rng, depth + 1)
        return value
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        i = rng.randrange(len(value))
        if rng.random() < 0.2:
            value.append(copy.deepcopy(value[i]))       # duplicates
        else:
            value[i] = mutate(value[i], rng, depth + 1)
        return value
    return values(rng)


def case(rng: random.Random):
    path = rng.choice(list(SEEDS))
    body = copy.deepcopy(SEEDS[path])
    for _ in range(rng.randint(1, 3)):
        body = mutate(body, rng)
    name = (SEEDS[path]["metadata"]["name"] if isinstance(SEEDS[path], dict) else "x")
    method = rng.choice(["POST", "POST", "PUT", "PATCH", "PATCH", "DELETE", "GET"])
    target = path if method in ("POST", "GET") else f"{path}/{name}"
    if rng.random() < 0.15 and "deployments" in path:
        target = f"{path}/{name}/scale"
    elif rng.random() < 0.1 and method != "POST":
        target = f"{path}/{name}/status"
    query = rng.choice(QUERIES)
    if method == "GET" and "watch" not in query and rng.random() < 0.3:
        query = "?watch=1&timeoutSeconds=" + rng.choice(["abc", "-1", "1.5", ""])
        if query.endswith("="):
            query = ""
    content_type = rng.choice(CONTENT_TYPES) if method in ("PATCH", "POST", "PUT") else \
        "application/json"
    raw = json.dumps(body).encode()
    if rng.random() < 0.1:
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    elif rng.random() < 0.05:
        raw = b"[" * 3000 + b"]" * 3000
    elif content_type == "application/vnd.kubernetes.protobuf":
        raw = b"k8s\x00" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 48)))
    return method, target + query, raw, content_type


class Client:
    """One kept-alive HTTPS connection (a new TLS handshake per request would take most of the
    time); reconnects when the server closed it."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self.ctx = ssl.create_default_context(cadata=lab.server.ca_pem.decode())
        self.conn: http.client.HTTPSConnection | None = None

    def request(self, method: str, path: str, raw: bytes, content_type: str) -> tuple[int, object]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.lab.server.host, self.lab.server.port,
                                                        context=self.ctx, timeout=10)
            try:
                self.conn.request(method, path, body=raw, headers={
                    "Authorization": f"Bearer {self.lab.server.token}",
                    "Content-Type": content_type, "Accept": "application/json"})
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                try:
                    return response.status, json.loads(data)
                except ValueError:
                    return response.status, data[:200]
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def test_mutated_requests_get_no_5xx_and_the_cluster_keeps_working(lab):
    rng = random.Random(SEED)
    errors = _Errors()
    logging.getLogger("labkit.apiserver").addHandler(errors)
    try:
        fives = []
        client = Client(lab)
        for _ in range(REQUESTS):
            method, path, raw, content_type = case(rng)
            code, answer = client.request(method, path, raw, content_type)
            if code >= 500:
                fives.append((method, path, raw[:200], content_type, code, answer))
        assert not fives, fives[:5]
        # the controllers are healthy: a valid pod runs, a valid deployment becomes available
        assert lab.request("POST", PODS, {"metadata": {"name": "after-fuzz"}, "spec": {
            "containers": [{"name": "c", "image": "nginx"}]}})[0] == 201
        lab.wait_for(lambda: lab.request("GET", f"{PODS}/after-fuzz")[2]["status"]
                     .get("phase") == "Running", what="a pod running after the fuzzing")
        deploy = copy.deepcopy(SEEDS["/apis/apps/v1/namespaces/default/deployments"])
        deploy["metadata"]["name"] = "after"
        deploy["spec"]["selector"]["matchLabels"] = deploy["spec"]["template"]["metadata"][
            "labels"] = {"app": "after"}
        assert lab.request("POST", "/apis/apps/v1/namespaces/default/deployments", deploy)[0] == 201
        lab.wait_for(lambda: lab.request("GET", "/apis/apps/v1/namespaces/default/deployments/after")
                     [2].get("status", {}).get("availableReplicas") == 2, what="after available")
        failures = [m for m in errors.records if "failed" in m or "cannot reconcile" in m
                    or "internal error" in m]
        assert not failures, failures[:5]
        # the runtime runs exactly the pods the API reports running
        running = {p["metadata"]["uid"] for p in lab.request("GET", "/api/v1/pods")[2]["items"]
                   if p["status"].get("phase") == "Running"}
        assert running <= set(lab.runtime.started)
    finally:
        logging.getLogger("labkit.apiserver").removeHandler(errors)
