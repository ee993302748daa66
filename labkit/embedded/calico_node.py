"""The Calico-like flavor on a node, I/O part: its BIRD, its IPAM blocks, the calico CNI plugin's ADD/DEL.

Debian has no calico binaries, so this module plays three of them for a node of the lab (the
plans are pure, in :mod:`.calico` and :mod:`.bird`):
- calico-node's BIRD: ``bird`` from Debian's ``bird2`` in the node's network namespace, its
  configuration written as confd would, its control socket in the node's directory under the
  lab's (``labkit down`` removes the socket; the process lives in the node's namespace, so the
  sweep ends it by namespace, also after a crash);
- calico-ipam: blocks claimed per node, one file per address (host-local's layout), in the node's
  directory;
- the calico CNI plugin: the veth pair, the host end's sysctls, the pod's routes (see
  :mod:`.calico` for the source files read).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

from ..errors import LabkitError
from . import bird, calico
from . import netns as ns
from .paths import node_dir
from .topology import LabSpec, NodePlan

START_TIMEOUT = 5.0

MESSAGES = {
    "lab.no_bird": {
        "en": "lab {name} runs the {cni} CNI flavor: BIRD runs only in the calico flavor (labkit up --cni calico)",
        "fr": "le lab {name} utilise la variante de CNI {cni} : BIRD ne tourne que dans la variante calico "
              "(labkit up --cni calico)"},
    "lab.bad_bird_action": {
        "en": "unknown BIRD action {action!r}: choose stop, start or status",
        "fr": "action BIRD inconnue {action!r} : choisissez stop, start ou status"},
    "lab.bird_failed": {
        "en": "BIRD did not start in node {node}: {error}",
        "fr": "BIRD n'a pas démarré dans le nœud {node} : {error}"},
}


class CalicoNode:
    """One node's Calico agent state: files under ``<lab dir>/nodes/<node>/``."""

    def __init__(self, spec: LabSpec, node: NodePlan, mtu: int = 1500) -> None:
        self.spec, self.node, self.mtu = spec, node, mtu
        self.dir = node_dir(spec.name, node.name)

    # --- IPAM ------------------------------------------------------------------------------------
    @property
    def ipam_dir(self) -> Path:
        return self.dir / "var" / "lib" / "calico" / "ipam"

    def blocks(self) -> list[str]:
        try:
            return json.loads((self.ipam_dir / "blocks.json").read_text())
        except FileNotFoundError:
            return []

    def _save_blocks(self, blocks: list[str]) -> None:
        self.ipam_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.ipam_dir / "blocks.json.tmp"
        tmp.write_text(json.dumps(blocks))
        tmp.replace(self.ipam_dir / "blocks.json")

    def claim_first_block(self) -> None:
        if not self.blocks():
            self._save_blocks(calico.node_blocks(self.node)[:1])

    def assign(self, container_id: str) -> tuple[str, bool]:
        """An address for a container (the same one again for a container that has one); and whether
        a block was claimed (BIRD must then announce it). Synchronous: atomic in the daemon's loop."""
        used = {}
        if self.ipam_dir.exists():
            used = {p.name: p.read_text() for p in self.ipam_dir.iterdir() if p.name[0].isdigit()}
        for ip, owner in used.items():
            if owner == container_id:
                return ip, False
        blocks = self.blocks()
        try:
            ip, new_block = calico.allocate(self.node, blocks, set(used))
        except LookupError:
            raise LabkitError("lab.cni_failed", plugin="calico-ipam", command="ADD", pod=container_id,
                              error=f"no free address in the blocks of {self.node.name}") from None
        if new_block:
            self._save_blocks(blocks + [new_block])
        self.ipam_dir.mkdir(parents=True, exist_ok=True)
        (self.ipam_dir / ip).write_text(container_id)
        return ip, bool(new_block)

    def release(self, container_id: str) -> None:
        if not self.ipam_dir.exists():
            return
        for p in self.ipam_dir.iterdir():
            if p.name[0].isdigit() and p.read_text() == container_id:
                p.unlink(missing_ok=True)

    # --- BIRD ------------------------------------------------------------------------------------
    @property
    def socket(self) -> Path:
        return bird.socket_path(self.dir)

    def write_bird_config(self) -> Path:
        conf = bird.config_dir(self.dir)
        conf.mkdir(parents=True, exist_ok=True)
        bird.log_path(self.dir).parent.mkdir(parents=True, exist_ok=True)
        for name, text in bird.config_files(self.spec, self.node, self.blocks(),
                                            str(bird.log_path(self.dir))).items():
            (conf / name).write_text(text)
        return conf / "bird.cfg"

    def bird_pid(self) -> int | None:
        """The running BIRD's pid (from its pid file, checked against /proc), or None."""
        try:
            pid = int(bird.pid_path(self.dir).read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            return None
        return pid if b"bird" in cmdline and str(self.socket).encode() in cmdline else None

    def start_bird(self) -> None:
        """Start the node's BIRD (it daemonizes) unless it runs; returns once its socket answers."""
        if self.bird_pid() is not None:
            return
        cfg = self.write_bird_config()
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        ns.run(["bird", "-c", str(cfg), "-s", str(self.socket), "-P", str(bird.pid_path(self.dir))],
               self.node.netns)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.socket.exists() and self.bird_pid() is not None:
                return
            time.sleep(0.02)
        raise LabkitError("lab.bird_failed", node=self.node.name,
                          error=f"no control socket {self.socket} after {START_TIMEOUT:g} s")

    def stop_bird(self) -> bool:
        """Kill the node's BIRD (SIGKILL: the agent dies, it does not say goodbye to its peers).
        Its kernel routes stay (``persist``); the peers drop its routes when the session goes."""
        pid = self.bird_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if _zombie_or_gone(pid):
                break
            time.sleep(0.02)
        self.socket.unlink(missing_ok=True)
        return True

    def reconfigure(self) -> None:
        """confd's job after a new block: rewrite the files, ``birdc configure``."""
        self.write_bird_config()
        if self.bird_pid() is not None:
            ns.run(["birdc", "-s", str(self.socket), "configure"], check=False)

    def birdc(self, words: list[str]) -> str:
        return ns.run(bird.birdc_argv(self.socket, words), self.node.netns)

    # --- the calico CNI plugin ----------------------------------------------------------------------
    async def add(self, container_id: str, pod_netns: str, pod: str) -> dict:
        namespace, _, name = pod.partition("/")
        host = calico.host_veth_name(namespace, name)
        ip, claimed = self.assign(container_id)
        try:
            await ns.aip_batch(calico.host_side_commands(host, pod_netns, ip, self.mtu), self.node.netns)
            await ns.arun(["sysctl", "-q", "-w"] + [f"{k.format(dev=host)}={v}" for k, v in zip(
                calico.HOST_VETH_SYSCTLS, ("1", "0", "1", "1"))], self.node.netns)
            await ns.aip_batch(calico.pod_side_commands(ip), pod_netns)
            link = json.loads(await ns.arun(["ip", "-j", "link", "show", "eth0"], pod_netns))
        except BaseException:
            await ns.arun(["ip", "link", "del", host], self.node.netns, check=False)
            self.release(container_id)
            raise
        if claimed:
            await asyncio.to_thread(self.reconfigure)
        return calico.cni_result(host, link[0].get("address", ""), pod_netns, ip)

    async def delete(self, container_id: str, pod_netns: str, pod: str) -> None:
        namespace, _, name = pod.partition("/")
        await ns.arun(["ip", "link", "del", calico.host_veth_name(namespace, name)], self.node.netns,
                      check=False)
        self.release(container_id)


def _zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] == "Z"
    except OSError:
        return True
