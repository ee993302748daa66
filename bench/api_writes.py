"""What field management and the served schemas cost the lab API (no server, no root).

- OpenAPI v3: time to build every group-version's document from the Python client's models
  (a cold child process: module imports included), and each document's size;
- per write, in process (``Api`` on a temporary store): create of a pod (at most 120 each: the
  lab caps pods) and strategic-merge patch
  of a deployment, without a field manager (as the controllers write) and with one (as kubectl
  writes: ``managedFields`` tracked), and server-side apply of a deployment (changed, unchanged).
Prints figures; asserts nothing.

    python3 bench/api_writes.py [--writes 300]
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labkit.apiserver import objects, ssa  # noqa: E402
from labkit.apiserver.api import Api  # noqa: E402
from labkit.apiserver.resources import BY_KEY  # noqa: E402
from labkit.apiserver.store import Store  # noqa: E402

PODS, DEPLOYS, NAMESPACES = (BY_KEY["core/pods"], BY_KEY["apps/deployments"],
                             BY_KEY["core/namespaces"])
COLD = """
import json, sys, time
sys.path.insert(0, {root!r})
t = time.perf_counter()
from labkit.apiserver import discovery
index = discovery.openapi_index()
took = time.perf_counter() - t
sizes = {{}}
for path in index["paths"]:
    parts = path.split("/")
    group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
    sizes[path] = len(json.dumps(discovery.openapi_document(group, version)))
print(json.dumps({{"seconds": took, "sizes": sizes}}))
"""


def deployment(name: str, image: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "containers": [{"name": "app", "image": image,
                                         "ports": [{"containerPort": 80}],
                                         "env": [{"name": "A", "value": "1"}]}]}}}}


def timed(count: int, action) -> list[float]:
    out = []
    for i in range(count):
        start = time.perf_counter()
        action(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"  {label:<44} median {statistics.median(samples):6.3f} ms   p99 {p99:6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    n = args.writes

    cold = json.loads(subprocess.run([sys.executable, "-c", COLD.format(root=str(ROOT))],
                                     capture_output=True, text=True, check=True).stdout)
    print(f"OpenAPI v3, every document built cold: {cold['seconds']:.2f} s")
    for path, size in cold["sizes"].items():
        print(f"  {path:<36} {size / 1024:7.1f} KiB")

    api = Api(Store(tempfile.mkdtemp(prefix="bench-writes-")), objects.ServiceAddresses())
    api.create(NAMESPACES, None, {"metadata": {"name": "default"}})
    ssa.Schema(DEPLOYS)        # schemas built before timing
    ssa.Schema(PODS)
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}

    def create(prefix: str):
        def run(i: int) -> None:
            api.create(PODS, "default", copy.deepcopy(dict(pod, metadata={"name": f"{prefix}{i}"})))
        return run

    def with_manager(action, manager: str = "kubectl-create"):
        def run(i: int) -> None:
            token = ssa.CURRENT.set(ssa.Write(manager))
            try:
                action(i)
            finally:
                ssa.CURRENT.reset(token)
        return run

    print(f"Writes ({n} each, in process):")
    pods = min(n, 120)
    report("create pod, no field manager", timed(pods, create("a")))
    report("create pod, field manager tracked", timed(pods, with_manager(create("b"))))
    api.create(DEPLOYS, "default", deployment("d", "nginx:1", 1))

    def patch(i: int) -> None:
        api.patch(DEPLOYS, "default", "d", "application/strategic-merge-patch+json",
                  {"spec": {"replicas": i % 5 + 1}})
    report("patch deployment, no field manager", timed(n, patch))
    report("patch deployment, field manager tracked", timed(n, with_manager(patch, "kubectl")))

    def apply_changed(i: int) -> None:
        ssa.apply(api, DEPLOYS, "default", "s", deployment("s", f"nginx:{i}", 2), "kubectl",
                  False, False)
    report("server-side apply, image changed", timed(n, apply_changed))

    def apply_same(i: int) -> None:
        ssa.apply(api, DEPLOYS, "default", "s", deployment("s", "nginx:same", 2), "kubectl",
                  False, False)
    report("server-side apply, unchanged", timed(n, apply_same))


if __name__ == "__main__":
    main()
