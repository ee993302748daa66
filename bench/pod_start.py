"""Benchmark: how long a one-shot pod takes, and what the policy barrier costs (root).

Prints figures, asserts nothing (DESIGN.md: benchmarks are not timed asserts).

A pod's processes start only after every node's policy enforcer has synced with the pod's
address (``labkit.embedded.admission``). This times ``kubectl run --rm -i --restart=Never
--image=busybox -- true`` end to end (create, schedule, CNI ADD, the barrier, the process, the
deletion), median and worst of a few runs, on an idle lab and on a lab whose enforcer has work:
90 pods in 3 namespaces and 60 policies, so each barrier sync recompiles and reloads the tables.

    sudo python3 bench/pod_start.py [--runs 8] [--keep]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import lifecycle
from labkit.embedded.paths import kubeconfig_file
from labkit.embedded.topology import LabSpec

NAME = "bpodstart"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def kubectl(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, env=env,
                          timeout=120)


def one_shot(env: dict, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        t = time.monotonic()
        proc = kubectl(env, "run", f"once{i}", "--rm", "-i", "--restart=Never", "--image=busybox",
                       "--labels=access=true", "--", "true")
        times.append(time.monotonic() - t)
        if proc.returncode != 0:
            print("  run failed:", proc.stderr.strip().splitlines()[-1:])
    return times


def load(env: dict) -> None:
    docs = []
    for ns in ("a", "b", "c"):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: {ns}}}}}\n")
        for i in range(30):
            docs.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {ns}, labels: "
                        f"{{app: p{i % 5}}}}}\nspec: {{containers: [{{name: c, image: nginx}}]}}\n")
        for i in range(20):
            docs.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{i}, "
                        f"namespace: {ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: p{i % 5}}}}}\n"
                        f"  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{team: a}}}}}}, "
                        f"{{podSelector: {{matchLabels: {{access: 'true'}}}}}}], ports: [{{port: {80 + i}}}]}}]\n")
    proc = kubectl(env, "apply", "-f", "-", input="---\n".join(docs))
    if proc.returncode != 0:
        print("apply failed:", proc.stderr)
    kubectl(env, "wait", "--for=condition=Ready", "pod", "--all", "-A", "--timeout=120s")


def report(label: str, times: list[float]) -> None:
    print(f"{label}: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} runs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    lifecycle.down(NAME)
    lifecycle.up(LabSpec(name=NAME))
    env = dict(os.environ, HOME=tempfile.mkdtemp(prefix="bpodstart-"), KUBECONFIG=str(kubeconfig_file(NAME)))
    try:
        kubectl(env, "get", "pods")                     # discovery cache, outside the timings
        report("kubectl run --rm -i busybox -- true, idle lab", one_shot(env, args.runs))
        load(env)
        report("same, 90 pods and 60 policies to sync", one_shot(env, args.runs))
    finally:
        if not args.keep:
            lifecycle.down(NAME)


if __name__ == "__main__":
    main()
