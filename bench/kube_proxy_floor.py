"""Benchmark (root): where a one-service change of kube-proxy's rules spends its time, and its floor.

For each size, N services (2 endpoints each) are loaded into a namespace of its own
(``kpfloor<pid>``, deleted after), then each transaction below is timed several times (min and
median printed; the machine is shared, the min is the figure to compare):

nftables (the table holds base chains that reach every service through the verdict maps):
- ``element only``: one element added to ``cluster-ips`` (a plain set) over netlink: no
  validation, the cost of a commit;
- ``rule with a verdict``: one ``accept`` rule in a chain of its own over netlink: the kernel
  then validates the whole table from its base chains (``nft_table_validate``), the floor of any
  change that adds a rule, a jump or a verdict-map element;
- ``one-service change``: the lab's partial sync (flush the service's chain, write its rules, flush
  the endpoint chain it lost), over netlink (the lab) and through ``nft -f`` (upstream's way:
  nft first dumps every chain of the table into its cache).
iptables (with kube-proxy's jumps from ``PREROUTING``/``OUTPUT`` to ``KUBE-SERVICES``), through
``iptables-nft-restore`` (the lab, kind) and ``iptables-legacy-restore`` (the whole table is read
and written back as one blob): the full load, the one-service change, and an empty ``*nat COMMIT``.

CPU is printed beside wall time (the machine is shared: wall time grows with the load average,
CPU time much less): for a process (``nft``, ``iptables-restore``) its user and system time, for
a netlink commit the system time of the sending thread (the kernel applies the batch and commits
in ``sendmsg``). The full load is split as well: the per-service part (chains, rules, map elements)
sent as one netlink batch after ``nft -f`` of the fixed part gives the kernel's own cost of a full
load, and separate commits of the chains, the rules and the elements its split; the encoder's CPU
for the same batch is printed (why the lab's full sync stays with ``nft -f``). With ``--perf``,
``perf record -g`` samples the verdict-rule commits (nftables) and a one-service change
(iptables-nft) and the kernel functions that take the time are printed. With ``--forms``, the
same ruleset is loaded with ``nft -f`` in other text forms (no comments, block syntax, no
prologue) to see whether the text's form costs (that alone, nftables only).

With ``--lab SAMPLES``, the lab's own kube-proxy (``KubeProxy``, fed by change events as the
daemon feeds it) is timed from an EndpointSlice change reaching it to the kernel's ack.

    sudo .venv/bin/python bench/kube_proxy_floor.py [--sizes 1000,10000] [--modes nftables,iptables] [--perf] [--forms]
    sudo .venv/bin/python bench/kube_proxy_floor.py --sizes 10000 --lab 40

The floors, as measured here (2 cores, kernel 6.18, nft 1.0.6, iptables 1.8.9; Dec 2026)
---------------------------------------------------------------------------------------
*nftables, one-Service change at 10,000 Services.* ``--lab 40`` (load average 3): wall min 49.8 ms,
median 57.0 ms (53.6 / 57.7 ms in a second run of 30 at load 3.4); user CPU (the lab's Python: index, parse, render, diff, encode) median 1.2 ms;
system CPU (the commit, in ``sendmsg``) min 47.2 ms, median 55.4 ms. The commit of one ``accept``
rule in a chain of its own costs the same (46-49 ms of kernel CPU at load ~1), and ``--perf`` puts
95% of such a commit in ``nft_table_validate`` (70% in ``nft_chain_validate`` itself). Before the
lab's kube-proxy read only the changed Services (``kubeproxy.nft_incremental``), its user space
was 0.8-1.35 s of CPU per one-Service sync of a 3-node lab (every Service parsed and rendered per
node, the rulesets compared whole).

*Why the kernel validates the whole table* (net/netfilter/nf_tables_api.c, 6.18):
``nf_tables_newrule`` sets the table's ``validate_state`` to ``NFT_VALIDATE_NEED`` as soon as one
expression of a new rule has a ``validate`` operation (``immediate`` - every jump, goto, accept,
and the address registers of a dnat -, ``nat``, ``masq``, ``lookup``...), and ``nft_add_set_elem``
does so for a verdict-map element that jumps or goes to a chain. ``nf_tables_commit`` then runs
``nf_tables_validate`` -> ``nft_table_validate``: from every base chain, every rule, every jump and
every verdict-map element (``nft_lookup_validate``), each chain once per hook; both nat hooks
(``prerouting``, ``output``) reach ``services`` and through ``service-ips`` all 30,000 chains. The
cost therefore grows with the table, not with the change, and user space has no flag to skip
it. A one-Service change must add rules with a jump, goto or dnat (its service chain, its
endpoint chains), so it pays the walk. Validating only the chains a batch touches was posted by
the netfilter maintainer (Pablo Neira Ayuso, netfilter-devel, 20 May 2025, "[PATCH nf-next,v2
1/4] netfilter: nf_tables: add infrastructure for chain validation on updates"); 6.18 does not
have it.

*Upstream sends more, not less.* pkg/proxy/nftables/proxier.go runs ``setupNFTables`` on every
sync: it flushes the base chains and adds their ``jump`` rules again (``nftablesJumpChains``),
so each of its syncs needs the same validation, and knftables writes it through ``nft -f``, whose
cache fill costs ~80 ms more at this size. The ruleset shape stays upstream's; the lab only sends
less. So < 50 ms for a one-Service change at 10,000 Services is this kernel's floor: reached as a
minimum on a quiet machine, not as a median.

*iptables (iptables-nft), one-Service change at 10,000 Services.* The lab writes the changed
``KUBE-SVC``/``KUBE-SEP`` chains and the ``-X`` of the stale one, nothing else (upstream's
partial sync, pkg/proxy/iptables/proxier.go, also writes the filter table and ``KUBE-SERVICES``,
one rule per Service: 10,000 rules). ``iptables-nft-restore`` of it: ~70 ms of CPU, 99% in the
kernel, 91% in ``nft_table_validate`` (the nat table's xt rules walked from ``PREROUTING`` and
``OUTPUT``): above 50 ms with this kernel whatever user space does. ``--lab 30 --modes iptables``
(the lab's kube-proxy, ``kubeproxy.ipt_incremental``): wall min 75.6 ms, median 83.8 ms at load
3.5 (89.8 / 133.9 ms at load 4.6), of which the lab's Python 1.1-2.3 ms and ``iptables-restore``
66.7 ms min, 79.9 ms median of CPU. Before, the daemon rendered every Service per sync in this
mode too (0.66-1.1 s of CPU for a 3-node lab at 10,000 Services).

*Full load of 10,000 Services.* Kernel 0.79 s of CPU (rules 0.55 s, chains 0.11 s, elements and
the one validation 0.10 s) + ``nft`` 1.0-1.2 s of its own CPU: < 1 s wall needs nft 1.0.6 out of
the way, and the lab's Python encoder needs more (1.6 s) than nft.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit.bench.kube_proxy_model import node_context, one_service_changed, synthetic_input
from labkit.embedded.nft_socket import NftSocket
from labkit.kubeproxy.iptables import render_iptables
from labkit.kubeproxy.iptables_sync import iptables_initial_batches, iptables_update
from labkit.kubeproxy.nft_netlink import Message, encode_transaction
from labkit.kubeproxy.nft_sync import nft_initial_batches, nft_service_part, nft_update
from labkit.kubeproxy.nftables import TABLE, quoted, render_nftables

NS = f"kpfloor{os.getpid() % 100000}"
REPEAT = 7
JUMPS = "*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n"


def run(argv: list[str], text: str = "") -> float:
    return run_cpu(argv, text)[0]


def run_cpu(argv: list[str], text: str = "", prefix: tuple[str, ...] = ()) -> tuple[float, float, float]:
    """Wall, user CPU and system CPU seconds of ``argv`` run in the namespace."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([*prefix, "ip", "netns", "exec", NS, *argv], input=text.encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if prefix else None)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def cpu_text(wall: float, user: float, system: float) -> str:
    return f"{wall:8.2f} s wall, CPU user {user:5.2f} s + system {system:5.2f} s"


