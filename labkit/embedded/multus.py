"""A second pod network, the way Multus adds one (the lab's "meta-plugin").

A ``NetworkAttachmentDefinition`` (``k8s.cni.cncf.io/v1``, served by the lab's API) holds a CNI
config in ``spec.config``; a pod that names it in its ``k8s.v1.cni.cncf.io/networks`` annotation
gets, after its cluster network (``eth0``), one more interface per name (``net1``, ``net2``...)
from that config's plugin, here the reference ``macvlan`` plugin on each node's ``eth1``: a second
node network (a bridge of its own in the lab's net namespace). The pod's
``k8s.v1.cni.cncf.io/network-status`` annotation then lists every interface, as Multus writes it.

Read from k8snetworkplumbingwg:
- network-attachment-definition-client ``pkg/apis/k8s.cni.cncf.io/v1/types.go``: the annotation
  names (``NetworkAttachmentAnnot``, ``NetworkStatusAnnot``) and ``NetworkStatus``'s fields
  (``name``, ``interface``, ``ips``, ``mac``, ``default``, ``dns``); ``pkg/utils/net-attach-def.go``
  ``CreateNetworkStatus`` (the name is ``<namespace>/<name>``, the cluster network's is its own).
- multus-cni ``pkg/k8sclient/k8sclient.go`` ``parsePodNetworkAnnotation``: the annotation is a
  comma list of ``[namespace/]name[@interface]`` or a JSON list of ``{"name", "namespace",
  "interface"}``; interfaces default to ``net1``, ``net2``... in order.

Where the lab departs from Multus: it is not a CNI plugin called by the runtime but a step of the
lab's kubelet after the cluster network; the ipam ``dataDir`` is the lab's own; ``master`` is
``eth1`` whatever the config says.

A failed attachment fails the pod's sandbox, as in Multus (``pkg/multus/multus.go`` ``CmdAdd``:
a delegate whose ADD fails has the ones added before it deleted, ``delPlugins``, and the error is
returned to the runtime; ``pkg/k8sclient/k8sclient.go`` ``getKubernetesDelegate``: a definition
not found is "cannot find a network-attachment-definition (name) in namespace (ns)"). The runtime
then removes the pod's cluster network too and the kubelet retries the whole sandbox, so the pod
stays Pending with a ``FailedCreatePodSandBox`` event until its definition exists, and never runs
without the networks it asked for (``EmbeddedRuntime.start_pod``). The definition is read from
the API's store at wiring time, never from a cache.
"""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from .netns import arun
from .paths import lab_dir
from .topology import LabSpec

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
SECOND_UPLINK = "eth1"
SECOND_BRIDGE = "br-net1"
CNI_BIN_DIR = "/usr/lib/cni"


# --- pure ---------------------------------------------------------------------------------------
def requested(pod: dict) -> list[tuple[str, str, str]]:
    """``[(namespace, name, interface)]`` from a pod's networks annotation (empty when none)."""
    meta = pod.get("metadata") or {}
    text = ((meta.get("annotations") or {}).get(NETWORKS_ANNOTATION) or "").strip()
    if not text:
        return []
    own = meta.get("namespace") or "default"
    if text.startswith("["):
        items = [(e.get("namespace") or own, e["name"], e.get("interface")) for e in json.loads(text)]
    else:
        items = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            ref, _, ifname = part.partition("@")
            ns, _, name = ref.rpartition("/")
            items.append((ns or own, name, ifname or None))
    return [(ns, name, ifname or f"net{i + 1}") for i, (ns, name, ifname) in enumerate(items)]


def attachment_config(nad: dict, lab: str) -> dict:
    """The CNI config to run: the definition's, with the lab's master and ipam state directory."""
    conf = json.loads((nad.get("spec") or {}).get("config") or "{}")
    if conf.get("type") == "macvlan":
        conf["master"] = SECOND_UPLINK
    if isinstance(conf.get("ipam"), dict) and conf["ipam"].get("type") == "host-local":
        conf["ipam"]["dataDir"] = str(lab_dir(lab) / "multus-ipam")
    conf.setdefault("name", nad["metadata"]["name"])
    conf.setdefault("cniVersion", "0.3.1")
    return conf


def status_entry(name: str, ifname: str, result: dict, default: bool = False) -> dict:
    """One ``NetworkStatus`` from a CNI result (``CreateNetworkStatus``)."""
    ifaces = result.get("interfaces") or []
    wanted = next((i for i in ifaces if i.get("name") == ifname and i.get("sandbox")), None)
    entry: dict[str, Any] = {"name": name, "interface": ifname,
             "ips": [ip["address"].split("/")[0] for ip in result.get("ips") or []]}
    if wanted and wanted.get("mac"):
        entry["mac"] = wanted["mac"]
    if default:
        entry["default"] = True
    entry["dns"] = {}
    return entry


