"""Benchmark (root): the floor cost of one pod's sandbox on this machine, and what it implies.

A pod of the embedded lab is a network namespace with ``lo`` up, wired by the reference CNI
plugins (``ptp`` with ``host-local``, then ``portmap``) run in its node's namespace. This times
those steps alone, in a scratch node namespace of its own (nothing else of a lab), per pod:
- as the lab did them: ``ip netns add``, ``ip -n P link set lo up``, ``nsenter --net=NODE ptp``,
  ``nsenter --net=NODE portmap`` (four processes, each started by the daemon);
- as the lab does them now: the namespace made by a thread (``netns.add_netns``: unshare + bind
  mount, lo up by ioctl) and each plugin started from a thread inside the node's namespace
  (``netns.run_in``, no nsenter);
then the second way with 1, 2 and 4 pods wired at once, which on two cores says how many pods a
second the kernel and the plugins allow: the floor under "1,000 pods answering".
Addresses are 10.250.0.0/20 inside the scratch namespaces only. Prints figures; asserts nothing.

    sudo .venv/bin/python bench/pod_floor.py [--pods 100]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import netns as ns

PREFIX = "h20bf"
NODE = f"{PREFIX}-node"
CNI = "/usr/lib/cni"


def conflist(ipam_dir: str) -> dict:
    return {"cniVersion": "0.3.1", "name": "floor", "plugins": [
        {"type": "ptp", "ipMasq": False, "mtu": 1500,
         "ipam": {"type": "host-local", "dataDir": ipam_dir, "routes": [{"dst": "0.0.0.0/0"}],
                  "ranges": [[{"subnet": "10.250.0.0/20"}]]}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}


def plugin_env(command: str, pod: str) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
            "CNI_CONTAINERID": pod, "CNI_NETNS": f"/run/netns/{pod}", "CNI_IFNAME": "eth0",
            "CNI_PATH": CNI, "CNI_ARGS": "IgnoreUnknown=1"}


def chain(conf: dict, pod: str, direct: bool, steps: dict[str, float]) -> None:
    prev = None
    for plugin in conf["plugins"]:
        body = {"cniVersion": conf["cniVersion"], "name": conf["name"], **plugin}
        if prev is not None:
            body["prevResult"] = prev
        t = time.perf_counter()
        argv = [f"{CNI}/{plugin['type']}"]
        if direct:
            proc = ns.run_in(NODE, argv, json.dumps(body).encode(), plugin_env("ADD", pod))
        else:
            proc = subprocess.run(["nsenter", f"--net=/run/netns/{NODE}", *argv], capture_output=True,
                                  input=json.dumps(body).encode(), env=plugin_env("ADD", pod))
        if proc.returncode:
            raise RuntimeError(proc.stdout.decode() + proc.stderr.decode())
        prev = json.loads(proc.stdout)
        steps[plugin["type"]] = steps.get(plugin["type"], 0.0) + time.perf_counter() - t


def one_pod(conf: dict, pod: str, direct: bool, steps: dict[str, float]) -> None:
    t = time.perf_counter()
    if direct:
        ns.add_netns(pod)
        steps["netns add + lo up (thread)"] = steps.get("netns add + lo up (thread)", 0.0) + time.perf_counter() - t
    else:
        subprocess.run(["ip", "netns", "add", pod], check=True)
        t1 = time.perf_counter()
        subprocess.run(["ip", "-n", pod, "link", "set", "lo", "up"], check=True)
        steps["ip netns add"] = steps.get("ip netns add", 0.0) + t1 - t
        steps["ip link set lo up"] = steps.get("ip link set lo up", 0.0) + time.perf_counter() - t1
    chain(conf, pod, direct, steps)


QUIET = 5.0


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the plugins)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def sweep() -> None:
    for name in ns.list_netns():
        if name.startswith(PREFIX + "-"):
            subprocess.run(["ip", "netns", "del", name], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=100)
    args = parser.parse_args()
    n = args.pods
    sweep()
    ipam = tempfile.mkdtemp(prefix="h20bf-ipam-")
    try:
        subprocess.run(["ip", "netns", "add", NODE], check=True)
        subprocess.run(["ip", "-n", NODE, "link", "set", "lo", "up"], check=True)
        round_ = 0
        for label, direct, workers in (("processes (as before)", False, 1),
                                       ("threads (now)", True, 1), ("processes (as before)", False, 2),
                                       ("threads (now)", True, 2), ("threads (now)", True, 4)):
            round_ += 1
            conf = conflist(f"{ipam}/{round_}")
            steps: dict[str, float] = {}
            pods = [f"{PREFIX}-r{round_}-{i}" for i in range(n)]
            cpu0 = cpu_seconds()
            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                list(pool.map(one_pod, [conf] * n, pods, [direct] * n, [steps] * n))
            wall = time.perf_counter() - t0
            cpu = cpu_seconds() - cpu0
            detail = ", ".join(f"{k} {v * 1000 / n:.1f}" for k, v in steps.items())
            print(f"{label:22} {workers} at once: {wall * 1000 / n:5.1f} ms per pod wall, "
                  f"{cpu * 1000 / n:5.1f} ms CPU (1,000 pods: {wall * 1000 / n:4.1f} s)  "
                  f"[each step, mean: {detail} ms]", flush=True)
            in_node = subprocess.run(["ip", "-n", NODE, "-o", "link"], capture_output=True,
                                     text=True).stdout.count("veth")
            if in_node != n:     # a plugin started from a thread must run in that thread's netns
                print(f"  only {in_node}/{n} host-side veths in the node's namespace")
            for pod in pods:
                subprocess.run(["ip", "netns", "del", pod], check=False)
            time.sleep(QUIET)   # the kernel frees deleted namespaces later: not on the next round
        t = time.perf_counter()
        for _ in range(50):
            subprocess.run(["nsenter", f"--net=/run/netns/{NODE}", "true"], check=True)
        print(f"one more process per pod (a container's): {(time.perf_counter() - t) * 1000 / 50:.1f} ms")
    finally:
        sweep()
        shutil.rmtree(ipam, ignore_errors=True)


if __name__ == "__main__":
    main()