def thread_cpu() -> float:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_stime


class Perf:
    """``perf record -g`` of this process (or of a command) while the body runs; the kernel
    functions that took the time, as perf reports them (``children``: a function and its callees)."""

    WATCH = ("nf_tables_commit", "nf_tables_validate", "nft_table_validate", "nft_chain_validate",
             "nft_lookup_validate", "nft_rhash_walk", "nft_setelem_validate", "nft_immediate_validate",
             "nfnetlink_rcv_batch", "nf_tables_newrule", "nf_tables_getchain", "nf_tables_dump_rules",
             "netlink_recvmsg", "nf_tables_dump_chains")

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and os.path.exists("/usr/bin/perf")
        self.data = tempfile.mktemp(prefix="kpfloor", suffix=".perf")

    def __enter__(self) -> Perf:
        if self.enabled:
            self.proc = subprocess.Popen(["perf", "record", "-q", "-g", "-o", self.data, "-p", str(os.getpid())],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # perf attaches
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait()

    def command(self, argv: list[str], text: str) -> None:
        """Record ``argv`` run in the namespace (instead of this process)."""
        if self.enabled:
            run_cpu(argv, text, prefix=("perf", "record", "-q", "-g", "-o", self.data, "--"))

    def report(self, what: str) -> None:
        if not self.enabled or not os.path.exists(self.data):
            return
        out = subprocess.run(["perf", "report", "-i", self.data, "--children", "--sort", "dso,sym", "-g", "none",
                              "-q"], capture_output=True, text=True).stdout
        dsos = subprocess.run(["perf", "report", "-i", self.data, "--no-children", "--sort", "dso", "-g", "none",
                               "-q"], capture_output=True, text=True).stdout
        os.unlink(self.data)
        split = ", ".join(" ".join(line.split()[:2]) for line in dsos.splitlines()[:4] if line.strip())
        print(f"  perf, {what}: samples by object: {split}")
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[-1] in self.WATCH:
                print(f"  perf, {what}: {parts[-1]:28} {parts[0]:>7} with callees, {parts[1]:>7} itself")


def fresh() -> None:
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", NS], check=True)


def stats(times: list[float]) -> str:
    return f"min {min(times) * 1000:8.1f} ms  median {statistics.median(times) * 1000:8.1f} ms"


def row(what: str, n: int, text: str) -> None:
    print(f"{what:44} {n:7,}  {text}", flush=True)


def kernel_load(n: int, rs, types: dict[str, str]) -> None:
    """The kernel's own cost of a full load: the per-service part as netlink messages."""
    head, rest = nft_service_part(rs)
    t0 = time.process_time()
    messages = encode_transaction(rest, types)
    encode = time.process_time() - t0
    chains = [m for m in messages if " chain " in m.line[:10]]
    rules = [m for m in messages if m.line.startswith("add rule")]
    elements = [m for m in messages if m.line.startswith("add element")]
    row("nftables: per-service part, Python encoder", n, f"CPU {encode:5.2f} s for {len(messages):,} messages")
    fresh()
    run(["nft", "-f", "-"], head)
    sock = NftSocket(NS)
    try:
        c0, t0 = thread_cpu(), time.perf_counter()
        sock.commit(messages)
        row("nftables: per-service part, one netlink batch", n,
            f"{time.perf_counter() - t0:8.2f} s wall, kernel CPU {thread_cpu() - c0:5.2f} s")
    finally:
        sock.close()
    fresh()
    run(["nft", "-f", "-"], head)
    sock = NftSocket(NS)
    try:
        split = []
        for part in (chains, rules, elements):
            c0 = thread_cpu()
            sock.commit(part)
            split.append(thread_cpu() - c0)
        row("nftables: same, kernel CPU per commit", n,
            f"chains {split[0]:5.2f} s ({len(chains):,}), rules {split[1]:5.2f} s ({len(rules):,}), "
            f"elements {split[2]:5.2f} s (+ validation)")
    finally:
        sock.close()


def block_form(rs) -> str:
    """The same ruleset in nft's block syntax (``table ip kube-proxy { chain ... { rules } }``),
    elements last: fewer words to parse than one ``add`` command per object."""
    out = [f"add table ip {TABLE}", f"delete table ip {TABLE}", f"table ip {TABLE} {{", f"  comment {quoted(rs.comment)}"]
    for st in rs.sets.values():
        out += [f"  {'map' if st.is_map else 'set'} {st.name} {{", f"    type {st.type}"]
        out += [f"    comment {quoted(st.comment)}"] if st.comment else []
        out.append("  }")
    for c in rs.chains.values():
        out.append(f"  chain {c.name} {{")
        out += [f"    type {c.hook[0]} hook {c.hook[1]} priority {c.hook[2]}"] if c.hook else []
        out += [f"    comment {quoted(c.comment)}"] if c.comment else []
        out += [f"    {r}" + (f" comment {quoted(cm)}" if cm else "") for r, cm in c.rules]
        out.append("  }")
    out.append("}")
    out += [f"add element ip {TABLE} {st.name} {{ {', '.join(st.elements)} }}" for st in rs.sets.values() if st.elements]
    return "\n".join(out) + "\n"


def text_forms(n: int, rs) -> None:
    """Whether the form of the text changes what ``nft -f`` costs: as rendered, without any
    comment, in block syntax, without the ``add table``/``delete table`` prologue."""
    whole = nft_initial_batches(rs)[0]
    forms = {"as rendered": whole, "no comments": re.sub(r' comment "[^"]*"', "", whole),
             "block syntax": block_form(rs), "no delete prologue": whole.split("\n", 2)[2]}
    for label, text in forms.items():
        fresh()
        row(f"nftables: nft -f, {label}", n, cpu_text(*run_cpu(["nft", "-f", "-"], text)))


def nftables(n: int, perf: bool) -> None:
    ctx = node_context("10.255.250.1")
    inp = synthetic_input(n)
    rs, rs2 = render_nftables(inp, ctx), render_nftables(one_service_changed(inp), ctx)
    types = {name: s.type for name, s in rs.sets.items()}
    there, back = nft_update(rs, rs2).transaction, nft_update(rs2, rs).transaction
    kernel_load(n, rs, types)
    fresh()
    row("nftables: full load (nft -f)", n, cpu_text(*run_cpu(["nft", "-f", "-"], nft_initial_batches(rs)[0])))
    sock = NftSocket(NS)

    def commit(messages: list[Message]) -> float:
        t0 = time.perf_counter()
        sock.commit(messages)
        return time.perf_counter() - t0

    def kernel(messages: list[Message], then: list[Message] | None = None) -> float:
        c0 = thread_cpu()
        sock.commit(messages)
        spent = thread_cpu() - c0
        if then:
            sock.commit(then)
        return spent

    try:
        add = encode_transaction("add element ip kube-proxy cluster-ips { 10.255.255.254 }", types)
        delete = encode_transaction("delete element ip kube-proxy cluster-ips { 10.255.255.254 }", types)
        rule = encode_transaction("add chain ip kube-proxy floor\nflush chain ip kube-proxy floor\n"
                                  "add rule ip kube-proxy floor accept", types)
        row("nftables: element only (netlink)", n, stats([commit(add) + 0 * commit(delete) for _ in range(REPEAT)]))
        row("nftables: same, kernel CPU", n, stats([kernel(add, delete) for _ in range(REPEAT)]))
        row("nftables: rule with a verdict (netlink)", n, stats([commit(rule) for _ in range(REPEAT)]))
        row("nftables: same, kernel CPU", n, stats([kernel(rule) for _ in range(REPEAT)]))
        with Perf(perf) as p:
            for _ in range(3 * REPEAT):
                commit(rule)
        p.report(f"{n:,} services, rule with a verdict")
        msgs = encode_transaction(there, types), encode_transaction(back, types)
        row("nftables: one-service change (netlink)", n,
            stats([commit(msgs[0]) + 0 * commit(msgs[1]) for _ in range(REPEAT)]))
    finally:
        sock.close()
    row("nftables: one-service change (nft -f)", n,
        stats([run(["nft", "-f", "-"], there) + 0 * run(["nft", "-f", "-"], back) for _ in range(3)]))


def iptables(n: int, perf: bool) -> None:
    ctx = node_context("10.255.250.1")
    inp = synthetic_input(n)
    text, text2 = render_iptables(inp, ctx), render_iptables(one_service_changed(inp), ctx)
    there, back = iptables_update(text, text2).restore, iptables_update(text2, text).restore
    for backend in ("nft", "legacy"):
        restore = [f"iptables-{backend}-restore", "--noflush", "-w"]
        fresh()
        run(restore, JUMPS)
        batches = iptables_initial_batches(text) if backend == "nft" else [text]
        row(f"iptables-{backend}: full load", n, f"{sum(run(restore, b) for b in batches):8.2f} s")
        row(f"iptables-{backend}: one-service change", n,
            stats([run(restore, there) + 0 * run(restore, back) for _ in range(3)]))
        cpu = []
        for _ in range(3):
            cpu.append(run_cpu(restore, there))
            run(restore, back)
        best = min(cpu, key=lambda c: c[1] + c[2])
        row(f"iptables-{backend}: same, the least CPU of 3", n, cpu_text(*best))
        if backend == "nft":
            p = Perf(perf)
            p.command(restore, there)
            run(restore, back)
            p.report(f"{n:,} services, iptables-nft one-service change")
        row(f"iptables-{backend}: empty *nat COMMIT", n, stats([run(restore, "*nat\nCOMMIT\n") for _ in range(3)]))


class _LabNode:
    name, netns, ip = "bench-node", NS, "10.255.250.1"


class _LabSpec:
    """What :class:`KubeProxy` reads of a lab: one node, whose namespace is the bench's."""
    name, proxy_mode, pod_cidr, service_cidr = "kpfloor", "nftables", "10.244.0.0/16", "10.96.0.0/12"

    def node_plans(self) -> list:
        return [_LabNode()]


def lab_objects(n: int) -> list[dict]:
    """N Services of one port and their EndpointSlices (2 endpoints), as the lab's store holds them."""
    objs = []
    for i in range(n):
        name, ip = f"svc-{i}", f"10.{96 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}"
        objs.append({"kind": "Service", "metadata": {"name": name, "namespace": "bench", "resourceVersion": str(2 * i + 1)},
                     "spec": {"clusterIP": ip, "type": "ClusterIP",
                              "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}})
        objs.append(lab_slice(name, i, 2, 2 * i + 2))
    return objs


def lab_slice(name: str, i: int, endpoints: int, rv: int) -> dict:
    return {"kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{name}-abc", "namespace": "bench", "resourceVersion": str(rv),
                         "labels": {"kubernetes.io/service-name": name}},
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [f"10.244.{1 + j}.{i % 250 + 2}"], "conditions": {"ready": True},
                           "nodeName": "x"} for j in range(endpoints)]}


def lab_path(n: int, samples: int, mode: str = "nftables") -> None:
    """The lab's own kube-proxy (``KubeProxy``, fed by change events as the daemon feeds it), one
    node: from an EndpointSlice change reaching the proxy to the kernel's ack of the commit. CPU:
    the process's user time (Python: index, parse, render, diff, encode) and system time (the
    kernel's commit, in ``sendmsg``), from ``getrusage``; in iptables mode, also the CPU of the
    ``iptables-restore`` child (its commit's kernel time included)."""
    import asyncio

    from labkit.embedded.proxy import KubeProxy

    fresh()
    objs = lab_objects(n)
    spec = _LabSpec()
    spec.proxy_mode = mode
    proxy = KubeProxy(spec, lambda: objs)  # type: ignore[arg-type]
    proxy.fed = True
    middle = n // 2

    async def go() -> tuple[list[float], list[float], list[float], list[str], list[float]]:
        t0 = time.perf_counter()
        await proxy.sync()
        row("lab path: first (full) sync", n, f"{time.perf_counter() - t0:8.2f} s wall")
        walls, users, systems, via = [], [], [], []
        children: list[float] = []
        for k in range(samples):
            changed = lab_slice(f"svc-{middle}", middle, 1 if k % 2 == 0 else 2, 10 ** 7 + k)
            body = {key: v for key, v in changed.items() if key != "kind"}
            await asyncio.sleep(0.02)  # the socket of the last commit closes beside the sync
            r0, c0, t0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN), \
                time.perf_counter()
            proxy.object_changed("EndpointSlice", False, body)
            await proxy.sync()
            wall, r1, c1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF), \
                resource.getrusage(resource.RUSAGE_CHILDREN)
            walls.append(wall)
            users.append(r1.ru_utime - r0.ru_utime)
            systems.append(r1.ru_stime - r0.ru_stime)
            children.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
            via.append(proxy.records["bench-node"].via or "iptables-restore")
        return walls, users, systems, via, children

    walls, users, systems, via, children = asyncio.run(go())
    row(f"lab path ({mode}): one-Service change, wall", n, stats(walls) + f"  ({samples} samples, via {set(via)})")
    row("lab path: same, user CPU (Python)", n, stats(users))
    row("lab path: same, system CPU (kernel)", n, stats(systems))
    if mode == "iptables":
        row("lab path: same, iptables-restore's CPU", n, stats(children) + "  (user + system)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--modes", default="nftables,iptables")  # --forms: nftables only
    parser.add_argument("--perf", action="store_true", help="sample the kernel with perf record (if installed)")
    parser.add_argument("--forms", action="store_true", help="only load the nftables text in other forms")
    parser.add_argument("--lab", type=int, default=0, metavar="SAMPLES",
                        help="only the lab's own kube-proxy: SAMPLES one-Service changes, object to ack")
    args = parser.parse_args()
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            for mode in ["nftables"] if args.forms else args.modes.split(","):
                print(f"-- {mode}, {n:,} services, load average {os.getloadavg()[0]:.1f}", flush=True)
                if args.lab:
                    lab_path(n, args.lab, mode)
                elif args.forms:
                    text_forms(n, render_nftables(synthetic_input(n), node_context("10.255.250.1")))
                else:
                    {"nftables": nftables, "iptables": iptables}[mode](n, args.perf)
    finally:
        subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
