"""A Service of more than 100 endpoints, in both kube-proxy modes, with real packets.

The lab's EndpointSlice controller packs at most 100 endpoints in a slice, as upstream's does
(``maxEndpointsPerSlice``), so 115 pods make two slices: kube-proxy must program the endpoints of
both (upstream merges a Service's slices in its EndpointSlice cache, pkg/proxy/
endpointslicecache.go). The kernel reports one endpoint chain per pod, and connections from a
node to the ClusterIP reach pods of each slice (each pod's server answers with its own name).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from labkit.embedded import lifecycle
from labkit.embedded import netns as ns
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

from .helpers import eventually

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
REPLICAS = 115
REQUESTS = 400

_CLIENT = """
import http.client, json, sys
seen = []
for _ in range(int(sys.argv[2])):
    c = http.client.HTTPConnection(sys.argv[1], 80, timeout=5)
    c.request("GET", "/")
    seen.append(json.loads(c.getresponse().read())["pod"])
    c.close()
print(json.dumps(seen))
"""


@pytest.mark.parametrize("mode", ["nftables", "iptables"])
def test_a_service_of_two_slices_reaches_pods_of_both(mode, tmp_path):
    name = "tkpmany" + mode[:3]
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, proxy_mode=mode))
    try:
        env = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=str(kubeconfig_file(name)))

        def k(*args: str) -> str:
            return subprocess.run([KUBECTL, *args], env=env, check=True, capture_output=True, text=True,
                                  timeout=90).stdout

        k("create", "deployment", "many", "--image=jpetazzo/color", f"--replicas={REPLICAS}")
        k("expose", "deployment", "many", "--port=80")

        def slices() -> list[list[tuple[str, str]]]:
            items = json.loads(k("get", "endpointslices", "-l", "kubernetes.io/service-name=many", "-o", "json"))["items"]
            return [[(e["addresses"][0], e["targetRef"]["name"]) for e in s.get("endpoints") or []
                     if e["conditions"].get("ready")] for s in items]

        got = eventually(slices, lambda s: sum(map(len, s)) == REPLICAS, "EndpointSlice endpoints", 180)
        assert len(got) == 2 and max(map(len, got)) == 100   # packed as upstream: 100 + 15
        pods_of = [{pod for _, pod in s} for s in got]
        ips = {ip for s in got for ip, _ in s}

        lab = EmbeddedLab(name)
        node = lab.spec.node_plans()[1]

        def programmed() -> set[str]:
            if mode == "nftables":
                out = lab.node_exec(node.name, ["nft", "list", "table", "ip", "kube-proxy"]).stdout
                return {line.split("dnat to ")[1].split(":")[0] for line in out.splitlines()
                        if "dnat to " in line}
            out = lab.node_exec(node.name, ["iptables-save", "-t", "nat"]).stdout
            return {line.split("--to-destination ")[1].split(":")[0] for line in out.splitlines()
                    if line.startswith("-A KUBE-SEP-") and '"default/many"' in line and "--to-destination" in line}

        assert eventually(programmed, lambda p: ips <= p, "a DNAT rule per endpoint", 180) >= ips   # every endpoint of both slices has its rule
        cluster_ip = json.loads(k("get", "svc", "many", "-o", "json"))["spec"]["clusterIP"]
        out = subprocess.run(ns.in_netns([sys.executable, "-c", _CLIENT, cluster_ip, str(REQUESTS)], node.netns),
                             capture_output=True, text=True, check=True, timeout=120).stdout
        seen = set(json.loads(out))
        assert seen <= pods_of[0] | pods_of[1]
        small = min(pods_of, key=len)
        # 400 connections over 115 pods: a pod of the 15-pod slice is missed by all of them
        # with probability (100/115)^400 < 1e-24
        assert seen & small and seen & (pods_of[0] | pods_of[1]) - small, (len(seen), len(small))
        assert len(seen) > REPLICAS // 2
    finally:
        lifecycle.down(name)
