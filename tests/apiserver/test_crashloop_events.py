"""A crash-looping container's Events, as kubectl shows them: ``kubectl describe pod`` lists a
Warning ``BackOff`` naming the container ("Back-off restarting failed container c in pod
loop_default(<uid>)", pkg/kubelet/kuberuntime/kuberuntime_manager.go ``doBackOff``) and
``kubectl get events`` counts it on one Event (client-go's aggregation) as the crashes go on.

The API server runs on ``LocalRuntime`` (addresses) with the lab's own ``ProcessManager`` running
the container's command in a network namespace of this test, wired to the API as the embedded
lab's daemon wires it (``daemon.start_pod_processes``). Needs root (the processes' namespaces).
The back-off starts at 1 s instead of 10 s to keep the test short; nothing is timed.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from labkit.apiserver import LocalRuntime
from labkit.apiserver.api import PODS
from labkit.apiserver.container_status import StatusWriter
from labkit.embedded import processes as pr

from .conftest import Lab, need_kubectl

NETNS = "tbackoffev"     # this test's own network namespace (no other test uses the name)
POD = """apiVersion: v1
kind: Pod
metadata: {name: loop}
spec:
  restartPolicy: Always
  containers:
  - {name: c, image: busybox, command: [sh, -c, "exit 1"]}
"""


class ProcessRuntime(LocalRuntime):
    """``LocalRuntime``'s addresses, and the containers' commands run by ``ProcessManager``."""

    def __init__(self) -> None:
        super().__init__()
        self.processes = pr.ProcessManager()

    async def start_pod(self, pod: dict, node: str) -> str:
        ip = await super().start_pod(pod, node)
        await self.processes.start_pod(pod, NETNS, fresh=True)
        return ip

    async def stop_pod(self, pod: dict) -> None:
        await self.processes.stop_pod(pod["metadata"]["uid"], None)
        await super().stop_pod(pod)


@pytest.fixture
def crash_lab(tmp_path, monkeypatch):
    need_kubectl()
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("setpriv"):
        pytest.skip("the containers' processes need root, ip and setpriv")
    monkeypatch.setattr(pr, "BACKOFF_FIRST", 1.0)
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    lab = Lab(tmp_path)
    lab.runtime = lab.server.runtime = runtime = ProcessRuntime()
    try:
        lab.start()
        assert lab.server.store is not None and lab.server.controllers is not None
        runtime.processes.status_sink = StatusWriter(lab.server.store, PODS)
        runtime.processes.event_sink = lab.server.controllers.kubelet.container_event
        yield lab
    finally:
        lab.stop()
        pr.kill_all(pr.netns_processes(NETNS))
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)


def test_a_crash_loop_shows_a_counted_back_off_warning(crash_lab):
    lab = crash_lab
    lab.kubectl("apply", "-f", "-", input=POD, check=True)
    uid = lab.kubectl("get", "pod", "loop", "-o", "jsonpath={.metadata.uid}", check=True).stdout
    message = f"Back-off restarting failed container c in pod loop_default({uid})"

    def back_off_line() -> str | None:
        text = lab.kubectl("describe", "pod", "loop", check=True).stdout
        events = text[text.find("Events:"):]
        return next((line for line in events.splitlines() if "BackOff" in line), None)
    line = lab.wait_for(back_off_line, 90, "a BackOff event in kubectl describe")
    assert line.split()[:2] == ["Warning", "BackOff"] and "kubelet" in line
    assert line.endswith(message)

    def counts(reason: str) -> list[tuple[int, str]]:
        out = lab.kubectl("get", "events", "--field-selector", f"reason={reason}",
                          "-o", "custom-columns=COUNT:.count,TYPE:.type,MESSAGE:.message",
                          "--no-headers", check=True).stdout
        return [(int(c), rest) for c, rest in (row.split(None, 1) for row in out.splitlines())]
    # further crashes count on the same Event instead of adding Events
    counted = lab.wait_for(lambda: (c := counts("BackOff")) and c[0][0] >= 2 and c, 90,
                           "the BackOff event counted twice")
    assert len(counted) == 1 and counted[0][1].split(None, 1) == ["Warning", message]
    # describe shows the count; each restart also counts Pulled, Created and Started again
    assert "(x" in (back_off_line() or "")
    started = counts("Started")
    assert len(started) == 1 and started[0][0] >= 2
    assert started[0][1].split(None, 1) == ["Normal", "Started container c"]
