"""Benchmark of kube-proxy in the embedded lab (root): rule programming and endpoint latency.

1. Programming: N services with 2 endpoints each, rendered and loaded into a node's namespace
   (``iptables-restore --noflush`` / ``nft -f``) as the lab's kube-proxy does on every sync.
2. Latency: from ``kubectl scale`` to the new pod answering through the Service's ClusterIP.
Prints figures; asserts nothing. Usage: sudo python3 bench/kube_proxy_lab.py
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.proxy import KubeProxy
from labkit.embedded.topology import LabSpec


def synthetic(n: int) -> list[dict]:
    objs = []
    for i in range(n):
        name = f"svc-{i}"
        ip = f"10.96.{100 + i // 250}.{i % 250 + 1}"
        objs.append({"kind": "Service", "metadata": {"name": name, "namespace": "bench"},
                     "spec": {"clusterIP": ip, "type": "ClusterIP",
                              "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}})
        objs.append({"kind": "EndpointSlice", "addressType": "IPv4",
                     "metadata": {"name": f"{name}-abc", "namespace": "bench",
                                  "labels": {"kubernetes.io/service-name": name}},
                     "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                     "endpoints": [{"addresses": [f"10.244.{1 + j}.{i % 250 + 2}"], "conditions": {"ready": True},
                                    "nodeName": "x"} for j in range(2)]})
    return objs


async def program(spec: LabSpec, objs: list[dict]) -> float:
    proxy = KubeProxy(spec, lambda: objs)
    node = spec.node_plans()[1]
    t0 = time.perf_counter()
    await proxy._sync_node(node, [("bench", i, o) for i, o in enumerate(objs)])
    return time.perf_counter() - t0


def scale_latency(name: str) -> float:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(name)), HOME=tempfile.mkdtemp())
    k = lambda *a: subprocess.run(["kubectl", *a], capture_output=True, text=True, env=env, check=True).stdout
    k("create", "deployment", "web", "--image=jpetazzo/color", "--replicas=2")
    k("expose", "deployment", "web", "--port=80")
    time.sleep(2)
    ip = json.loads(k("get", "svc", "web", "-o", "json"))["spec"]["clusterIP"]
    before = {p["metadata"]["name"] for p in json.loads(k("get", "pods", "-l", "app=web", "-o", "json"))["items"]}
    node = EmbeddedLab(name).spec.node_plans()[1]
    t0 = time.perf_counter()
    k("scale", "deployment", "web", "--replicas=3")
    while time.perf_counter() - t0 < 30:
        out = subprocess.run(["nsenter", f"--net=/run/netns/{node.netns}", "curl", "-s", "-m", "1",
                              f"http://{ip}/"], capture_output=True, text=True).stdout
        if out and json.loads(out)["pod"] not in before:
            return time.perf_counter() - t0
    return float("nan")


def main() -> None:
    for mode in ("iptables", "nftables"):
        name = f"bkp{mode[:3]}"
        lifecycle.down(name)
        spec, _ = lifecycle.up(LabSpec(name=name, proxy_mode=mode))
        for n in (100, 1000, 5000):
            t = asyncio.run(program(spec, synthetic(n)))
            print(f"{mode:9} {n:5} services x 2 endpoints programmed in one node: {t * 1000:8.0f} ms")
        asyncio.run(program(spec, []))
        print(f"{mode:9} scale-up to new endpoint answering through the ClusterIP: "
              f"{scale_latency(name) * 1000:6.0f} ms")
        lifecycle.down(name)


if __name__ == "__main__":
    main()
