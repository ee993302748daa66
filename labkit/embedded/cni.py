"""Pod wiring with the reference CNI plugins, invoked with the CNI protocol.

The configuration builders are pure: they write the same ``.conflist`` a kind node (kindnet),
a bridge setup, or a flannel node would carry, so learners can ``cat`` them and compare.
``CniRunner`` plays libcni's part: it runs each plugin of the list in order (env + JSON on stdin,
``prevResult`` chained), inside the node's network namespace so that the host side of the veth
lands on the node, and keeps the ADD result for a later DEL.

flannel: the node's conflist is kube-flannel's own ``cni-conf.json`` (``{"type": "flannel",
"delegate": {...}}`` + portmap, flannel-io/flannel Documentation/kube-flannel.yml). Debian's
``containernetworking-plugins`` has no ``flannel`` binary, so ``CniRunner`` does that meta-plugin's
one job itself (``flannel_delegate``): read ``subnet.env`` and hand the completed delegate to the
``bridge`` plugin, as flannel-io/cni-plugin flannel_linux.go ``doCmdAdd`` does. One departure:
the delegate's host-local ``dataDir`` is the lab's own (flannel leaves host-local's default,
``/var/lib/cni/networks``), so that the lab's addresses live, and go, with the lab.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LabkitError
from .netns import run_in
from .topology import FLANNEL_MTU, LabSpec, NodePlan

CNI_BIN_DIR = "/usr/lib/cni"
CNI_VERSION = "0.3.1"   # what kindnet and flannel declare; the plugins also speak 1.0.0
NODE_MTU = 1500


def conflist_filename(spec: LabSpec) -> str:
    return {"kindnet": "10-kindnet.conflist", "bridge": "10-bridge.conflist",
            "flannel": "10-flannel.conflist", "calico": "10-calico.conflist"}[spec.cni]


def node_conflist(spec: LabSpec, node: NodePlan, ipam_dir: str) -> dict:
    """The network configuration list a node of this flavor uses for every pod."""
    portmap = {"type": "portmap", "capabilities": {"portMappings": True}}
    if spec.cni == "kindnet":
        # kindnet's own template (kind images/kindnetd/cmd/kindnetd/cni.go): ptp + host-local.
        return {"cniVersion": CNI_VERSION, "name": "kindnet", "plugins": [
            {"type": "ptp", "ipMasq": False, "mtu": NODE_MTU,
             "ipam": {"type": "host-local", "dataDir": ipam_dir,
                      "routes": [{"dst": "0.0.0.0/0"}],
                      "ranges": [[{"subnet": node.pod_cidr}]]}},
            portmap]}
    if spec.cni == "bridge":
        return {"cniVersion": CNI_VERSION, "name": "bridge", "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "isDefaultGateway": True,
             "hairpinMode": True, "ipMasq": False, "mtu": NODE_MTU,
             "ipam": {"type": "host-local", "dataDir": ipam_dir,
                      "ranges": [[{"subnet": node.pod_cidr}]]}},
            portmap]}
    if spec.cni == "calico":
        from .calico import (
            node_conflist as calico_conflist,  # calico-node's install (see calico.py)
        )
        return calico_conflist(node, NODE_MTU)
    # flannel: kube-flannel.yml's cni-conf.json, verbatim (see the module docstring)
    return {"name": "cbr0", "cniVersion": CNI_VERSION, "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        portmap]}


def parse_subnet_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def flannel_delegate(plugin: dict, name: str, cni_version: str, subnet_env: dict[str, str],
                     ipam_dir: str) -> dict:
    """What the flannel CNI plugin hands to its delegate (flannel-io/cni-plugin flannel_linux.go
    ``doCmdAdd`` and ``getDelegateIPAM``): bridge by default, ``ipMasq`` only when flanneld does
    not masquerade, flanneld's MTU, the node's subnet and a route to the whole flannel network."""
    delegate = dict(plugin.get("delegate") or {})
    delegate["name"] = name
    delegate.setdefault("type", "bridge")
    delegate.setdefault("ipMasq", subnet_env.get("FLANNEL_IPMASQ") != "true")
    delegate.setdefault("mtu", int(subnet_env.get("FLANNEL_MTU", FLANNEL_MTU)))
    if delegate["type"] == "bridge":
        delegate.setdefault("isGateway", True)
    delegate["cniVersion"] = cni_version
    subnet = str(ipaddress.ip_network(subnet_env["FLANNEL_SUBNET"], strict=False))
    ipam = dict(plugin.get("ipam") or {})
    ipam.setdefault("type", "host-local")
    ipam["ranges"] = [[{"subnet": subnet}]]
    ipam["routes"] = list(ipam.get("routes") or []) + [
        {"dst": n} for n in subnet_env.get("FLANNEL_NETWORK", "").split(",") if n]
    ipam["dataDir"] = ipam_dir                 # the lab's departure (see the module docstring)
    delegate["ipam"] = ipam
    return delegate


def flannel_subnet_env(spec: LabSpec, node: NodePlan) -> str:
    """The ``/run/flannel/subnet.env`` flanneld writes on each node."""
    return (f"FLANNEL_NETWORK={spec.pod_cidr}\nFLANNEL_SUBNET={node.pod_gateway}/24\n"
            f"FLANNEL_MTU={FLANNEL_MTU}\nFLANNEL_IPMASQ=true\n")


@dataclass
class CniResult:
    """What the last plugin of an ADD returned, kept for DEL and for inspection."""

    raw: dict

    @property
    def ip(self) -> str:
        return self.raw["ips"][0]["address"].split("/")[0]

    @property
    def gateway(self) -> str | None:
        return self.raw["ips"][0].get("gateway")

    @property
    def host_interface(self) -> str | None:
        """The host-side veth (the interface without a sandbox that is not a bridge)."""
        ifaces = self.raw.get("interfaces", [])
        bridge_names = {"cni0"}
        for iface in ifaces:
            if not iface.get("sandbox") and iface["name"] not in bridge_names:
                return iface["name"]
        return None


class CniRunner:
    """libcni's job for one node: run the plugin chain with the CNI protocol."""

    def __init__(self, conflist: dict, node_netns: str, bin_dir: str = CNI_BIN_DIR,
                 subnet_env: str | None = None, ipam_dir: str | None = None,
                 calico: Any = None) -> None:
        self.conflist = conflist
        self.calico = calico              # calico: the node's CalicoNode, which plays the calico plugin
        self.node_netns = node_netns
        self.bin_dir = bin_dir
        self.subnet_env = subnet_env      # flannel: the node's /run/flannel/subnet.env
        self.ipam_dir = ipam_dir

    def _resolved(self, plugin: dict) -> dict:
        """The plugin to execute: flannel's delegate in place of the missing flannel binary."""
        if plugin.get("type") != "flannel":
            return plugin
        if (Path(self.bin_dir) / "flannel").exists():     # the real plugin, told the lab's paths
            return {**plugin, "subnetFile": self.subnet_env or "/run/flannel/subnet.env",
                    "dataDir": str(Path(self.ipam_dir or "/var/lib/cni").parent / "flannel"),
                    "ipam": {**(plugin.get("ipam") or {}), "dataDir": self.ipam_dir}}
        env = parse_subnet_env(Path(self.subnet_env or "/run/flannel/subnet.env").read_text())
        return flannel_delegate(plugin, self.conflist["name"], self.conflist["cniVersion"], env,
                                self.ipam_dir or "/var/lib/cni/networks")

    async def add(self, container_id: str, pod_netns: str, pod: str) -> CniResult:
        prev: dict | None = None
        for plugin in self.conflist["plugins"]:
            if self._played(plugin):
                prev = await self.calico.add(container_id, pod_netns, pod)
                continue
            prev = await self._invoke("ADD", self._resolved(plugin), container_id, pod_netns, pod, prev)
        assert prev is not None
        return CniResult(prev)

    async def delete(self, container_id: str, pod_netns: str, pod: str, prev: dict | None) -> None:
        for plugin in reversed(self.conflist["plugins"]):
            if self._played(plugin):
                await self.calico.delete(container_id, pod_netns, pod)
                continue
            await self._invoke("DEL", self._resolved(plugin), container_id, pod_netns, pod, prev)

    def _played(self, plugin: dict) -> bool:
        """The calico plugin (not in Debian) is played by the node's ``CalicoNode``."""
        return (plugin.get("type") == "calico" and self.calico is not None
                and not (Path(self.bin_dir) / "calico").exists())

    def _config(self, plugin: dict, prev: dict | None) -> bytes:
        conf = {"cniVersion": self.conflist["cniVersion"], "name": self.conflist["name"], **plugin}
        if prev is not None:
            conf["prevResult"] = prev
        return json.dumps(conf).encode()

    async def _invoke(self, command: str, plugin: dict, container_id: str, pod_netns: str,
                      pod: str, prev: dict | None) -> dict:
        namespace, _, name = pod.partition("/")
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": f"/run/netns/{pod_netns}",
            "CNI_IFNAME": "eth0",
            "CNI_PATH": self.bin_dir,
            "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name};"
                        f"K8S_POD_INFRA_CONTAINER_ID={container_id}",
        }
        binary = str(Path(self.bin_dir) / plugin["type"])
        # Started by a worker thread inside the node's namespace (no ``nsenter`` process, and the
        # event loop never waits for a fork): pods are wired in parallel on every core. The
        # environment is libcni's and nothing more: the Go runtime's own settings (GOMAXPROCS=1,
        # GOGC=off) were measured and save nothing (``bench/pod_floor.py --go-runs``).
        proc = await asyncio.to_thread(run_in, self.node_netns, [binary],
                                       self._config(plugin, prev), env)
        out, err = proc.stdout, proc.stderr
        if proc.returncode != 0:
            try:
                detail = json.loads(out)
                error = f"{detail.get('msg', '')} {detail.get('details', '')}".strip()
            except ValueError:
                error = (err or out).decode(errors="replace").strip()
            raise LabkitError("lab.cni_failed", plugin=plugin["type"], command=command, pod=pod,
                              error=error or f"exit {proc.returncode}")
        if command == "DEL" or not out.strip():
            return prev or {}
        return json.loads(out)
