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
``--growth N``: each plugin's CPU (user + system of the process and the children it waited for,
``wait4``) as one node fills up to N pods, and host-local's ADD alone; ``--go-runs N``: the Go
runtime's settings (GOMAXPROCS=1, GOGC=off) against the default, on portmap's ADD.
Addresses are 10.250.0.0/20 inside the scratch namespaces only. Prints figures; asserts nothing.

Measured 2026-12-03 (2 shared cores, load average 6.1), ``--pods 0 --growth 500 --go-runs 200``:
ptp (with its host-local) 12.5 ms of CPU per pod on an empty node, 15.1, 17.3, 18.3, then 19.4 ms
for the pods 400-500; portmap 3.7-3.8 ms whatever the node holds. host-local alone: 4.1 ms, then
5.8, 8.0, 9.1, 10.7 ms: nearly all of the growth. host-local's ADD reads every address file of
its network's directory first (``GetByID``, plugins/ipam/host-local/backend/disk/backend.go, to
refuse a second address to one container ID; upstream's main branch still does), so a node's pods
cost O(n) each: quadratic in the pods per node, about 2.5 ms more per 100 pods already there. A
kubelet caps a node at 110 pods by default; the 1,000-pod bench puts 500 on each worker. The Go
runtime's settings do not help: portmap's ADD 3.13 ms by default, 3.05 with GOMAXPROCS=1, 3.27
with GOGC=off (a Go process's start is mostly exec, the dynamic loader and page faults), so the
lab sets none of them.

    sudo .venv/bin/python bench/pod_floor.py [--pods 100] [--growth 500] [--go-runs 200]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
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


def timed_plugin(argv: list[str], body: bytes, env: dict, netns: str | None) -> tuple[bytes, float]:
    """Run one plugin (in ``netns`` when given); its stdout and its CPU seconds (user + system,
    ``wait4``: the plugin and the children it waited for, ptp's host-local among them)."""
    with ns.entered(netns) if netns else contextlib.nullcontext():
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(body)
    proc.stdin.close()
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)      # reaped here, so the rusage is the plugin's
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{argv[0]}: {out.decode(errors='replace')}")
    return out, usage.ru_utime + usage.ru_stime


def per_plugin(n: int, ipam: str) -> None:
    """Each plugin's CPU by how many pods its node already holds: ``n`` pods wired one by one in
    one node namespace, means per 100 pods."""
    conf = conflist(f"{ipam}/growth")
    print(f"CPU per plugin and pod (ms), by pods already on the node (one node, {n} pods):")
    sums: dict[str, float] = {}
    pods = [f"{PREFIX}-g-{i}" for i in range(n)]
    try:
        for i, pod in enumerate(pods):
            ns.add_netns(pod)
            prev = None
            for plugin in conf["plugins"]:
                body = {"cniVersion": conf["cniVersion"], "name": conf["name"], **plugin}
                if prev is not None:
                    body["prevResult"] = prev
                out, cpu = timed_plugin([f"{CNI}/{plugin['type']}"], json.dumps(body).encode(),
                                        plugin_env("ADD", pod), NODE)
                prev = json.loads(out)
                sums[plugin["type"]] = sums.get(plugin["type"], 0.0) + cpu
            if (i + 1) % 100 == 0 or i + 1 == n:
                size = (i % 100) + 1
                print(f"  pods {i + 1 - size:4}-{i + 1:4}: " + ", ".join(
                    f"{k}{' (with host-local)' if k == 'ptp' else ''} {v * 1000 / size:5.1f}"
                    for k, v in sums.items()), flush=True)
                sums = {}
    finally:
        for pod in pods:
            ns.del_netns(pod)


def host_local_alone(n: int, ipam: str) -> None:
    """host-local's ADD alone (no namespace is touched), by addresses already allocated: its
    ``GetByID`` reads every file of the network's directory (backend/disk/backend.go)."""
    body = json.dumps({"cniVersion": "0.3.1", "name": "floor", "type": "ptp", "ipam": {
        "type": "host-local", "dataDir": f"{ipam}/alone", "ranges": [[{"subnet": "10.250.0.0/20"}]]}}).encode()
    total = 0.0
    line = []
    for i in range(n):
        _, cpu = timed_plugin([f"{CNI}/host-local"], body, plugin_env("ADD", f"{PREFIX}-alone-{i}"), None)
        total += cpu
        if (i + 1) % 100 == 0 or i + 1 == n:
            line.append(f"{i + 1 - ((i % 100) + 1)}-{i + 1}: {total * 1000 / ((i % 100) + 1):4.1f}")
            total = 0.0
    print("host-local ADD alone, CPU ms per pod by addresses already held: " + ", ".join(line))


def go_runtime(runs: int) -> None:
    """The Go runtime's own settings, which change nothing the plugin does: portmap's ADD (no port
    mapping: it hands the previous result back), default against GOMAXPROCS=1 and GOGC=off,
    interleaved."""
    prev = {"cniVersion": "0.3.1", "interfaces": [{"name": "veth0", "mac": "aa:bb:cc:dd:ee:ff"}],
            "ips": [{"version": "4", "address": "10.250.0.2/20", "gateway": "10.250.0.1"}]}
    body = json.dumps({"cniVersion": "0.3.1", "name": "floor", "type": "portmap",
                       "capabilities": {"portMappings": True}, "prevResult": prev}).encode()
    variants = {"default": {}, "GOMAXPROCS=1": {"GOMAXPROCS": "1"}, "GOGC=off": {"GOGC": "off"}}
    cpu = dict.fromkeys(variants, 0.0)
    for _ in range(runs):
        for label, extra in variants.items():
            cpu[label] += timed_plugin([f"{CNI}/portmap"], body, {**plugin_env("ADD", PREFIX), **extra},
                                       None)[1]
    print("portmap ADD, CPU ms per run: " + ", ".join(f"{k} {v * 1000 / runs:.2f}" for k, v in cpu.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=100, help="pods per round of the comparison (0: skip)")
    parser.add_argument("--growth", type=int, default=0,
                        help="also each plugin's CPU as one node fills up to this many pods")
    parser.add_argument("--go-runs", type=int, default=0, help="also the Go runtime settings, N runs each")
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
            if not n:
                break
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
        if n:
            t = time.perf_counter()
            for _ in range(50):
                subprocess.run(["nsenter", f"--net=/run/netns/{NODE}", "true"], check=True)
            print(f"one more process per pod (a container's): {(time.perf_counter() - t) * 1000 / 50:.1f} ms")
        if args.growth:
            per_plugin(args.growth, ipam)
            host_local_alone(args.growth, ipam)
        if args.go_runs:
            go_runtime(args.go_runs)
    finally:
        sweep()
        shutil.rmtree(ipam, ignore_errors=True)


if __name__ == "__main__":
    main()