# --- I/O ----------------------------------------------------------------------------------------
def second_network_commands(spec: LabSpec) -> list[tuple[str | None, list[str]]]:
    """(netns, argv) that give every node an ``eth1`` on a bridge of its own (idempotent per run)."""
    cmds: list[tuple[str | None, list[str]]] = [
        (spec.net_netns, ["ip", "link", "add", SECOND_BRIDGE, "type", "bridge"]),
        (spec.net_netns, ["ip", "link", "set", SECOND_BRIDGE, "up"])]
    for i, node in enumerate(spec.node_plans()):
        port = f"n1p{i}"
        cmds += [(spec.net_netns, ["ip", "link", "add", port, "type", "veth", "peer", "name", SECOND_UPLINK,
                                   "netns", node.netns]),
                 (spec.net_netns, ["ip", "link", "set", port, "master", SECOND_BRIDGE, "up"]),
                 (node.netns, ["ip", "link", "set", SECOND_UPLINK, "up"])]
    return cmds


class Multus:
    """The lab kubelet's step after the cluster network: extra interfaces, then the annotation."""

    def __init__(self, spec: LabSpec, store, report_event=None) -> None:
        self.spec, self.store = spec, store
        self.report_event = report_event
        self._wired = False
        self._lock = asyncio.Lock()

    async def _ensure_second_network(self) -> None:
        async with self._lock:
            if self._wired:
                return
            out = await arun(["ip", "-o", "link", "show", SECOND_BRIDGE], self.spec.net_netns, check=False)
            if SECOND_BRIDGE not in out:
                for netns, argv in second_network_commands(self.spec):
                    await arun(argv, netns)
            self._wired = True

    async def attach(self, pod: dict, record) -> None:
        """Add the pod's requested networks and write its network-status annotation."""
        from ..apiserver.resources import BY_KEY

        wanted = requested(pod)
        if not wanted:
            return
        nads = BY_KEY["k8s.cni.cncf.io/network-attachment-definitions"]
        await self._ensure_second_network()
        primary = record.cni_result or {}
        statuses = [status_entry(_primary_name(self.spec), "eth0", primary, default=True)]
        if not statuses[0]["ips"]:
            statuses[0]["ips"] = [record.ip]
        added: list[tuple[dict, str]] = []
        try:
            for ns, name, ifname in wanted:
                nad = self.store.get(nads, ns, name)
                if nad is None:
                    raise LookupError(f"cannot find a network-attachment-definition ({name}) in namespace ({ns})")
                conf = attachment_config(nad, self.spec.name)
                result = await self._invoke("ADD", conf, record, ifname)
                added.append((conf, ifname))
                statuses.append(status_entry(f"{ns}/{name}", ifname, result))
        except BaseException:
            for conf, ifname in reversed(added):       # delPlugins: DEL is idempotent, errors ignored
                try:
                    await self._invoke("DEL", conf, record, ifname)
                except Exception:  # noqa: BLE001
                    pass
            raise
        pods = BY_KEY["core/pods"]
        current = self.store.get(pods, pod["metadata"]["namespace"], pod["metadata"]["name"])
        if current is not None and current["metadata"].get("uid") == pod["metadata"].get("uid"):
            current = json.loads(json.dumps(current))
            current["metadata"].setdefault("annotations", {})[STATUS_ANNOTATION] = json.dumps(statuses, indent=4)
            self.store.put(pods, current)

    async def _invoke(self, command: str, conf: dict, record, ifname: str) -> dict:
        ns = record.namespace
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
               "CNI_CONTAINERID": record.container_id, "CNI_NETNS": f"/run/netns/{record.netns}",
               "CNI_IFNAME": ifname, "CNI_PATH": CNI_BIN_DIR,
               "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={ns};K8S_POD_NAME={record.name}"}
        proc = await asyncio.create_subprocess_exec(
            "nsenter", f"--net=/run/netns/{record.node}", str(Path(CNI_BIN_DIR) / conf["type"]),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=env)
        out, err = await proc.communicate(json.dumps(conf).encode())
        if proc.returncode != 0:
            raise RuntimeError(f"{conf['type']} {command}: {(out or err).decode(errors='replace').strip()}")
        return json.loads(out) if out.strip() else {}


def _primary_name(spec: LabSpec) -> str:
    return {"kindnet": "kindnet", "bridge": "bridge", "flannel": "cbr0",
            "calico": "k8s-pod-network"}.get(spec.cni, spec.cni)
