"""``labkit.service_reachability``: the Service matrix predicted (:mod:`labkit.service_matrix`), then
probed with real packets from every source of an embedded lab (I/O).

Each source runs one shell script that tries every column at once (``nc -z`` for TCP, an echo
answer for UDP, each bounded by ``timeout``): a pod in its namespace, a node in its namespace, the
host on this machine (when the lab routes its ranges from the host). Cells that differ from the
prediction are tried again (``retries``) before being reported, as ``labkit.probe`` does.
"""
from __future__ import annotations

import math
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .errors import BadInput
from .kernel_trace import netns_argv
from .probe import UDP_ANSWER_MARK
from .service_matrix import HOST, ServiceMatrix, Source, predict

# source -> (argv -> finished process)
Runner = Callable[[Source, Sequence[str], float], subprocess.CompletedProcess]


def target_script(targets: Sequence[tuple[str, int, str]], timeout: float) -> str:
    """A POSIX sh script that tries every ``(ip, port, protocol)`` at once and prints ``<n> 1|0``."""
    wait, limit = max(1, math.ceil(timeout)), f"{timeout:g}"
    lines = [
        f't() {{ if timeout {limit} nc -z -w {wait} "$2" "$3" >/dev/null 2>&1; then echo "$1 1"; else echo "$1 0"; fi; }}',
        f'u() {{ if echo probe | timeout {limit} nc -u -w {wait} "$2" "$3" 2>/dev/null | grep -q {UDP_ANSWER_MARK}; '
        f'then echo "$1 1"; else echo "$1 0"; fi; }}']
    for n, (ip, port, proto) in enumerate(targets):
        lines.append(f"{'u' if proto == 'UDP' else 't'} {n} {shlex.quote(ip)} {int(port)} &")
    return "\n".join(lines + ["wait", ""])


def parse_output(text: str) -> dict[int, bool]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1] in ("0", "1"):
            out[int(parts[0])] = parts[1] == "1"
    return out


def lab_runner(lab: Any) -> Runner:
    """Run a source's script where the source is: pod and node namespaces, or the host itself."""
    netns = {f"node/{n.name}": n.netns for n in lab.spec.node_plans()}

    def run(src: Source, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess:
        if src.kind == "pod":
            return lab.exec(src.key, argv, timeout=timeout)
        cmd = list(argv) if src.kind == "host" else netns_argv(netns[src.key], list(argv))
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    return run


def observe(matrix: ServiceMatrix, run: Runner, timeout: float, only: set[tuple[str, int]] | None = None,
            parallel: int = 8) -> None:
    """Probe the cells (all, or ``only``) and store ``observed`` in each."""
    def row(src: Source) -> None:
        wanted = [i for i in range(len(matrix.columns)) if only is None or (src.key, i) in only]
        if not wanted:
            return
        targets = [(matrix.columns[i].ip, matrix.columns[i].dport, matrix.columns[i].protocol) for i in wanted]
        proc = run(src, ["sh", "-c", target_script(targets, timeout)], timeout + 30)
        seen = parse_output(proc.stdout)
        if len(seen) < len(wanted):
            raise BadInput("probe.exec_failed", pod=src.key, error=(proc.stderr or proc.stdout).strip() or proc.returncode)
        for n, i in enumerate(wanted):
            matrix.cells[(src.key, i)].observed = seen[n]

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(row, matrix.sources))


def sources_of(snapshot: Any, lab: Any, namespaces: set[str] | None) -> list[Source]:
    pods = []
    for p in snapshot.pods:
        meta, status = p.get("metadata") or {}, p.get("status") or {}
        ns = meta.get("namespace", "default")
        if status.get("podIP") and (ns in namespaces if namespaces else ns != "kube-system"):
            pods.append(Source(f"{ns}/{meta['name']}", "pod", status["podIP"], (p.get("spec") or {}).get("nodeName")))
    out = sorted(pods, key=lambda s: s.key)
    out += [Source(f"node/{n.name}", "node", n.ip, n.name) for n in lab.spec.node_plans()]
    if lab.spec.host_routes:
        out.append(Source(HOST, "host", lab.spec.gateway_ip, None))
    return out


def service_reachability(cluster: Any = "kubenet", namespaces: str | Sequence[str] | None = None,
                         timeout: float = 2.0, retries: int = 1, probe: bool = True,
                         run: Runner | None = None) -> ServiceMatrix:
    """Predict every (source, Service door) cell of an embedded lab, then probe it with real packets
    (``probe=False``: the prediction only). ``namespaces``: the pods that are sources (default: all
    but kube-system); every Service outside kube-system is a column."""
    from .embedded.client import EmbeddedLab
    from .policy_api import engine as policy_engine
    from .trace import _as_snapshot, _lab_name

    name = _lab_name(cluster)
    lab = EmbeddedLab(name)
    snap = _as_snapshot(cluster if not isinstance(cluster, str) else name)
    wanted = set(namespaces.split(",") if isinstance(namespaces, str) else namespaces) if namespaces else None
    sources = sources_of(snap, lab, wanted)
    matrix = predict(snap, sources, lab.spec.node_plans()[0].name, policy_engine(snap))
    if not probe:
        return matrix
    run = run or lab_runner(lab)
    start = time.monotonic()
    observe(matrix, run, timeout)
    for _ in range(retries):
        if matrix.ok:
            break
        observe(matrix, run, timeout, only=set(matrix.differences))
    matrix.seconds = time.monotonic() - start
    return matrix
