"""``labkit.service_reachability``: the Service matrix predicted (:mod:`labkit.service_matrix`), then
probed with real packets from every source of an embedded lab (I/O).

Each source runs one shell script that tries every column at once (``nc -z`` for TCP, an echo
answer for UDP, each bounded by ``timeout``): a pod or a node in its namespace, through the node
seam (``labkit.nodes.flow_access``: root enters it, an ordinary user asks the lab daemon, which
builds the script from validated doors), the host on this machine (when the lab routes its ranges
from the host). Cells that differ from the
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
from .flowreq import MAX_TARGETS, FlowRequest, targets_of
from .netpol.probe import UDP_ANSWER_MARK
from .service_matrix import HOST, ServiceMatrix, Source, predict

# (source, doors (ip, port, protocol), timeout) -> whether each door answered
Prober = Callable[[Source, Sequence[tuple[str, int, str]], float], list[bool]]


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


def host_prober(src: Source, doors: Sequence[tuple[str, int, str]], timeout: float) -> list[bool]:
    """The host tries the doors itself (no root needed: ``nc`` on this machine)."""
    proc = subprocess.run(["sh", "-c", target_script(doors, timeout)], capture_output=True, text=True,
                          timeout=timeout + 30)
    seen = parse_output(proc.stdout)
    if len(seen) < len(doors):
        raise BadInput("probe.exec_failed", pod=src.key, error=(proc.stderr or proc.stdout).strip() or proc.returncode)
    return [seen[n] for n in range(len(doors))]


def flow_prober(access: Any) -> Prober:
    """Pods and nodes try the doors where they are, through the node seam (``labkit.nodes.flow_access``:
    the lab's namespaces for root, the lab daemon's API for anyone else); the host tries them itself."""
    def run(src: Source, doors: Sequence[tuple[str, int, str]], timeout: float) -> list[bool]:
        if src.kind == "host":
            return host_prober(src, doors, timeout)
        req = FlowRequest("probe", src.key if src.kind == "pod" else None, timeout=timeout, targets=targets_of(doors))
        return list(access.observe(src.node, req)["reached"])
    return run


def observe(matrix: ServiceMatrix, run: Prober, timeout: float, only: set[tuple[str, int]] | None = None,
            parallel: int = 8) -> None:
    """Probe the cells (all, or ``only``) and store ``observed`` in each."""
    def row(src: Source) -> None:
        wanted = [i for i in range(len(matrix.columns)) if only is None or (src.key, i) in only]
        for chunk in range(0, len(wanted), MAX_TARGETS):
            part = wanted[chunk:chunk + MAX_TARGETS]
            doors = [(matrix.columns[i].ip, matrix.columns[i].dport, matrix.columns[i].protocol) for i in part]
            for i, reached in zip(part, run(src, doors, timeout)):
                matrix.cells[(src.key, i)].observed = reached

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        list(pool.map(row, matrix.sources))


def sources_of(snapshot: Any, shape: dict, namespaces: set[str] | None) -> list[Source]:
    """Every pod (of ``namespaces``, else all but kube-system), every node, and the host when the lab
    routes its ranges from it; ``shape``: the lab's ``GET /labkit/v1/lab`` summary."""
    pods = []
    for p in snapshot.pods:
        meta, status = p.get("metadata") or {}, p.get("status") or {}
        ns = meta.get("namespace", "default")
        if status.get("podIP") and (ns in namespaces if namespaces else ns != "kube-system"):
            pods.append(Source(f"{ns}/{meta['name']}", "pod", status["podIP"], (p.get("spec") or {}).get("nodeName")))
    out = sorted(pods, key=lambda s: s.key)
    out += [Source(f"node/{n['name']}", "node", n["ip"], n["name"]) for n in shape["nodes"]]
    if shape.get("hostRoutes"):
        out.append(Source(HOST, "host", shape["gatewayIP"], None))
    return out


def service_reachability(cluster: Any = "kubenet", namespaces: str | Sequence[str] | None = None,
                         timeout: float = 2.0, retries: int = 1, probe: bool = True,
                         run: Prober | None = None) -> ServiceMatrix:
    """Predict every (source, Service door) cell of an embedded lab, then probe it with real packets
    (``probe=False``: the prediction only). ``namespaces``: the pods that are sources (default: all
    but kube-system); every Service outside kube-system is a column. ``cluster``: a lab's name or a
    ``labkit.connect()`` cluster; root enters the lab's namespaces, anyone else asks its daemon."""
    from .cluster import as_cluster
    from .netpol.handle import engine as policy_engine
    from .nodes import flow_access, lab_shape

    conn = as_cluster(cluster, what="labkit.service_reachability")   # a lab name, a Cluster
    shape = lab_shape(conn)
    snap = conn.snapshot()
    wanted = set(namespaces.split(",") if isinstance(namespaces, str) else namespaces) if namespaces else None
    sources = sources_of(snap, shape, wanted)
    matrix = predict(snap, sources, shape["nodes"][0]["name"], policy_engine(snap))
    if not probe:
        return matrix
    run = run or flow_prober(flow_access(conn))
    start = time.monotonic()
    observe(matrix, run, timeout)
    for _ in range(retries):
        if matrix.ok:
            break
        observe(matrix, run, timeout, only=set(matrix.differences))
    matrix.seconds = time.monotonic() - start
    return matrix
