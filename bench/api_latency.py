"""Latency of the lab API server's get/list with 500 pods (or 1,000: 5 workers, a cap of 2,000), and its memory.

Runs the server (LocalRuntime, 4 nodes) in a child process, creates the pods over HTTPS,
waits until they all run, then times GET of one pod, LIST of the namespace (JSON and Table,
as kubectl asks) over one keep-alive connection, and reads the child's VmRSS/VmHWM.
Prints figures; asserts nothing.

    python3 bench/api_latency.py [--pods 500] [--gets 1000] [--lists 100]
"""
from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

SERVER = """
import sys, time
sys.path.insert(0, {root!r})
from labkit.apiserver import ApiServer, LocalRuntime, kind_like_nodes
server = ApiServer({state!r}, LocalRuntime(kind_like_nodes("bench", workers=5)), name="bench", max_pods=2000)
server.start_in_thread()
server.write_kubeconfig({kubeconfig!r})
print("ready", flush=True)
sys.stdin.read()
server.stop_in_thread()
"""


class Client:
    def __init__(self, kubeconfig: Path) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        import base64
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        host, port = cluster["server"].removeprefix("https://").split(":")
        self.conn = http.client.HTTPSConnection(host, int(port),
                                                context=ssl.create_default_context(cadata=ca))
        self.headers = {"Authorization": f"Bearer {config['users'][0]['user']['token']}"}

    def call(self, method: str, path: str, body: object = None,
             accept: str = "application/json") -> tuple[int, bytes]:
        headers = dict(self.headers, Accept=accept)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()


def timed(fn, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(name: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return (f"{name:<34} n={len(samples):<5} median {statistics.median(samples):7.2f} ms"
            f"   p99 {p99:7.2f} ms")


def memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=500)
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--lists", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        code = SERVER.format(root=str(ROOT), state=f"{tmp}/state", kubeconfig=str(kubeconfig))
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready"
            print(f"server pid {child.pid}; memory at start: {memory(child.pid)} MiB")
            client = Client(kubeconfig)
            client.call("POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})
            start = time.perf_counter()
            for i in range(args.pods):
                status, _ = client.call("POST", "/api/v1/namespaces/bench/pods", {
                    "metadata": {"name": f"pod-{i:04d}", "labels": {"app": f"a{i % 10}"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox",
                                             "ports": [{"containerPort": 80}]}]}})
                assert status == 201, status
            created = time.perf_counter() - start
            while True:
                items = json.loads(client.call(
                    "GET", "/api/v1/namespaces/bench/pods?fieldSelector=status.phase%3DRunning"
                )[1])["items"]
                if len(items) == args.pods:
                    break
                time.sleep(0.2)
            running = time.perf_counter() - start
            print(f"created {args.pods} pods in {created:.2f} s "
                  f"({created / args.pods * 1000:.2f} ms each); all Running after {running:.2f} s")
            mem = memory(child.pid)
            get = timed(lambda: client.call("GET", "/api/v1/namespaces/bench/pods/pod-0250"),
                        args.gets)
            get_table = timed(lambda: client.call("GET", "/api/v1/namespaces/bench/pods/pod-0250",
                                                  accept=TABLE), args.gets)
            lst = timed(lambda: client.call("GET", "/api/v1/namespaces/bench/pods?limit=500"),
                        args.lists)
            lst_table = timed(lambda: client.call("GET", "/api/v1/namespaces/bench/pods?limit=500",
                                                  accept=TABLE), args.lists)
            lst_sel = timed(lambda: client.call("GET", "/api/v1/pods?labelSelector=app%3Da3"),
                            args.lists)
            size = len(client.call("GET", "/api/v1/namespaces/bench/pods")[1])
            print(summary("GET pod (JSON)", get))
            print(summary("GET pod (Table, as kubectl get)", get_table))
            print(summary(f"LIST {args.pods} pods (JSON, {size // 1024} KiB)", lst))
            print(summary(f"LIST {args.pods} pods (Table)", lst_table))
            print(summary("LIST -l app=a3 (all namespaces)", lst_sel))
            print(f"server memory with {args.pods} pods: VmRSS {mem['VmRSS']} MiB "
                  f"(after the reads: {memory(child.pid)['VmRSS']} MiB, "
                  f"peak {memory(child.pid)['VmHWM']} MiB)")
        finally:
            child.stdin.close()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
