"""Benchmark (no lab, no root): what the lab's pod records cost the daemon at N pods.

``LabState`` keeps one file per pod (``<lab>/pods/<netns>.json``, ``state.py``), written twice
per pod started: the write-ahead mark (``wiring: true``, before the namespace and the CNI ADD,
so a daemon killed while wiring is rolled back by the next one) and the record once wired. This
times exactly those writes with a pod record of the usual size (a bridge CNI result), under a
scratch lab directory on the labs' filesystem (``LABKIT_RUN_DIR``, /run/labkit by default), and
reading them all back as ``labkit``'s client does (``LabState.load``). Wall and CPU time
(getrusage of this process); the code makes no fsync (a rename only), which ``--strace`` checks
by counting the syscalls of one run. Prints figures; asserts nothing.

    .venv/bin/python bench/pod_records.py [--pods 1000] [--strace]

Measured 2026-12-04 (2 shared cores, load average 1.4-2.8), 1,000 pods: both writes 0.39-0.53 ms
of CPU per pod (0.40-0.80 ms wall) where /run/labkit is ext4 (this machine), 0.13 ms on tmpfs
(/dev/shm; /run is a tmpfs on a stock Debian); no fsync; per pod 3.5 openat, 2 rename, 9 stat.
That is 3-5% of the daemon's 10-15 ms of CPU per pod. ``LabState.load`` of 1,000 records: 50-57
ms of CPU (what each ``EmbeddedLab(name)`` of the CLI pays at that size).
Both writes stay: the first is the write-ahead mark without which a daemon killed while wiring
leaves a namespace and an IPAM address that no record names (tests/lab/test_reliability.py kills
one while wiring 30 pods). Moving records into the store's journal would save the file
creations, but the CLI and ``labkit down`` read the records while the daemon runs
(``LabState.load``: embedded/client.py, nodes.py, companions.py, lifecycle.py), and the journal's
compaction renames and removes its files under a reader; that loader does not exist yet.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cni_result(i: int) -> dict:
    """What the bridge plugin's ADD returns (its size matters, not its truth)."""
    ip = f"10.244.{i // 250}.{i % 250 + 2}"
    return {"cniVersion": "1.0.0", "interfaces": [
        {"name": "cni0", "mac": "5a:9e:1c:00:00:01"},
        {"name": f"veth{i:08x}", "mac": "7e:1d:33:00:00:02"},
        {"name": "eth0", "mac": "0a:58:0a:f4:00:03", "sandbox": f"/run/netns/bench-p{i}"}],
        "ips": [{"interface": 2, "address": f"{ip}/24", "gateway": "10.244.0.1"}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.244.0.1"}], "dns": {}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--strace", action="store_true", help="count the syscalls (strace -c)")
    parser.add_argument("--run-dir", default=os.environ.get("LABKIT_RUN_DIR", "/run/labkit"))
    args = parser.parse_args()
    if args.strace:
        argv = ["strace", "-f", "-c", "-e", "trace=openat,rename,fsync,fdatasync,write,mkdir,stat,"
                "newfstatat", sys.executable, __file__, "--pods", str(args.pods)]
        print(subprocess.run(argv, capture_output=True, text=True).stderr[-2500:])
        return
    os.makedirs(args.run_dir, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-records-", dir=args.run_dir))
    os.environ["LABKIT_RUN_DIR"] = str(scratch)
    from labkit.embedded import paths
    paths.RUN_ROOT = scratch
    from labkit.embedded.state import LabState, PodRecord
    from labkit.embedded.topology import LabSpec

    state = LabState(LabSpec(name="benchrec"))
    state.save()
    n = args.pods
    records = [PodRecord(namespace="default", name=f"web-{i:05}", node="benchrec-worker",
                         ip="", netns=f"benchrec-p{i}", container_id=f"{i:032x}",
                         ports=[(80, "TCP")], image="nginx", labels={"app": "web"},
                         uid=f"uid-{i}") for i in range(n)]
    try:
        print(f"{n} pod records under {scratch} ({os.statvfs(scratch).f_bsize} B blocks), "
              f"load average {os.getloadavg()[0]:.2f}")
        wall, used = time.perf_counter(), cpu()
        for record in records:
            record.wiring = True
            state.save_pod(record)               # the write-ahead mark
        mark = (time.perf_counter() - wall, cpu() - used)
        wall, used = time.perf_counter(), cpu()
        for i, record in enumerate(records):
            record.wiring = False
            record.ip, record.cni_result = cni_result(i)["ips"][0]["address"][:-3], cni_result(i)
            state.pods[record.key] = record
            state.save_pod(record)               # the record once wired
        done = (time.perf_counter() - wall, cpu() - used)
        wall, used = time.perf_counter(), cpu()
        loaded = LabState.load("benchrec")
        load = (time.perf_counter() - wall, cpu() - used)
        assert loaded is not None and len(loaded.pods) == n
        size = sum(p.stat().st_size for p in (scratch / "benchrec" / "pods").glob("*.json"))
        for label, (w, c) in (("write-ahead mark (wiring: true)", mark),
                              ("record once wired", done)):
            print(f"  {label:32} {1000 * w / n:6.3f} ms wall  {1000 * c / n:6.3f} ms CPU per pod")
        print(f"  {'both writes':32} {1000 * (mark[0] + done[0]) / n:6.3f} ms wall  "
              f"{1000 * (mark[1] + done[1]) / n:6.3f} ms CPU per pod")
        print(f"  LabState.load of {n} records     {1000 * load[0]:7.1f} ms wall  "
              f"{1000 * load[1]:7.1f} ms CPU  ({size // n} B a record)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
