"""The kube-proxy benchmark without I/O: the synthetic cluster, the figures, the table.

N ClusterIP services of one TCP port, each with two endpoints. All services share the same two
backends (``10.244.1.2:8080`` and ``10.244.2.2:8080``), which only the benchmark namespace holds:
chain names still differ per service (they hash the service name), so the rules are those of N
distinct services, but one tiny server answers them all.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import i18n
from ..kubeproxy.model import Endpoint, NodeContext, ProxyInput, ServicePort

NAMESPACE = "bench"
BACKENDS = ("10.244.1.2", "10.244.2.2")
BACKEND_PORT = 8080
SERVICE_PORT = 80
CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"  # 10.96.0.0 - 10.111.255.255: room for 50,000 services
MAX_SERVICES = 50_000


def cluster_ip(i: int) -> str:
    return f"10.{96 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}"


def node_context(node_ip: str) -> NodeContext:
    return NodeContext(node_name="bench-node", node_ips=(node_ip,), cluster_cidr=CLUSTER_CIDR,
                       service_cidrs=(SERVICE_CIDR,))


def synthetic_input(n: int, endpoints: tuple[str, ...] = BACKENDS) -> ProxyInput:
    inp = ProxyInput()
    for i in range(n):
        svc = ServicePort(NAMESPACE, f"svc{i}", "http", "TCP", cluster_ip(i), SERVICE_PORT)
        inp.services.append(svc)
        inp.endpoints[svc.key] = [Endpoint(ip, BACKEND_PORT) for ip in endpoints]
    return inp


def one_service_changed(inp: ProxyInput) -> ProxyInput:
    """The same cluster after one service (the middle one in rule order) lost an endpoint."""
    changed = ProxyInput(list(inp.services), dict(inp.endpoints))
    svc = inp.sorted_services()[len(inp.services) // 2]
    changed.endpoints[svc.key] = changed.endpoints[svc.key][:1]
    return changed


def first_and_last(inp: ProxyInput) -> tuple[ServicePort, ServicePort]:
    """The services kube-proxy writes first and last (iptables walks KUBE-SERVICES in that order)."""
    ordered = inp.sorted_services()
    return ordered[0], ordered[-1]


@dataclass
class Latency:
    samples_ms: list[float] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        if not self.samples_ms:
            return float("nan")
        data = sorted(self.samples_ms)
        return data[min(len(data) - 1, int(q * len(data)))]

    @property
    def p50(self) -> float:
        return self.quantile(0.5)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples_ms) if self.samples_ms else float("nan")


NAN = float("nan")


@dataclass
class Result:
    """The figures of one mode at one size.

    Programming times are the minimum of ``runs`` runs, as wall time (``*_s``) and as CPU time
    (``*_cpu_s``): user and system time of this process and of the ``nft`` / ``iptables-restore``
    processes it ran (``getrusage``), which holds the kernel's work done in their system calls
    (the commit, the table's validation). The CPU time does not grow when other work shares the
    machine (the wall time does: a full sync at 5,000 Services measured 4.8 s one day and 12.7 s
    on a busy one); work the kernel defers to its own threads (freeing a replaced ruleset after an
    RCU grace period) is in neither."""

    mode: str
    services: int
    full_sync_s: float
    partial_sync_s: float
    transactions: int
    rules_bytes: int
    memory_mib: float
    first: Latency
    last: Latency
    full_sync_cpu_s: float = NAN
    partial_sync_cpu_s: float = NAN
    runs: int = 1
    load: float = NAN  # the 1-minute load average when the size was measured

    @property
    def full_sync(self) -> float:
        """The figure the chart draws: CPU time when measured (older records: wall time)."""
        return self.full_sync_s if math.isnan(self.full_sync_cpu_s) else self.full_sync_cpu_s

    @property
    def partial_sync(self) -> float:
        return self.partial_sync_s if math.isnan(self.partial_sync_cpu_s) else self.partial_sync_cpu_s

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        """Back from :meth:`to_json` (latencies come back as their quantiles only)."""
        def lat(d: dict[str, Any]) -> Latency:
            return Latency([d["p50_ms"]] * 51 + [d["p99_ms"]] * 49)
        fields = {k: data[k] for k in ("mode", "services", "full_sync_s", "partial_sync_s", "transactions",
                                      "rules_bytes", "memory_mib")}
        extra = {k: data[k] for k in ("full_sync_cpu_s", "partial_sync_cpu_s", "runs", "load")
                 if data.get(k) is not None}
        return cls(**fields, first=lat(data["first"]), last=lat(data["last"]), **extra)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first", "last"):
            lat = getattr(self, key)
            data[key] = {"p50_ms": lat.p50, "p99_ms": lat.p99, "mean_ms": lat.mean, "samples": len(lat.samples_ms)}
        return data


def load_results(path: str | Path) -> list[Result]:
    """Results saved by ``labkit bench kube-proxy --json`` (e.g. ``bench/results/kube_proxy.json``)."""
    import json

    return [Result.from_json(d) for d in json.loads(Path(path).read_text())]


_COLUMNS = (("mode", 8, "<"), ("services", 8, ">"), ("full", 20, ">"), ("partial", 14, ">"),
            ("first", 17, ">"), ("last", 17, ">"), ("memory", 9, ">"))


def format_table(results: list[Result]) -> str:
    """One line per mode and size, the headers in the learner's language, the columns aligned."""
    def row(cells: list[str]) -> str:
        return "  ".join(f"{c:{align}{width}}" for c, (_k, width, align) in zip(cells, _COLUMNS)).rstrip()

    def cpu(seconds: float) -> str:   # "–": recorded before the CPU time was
        return "–" if math.isnan(seconds) else i18n.number(seconds * 1000, ",.0f")

    lines = [row([i18n.t(f"bench.col.{key}") for key, _w, _a in _COLUMNS])]
    for r in results:
        n = i18n.number                     # 1,000 and 19.6 ms in English; 1 000 and 19,6 ms in French
        lines.append(row([r.mode, n(r.services, ","),
                          f"{cpu(r.full_sync_cpu_s)}/{n(r.full_sync_s * 1000, ',.0f')} ms",
                          f"{n(r.partial_sync * 1000, ',.1f')} ms",
                          f"{n(r.first.p50, '.3f')}/{n(r.first.p99, '.3f')} ms",
                          f"{n(r.last.p50, '.3f')}/{n(r.last.p99, '.3f')} ms", f"{n(r.memory_mib, '.1f')} {i18n.t('bench.mib')}"]))
    runs = max((r.runs for r in results), default=1)
    lines.append(i18n.t("bench.cpu_note", runs=runs) if runs > 1 else i18n.t("bench.cpu_note_one"))
    lines.append(i18n.t("bench.latency_note"))
    return "\n".join(lines) + "\n"


def parse_sizes(value: str) -> list[int]:
    from ..errors import BadInput
    try:
        sizes = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(not 1 <= s <= MAX_SERVICES for s in sizes):
        raise BadInput("bench.bad_sizes", value=value)
    return sizes


def parse_modes(value: str) -> list[str]:
    from ..errors import BadInput
    modes = [v.strip() for v in value.split(",") if v.strip()]
    if not modes or any(m not in ("iptables", "nftables") for m in modes):
        raise BadInput("bench.bad_modes", value=value)
    return modes
