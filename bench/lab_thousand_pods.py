"""Benchmark (root): the embedded lab at a thousand pods.

``kubectl create deployment --replicas=N`` in a lab of its own, then, from a watch on the pods:
- per phase, when the last pod was created (ReplicaSet), scheduled (``nodeName``) and Running with
  an IP, and the mean cost per pod of each phase;
- time until every pod answers HTTP (curl from a worker node's namespace, 32 at a time), and the
  pods that never answered (they are named: a pod that never answers is a bug);
- GET of one pod and LIST of all pods (median and p99 of 100 calls, official Python client);
- RSS of the lab daemon; with ``--profile F``, a py-spy profile of the daemon during creation.
The bench lab's own shape: ``max_pods`` = the replicas asked for *plus the lab's own system pods*
(a lab refuses pods beyond its cap, 250 by default, and CoreDNS's two pods count, as every pod
counts towards a kubelet's max-pods: last session's bench sized the cap to the replicas alone, so 2
of 1,000 pods were refused with 403, and it waited for them until its 400 s timeout) and a /22 of
pod addresses per node (a /24 holds 253).
One size per run keeps each locked run short; ``--sizes`` runs several, one lab each.
Prints figures; asserts nothing.

Measured 2026-12-03, afternoon (2 shared cores, load average 1.6-4.2 at the start): 1,000 pods
Running and answering in 29.6 s, 33.5 s and 43.4 s (was 63.5 s), 300 pods in 7.5 s (was 14.2 s);
CPU per pod: daemon 20-27 ms, its processes (ptp, host-local, portmap) 22 ms (was 29: two ip
processes per pod gone); GET p99 1.5-1.8 ms, LIST of 1,000 pods 10-12 ms median, RSS 125 MiB.
The daemon's profile then: the ReplicaSet controller's status pass over all its pods on every
pass, the policy barrier's wait for a sync even without policies, the store's file per write.

Measured 2026-12-03, evening, the daemon's share cut (the ReplicaSet controller counts only the
pods that changed, no policy sync awaited without policies, the store's journal instead of a file
per write): before and after back to back under the lock, other engineers' load 4.8-8.1:
1,000 pods in 50.5 s -> 30.8 s, daemon CPU 27.2 -> 15.0 ms per pod, CNI plugins 22.9 -> 20.6 ms;
GET p99 5.2 -> 7.2 ms (load 8), LIST of 1,000 median 16.5 -> 10.4 ms, RSS 123 -> 134 MiB (the
journal keeps every object's JSON for its snapshots); 300 pods 9.5 -> 8.7 s, daemon 16.2 -> 14.1
ms per pod. About 35 ms of CPU per pod remain (CNI plugins 20-22, daemon 14-15; py-spy puts the
daemon's largest share in forking the pods' processes, ``embedded/pods.py``, then the pod
records' files, ``state.py``): 18 s on two idle cores, so the 15 s goal is still not met.

The pod wiring's share, measured the same evening (load 5.8 at the start): 1,000 pods in 28.6 s
and 30.5 s, plugins 19.6-19.9 ms of CPU per pod; each pod answered a median 14.7 s after it was
created (p90 25.7 s); the machine was busy 60.6 of 61.1 core-seconds, 34.0 of them the lab and
this bench, 26.6 everything else. 300 pods: 6.8 s when others took 0.6 core-seconds, 9.4-9.7 s
when they took 8; 8 pods wired at once instead of 4 changed nothing. The plugins' CPU is their
own (``bench/pod_floor.py``): a Go process's start, the kernel's veth and routes, and host-local
reading every address file of its node first, which makes a worker's 500 pods quadratic (4.1 ms
an ADD on an empty node, 10.7 ms at 500).

With ``--service`` (a Service over the Deployment), 2026-12-04, back to back under the lock: the
EndpointSlice controller's passes on the changes before (every Service of the namespace over every
pod) and after (each Service's members, bench/endpointslices.py): 1,000 pods answering in 41.9 s
-> 32.9 s, daemon CPU 19.4 -> 15.7 ms per pod, CNI plugins 22.4 -> 23.4 ms, RSS 232 -> 185 MiB;
the other users took 40.2 and 22.4 core-seconds meanwhile (load average 3.80 and 2.58 at the start).

    sudo .venv/bin/python bench/lab_thousand_pods.py --sizes 100,300 [--name bk1000] [--profile p.svg] [--service]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.embedded import lifecycle
from labkit.embedded.client import EmbeddedLab
from labkit.embedded.netns import entered
from labkit.embedded.paths import kubeconfig_file, pid_file
from labkit.embedded.topology import LabSpec

TIMEOUT = 150.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) of a process, or of its finished children (the CNI plugins)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds this machine's cores spent busy so far (``/proc/stat``: all but idle and iowait):
    against the lab's own, what the other users of a shared machine took meanwhile."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, limit: float = 30.0) -> float:
    """Seconds until the daemon uses less than a tenth of a core (GET and LIST are measured on a
    lab at rest, as a learner's is once the Deployment is up)."""
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.1:
            break
    return time.perf_counter() - began


def quantiles(samples: list[float]) -> str:
    samples = sorted(samples)
    return (f"median {statistics.median(samples):6.1f} ms   "
            f"p99 {samples[max(int(len(samples) * 0.99) - 1, 0)]:6.1f} ms")


class PodPhases:
    """A watch on the deployment's pods: when each was first seen created, scheduled, running."""

    def __init__(self, api, label: str) -> None:
        from kubernetes import watch
        self.api, self.label, self.watch = api, label, watch.Watch()
        self.created: dict[str, float] = {}
        self.scheduled: dict[str, float] = {}
        self.running: dict[str, tuple[float, str]] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._watch()
        except Exception:  # noqa: BLE001 - the lab went down under the watch
            pass

    def _watch(self) -> None:
        for event in self.watch.stream(self.api.list_namespaced_pod, "default",
                                       label_selector=self.label, timeout_seconds=int(TIMEOUT)):
            pod, now = event["object"], time.perf_counter()
            name = pod.metadata.name
            self.created.setdefault(name, now)
            if pod.spec.node_name:
                self.scheduled.setdefault(name, now)
            if pod.status.phase == "Running" and pod.status.pod_ip and name not in self.running:
                self.running[name] = (now, pod.status.pod_ip)

    def done(self, n: int) -> bool:
        return len(self.running) >= n


def system_pods() -> int:
    """The pods a lab runs of its own (CoreDNS's Deployment): they count towards ``max_pods``."""
    from labkit.embedded.dns import coredns_objects
    return sum(obj["spec"]["replicas"] for key, obj in coredns_objects("10.96.0.10")
               if key == "apps/deployments")


def http_get(netns: str, ip: str) -> str | None:
    """GET / of a pod from a node's namespace, in this process (a curl process per pod costs
    more than the pod's answer); the echo responder's JSON names the pod."""
    with entered(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(2)
        sock.connect((ip, 80))
        sock.sendall(f"GET / HTTP/1.0\r\nHost: {ip}\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return json.loads(data.split(b"\r\n\r\n", 1)[1])["pod"]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    finally:
        sock.close()


def check_answers(phases: PodPhases, netns: str, answered: dict[str, float], n: int) -> None:
    """Ask every pod as soon as it is Running, until it answers with its own name (8 at once)."""
    pending: dict[str, float] = {}
    deadline = time.perf_counter() + TIMEOUT
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while len(answered) < n and time.perf_counter() < deadline:
            for pod in list(phases.running):
                if pod not in answered and pod not in pending:
                    pending[pod] = 0.0
            due = [p for p, when in pending.items() if when <= time.perf_counter()]
            ips = [phases.running[p][1] for p in due]
            for pod, who in zip(due, pool.map(http_get, [netns] * len(due), ips)):
                if who == pod:
                    answered[pod] = time.perf_counter()
                    del pending[pod]
                else:
                    pending[pod] = time.perf_counter() + 0.1
            if not due:
                time.sleep(0.02)


def slice_endpoints(env: dict) -> int:
    """Endpoints in the EndpointSlices of the Service ``many`` (``--service``)."""
    out = subprocess.run(["kubectl", "get", "endpointslices", "-l", "kubernetes.io/service-name=many",
                          "-o", "json"], capture_output=True, text=True, env=env).stdout
    try:
        return sum(len(s.get("endpoints") or []) for s in json.loads(out)["items"])
    except (ValueError, KeyError):
        return -1


def one_size(n: int, name: str, profile: str | None, nodes: int = 3, service: bool = False) -> None:
    lifecycle.down(name)
    lifecycle.up(LabSpec(name=name, nodes=nodes, max_pods=max(n + system_pods(), 250), node_pod_prefix=22))
    try:
        from kubernetes import client, config
        env = dict(os.environ, KUBECONFIG=str(kubeconfig_file(name)), HOME=tempfile.mkdtemp())
        api = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig_file(name))))
        daemon = int(pid_file(name).read_text())
        worker = EmbeddedLab(name).spec.node_plans()[1]
        phases = PodPhases(api, "app=many")
        phases.thread.start()
        time.sleep(0.5)
        spy = None
        pyspy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
        if profile and pyspy:
            spy = subprocess.Popen([pyspy, "record", "-o", profile, "-p", str(daemon), "-r", "50",
                                    "--nonblocking"] + (["-f", "speedscope"] if profile.endswith(".json") else ["-f", "raw"] if profile.endswith(".txt") else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        answered: dict[str, float] = {}
        checker = threading.Thread(target=check_answers, args=(phases, worker.netns, answered, n),
                                   daemon=True)
        load = Path("/proc/loadavg").read_text().split()[0]
        cpu0 = cpu_seconds(daemon), cpu_seconds(daemon, children=True)
        busy0, own0 = machine_busy(), time.process_time()
        t0 = time.perf_counter()
        checker.start()
        subprocess.run(["kubectl", "create", "deployment", "many", "--image=jpetazzo/color",
                        f"--replicas={n}"], capture_output=True, env=env, check=True)
        if service:         # a Service over the Deployment: the EndpointSlice controller works too
            subprocess.run(["kubectl", "expose", "deployment", "many", "--port=80"],
                           capture_output=True, env=env, check=True)
        while not phases.done(n) and time.perf_counter() - t0 < TIMEOUT:
            time.sleep(0.2)
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        checker.join(TIMEOUT)
        cpu = cpu_seconds(daemon) - cpu0[0], cpu_seconds(daemon, children=True) - cpu0[1]
        busy, own = machine_busy() - busy0, time.process_time() - own0
        window = time.perf_counter() - t0
        running = dict(phases.running)
        ok = {pod: pod in answered for pod in running}

        def last(times: dict) -> float:
            values = [v[0] if isinstance(v, tuple) else v for v in times.values()]
            return max(values) - t0 if values else float("nan")

        print(f"--- {n} pods (lab {name}) ---")
        for label, times in (("created", phases.created), ("scheduled", phases.scheduled),
                             ("Running", running), ("answering", answered)):
            print(f"  last pod {label:10} {last(times):6.1f} s  ({len(times)}/{n}, "
                  f"{last(times) * 1000 / max(len(times), 1):5.1f} ms per pod)")
        silent = sorted(p for p, good in ok.items() if not good)
        missing = n - len(running)
        if silent or missing:
            print(f"  never answered: {silent[:10]}; never Running: {missing}")
            failed = subprocess.run(["kubectl", "get", "events", "--field-selector=reason=FailedCreate",
                                     "-o", "jsonpath={.items[*].message}"], capture_output=True, text=True,
                                    env=env).stdout
            print(f"  FailedCreate: {failed[:300]}")
        print(f"  CPU per pod: daemon {cpu[0] * 1000 / n:5.1f} ms, its processes (CNI plugins) "
              f"{cpu[1] * 1000 / n:5.1f} ms; load average {load} at the start (2 cores, shared)")
        waits = sorted(answered[p] - phases.created[p] for p in answered if p in phases.created)
        if waits:
            print(f"  created -> answering, per pod: median {statistics.median(waits):5.1f} s, "
                  f"p90 {waits[int(len(waits) * 0.9) - 1]:5.1f} s, max {waits[-1]:5.1f} s")
        lab = cpu[0] + cpu[1] + own
        print(f"  machine busy {busy:5.1f} of {(os.cpu_count() or 1) * window:5.1f} core-seconds: the lab "
              f"and this bench {lab:5.1f}, everything else (other users, kernel threads) "
              f"{max(busy - lab, 0.0):5.1f}")
        idle = wait_idle(daemon)
        if service:
            print(f"  Service many: {slice_endpoints(env)} endpoints in its EndpointSlices")
        print(f"  daemon idle {idle:5.1f} s after the last pod answered (its writer thread, syncs)")
        pod = next(iter(running), None)
        calls = [(f"LIST {n} pods", lambda: api.list_namespaced_pod("default", _preload_content=False).read())]
        if pod:
            calls.insert(0, ("GET one pod", lambda: api.read_namespaced_pod(
                pod, "default", _preload_content=False).read()))
        for label, call in calls:
            samples = []
            for _ in range(100):
                t = time.perf_counter()
                call()
                samples.append((time.perf_counter() - t) * 1000)
            print(f"  {label:18} {quantiles(samples)}")
        print(f"  daemon RSS         {rss_mib(daemon):7.1f} MiB", flush=True)
    finally:
        lifecycle.down(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100", help="comma-separated replica counts, one lab each")
    parser.add_argument("--replicas", type=int, help="one size (same as --sizes N)")
    parser.add_argument("--name", default="bk1000", help="lab name")
    parser.add_argument("--nodes", type=int, default=3,
                        help="nodes of the bench lab (3: 500 pods per worker at 1,000; a kubelet's default "
                             "max-pods is 110, and host-local's ADD reads every address file of its node)")
    parser.add_argument("--profile", help="py-spy output (svg flame graph, .json speedscope, .txt raw)")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds to wait for the pods")
    parser.add_argument("--service", action="store_true",
                        help="expose the Deployment (a Service selecting every pod: EndpointSlices too)")
    args = parser.parse_args()
    global TIMEOUT
    TIMEOUT = args.timeout
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # killed: still take the lab down
    sizes = [args.replicas] if args.replicas else [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        one_size(n, args.name, args.profile, args.nodes, args.service)


if __name__ == "__main__":
    main()
