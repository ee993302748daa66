"""The socket load balancer's maps (``sock_lb.c``), as bytes: what to write, what a dump means.

Pure: from kube-proxy's view of Services and endpoints (``ProxyInput``) to the entries of
``lb4_services`` / ``lb4_backends`` / ``lb4_reverse_nat``, the difference between two such
tables as ``bpftool batch`` lines, and back from a ``bpftool -j map dump`` to readable services.
The layout mirrors Cilium's (cilium/cilium bpf/lib/common.h ``lb4_key``, ``lb4_service``,
``lb4_backend``): slot 0 of a service holds the backend count, slots 1..count a backend id each.
Addresses and ports are in network byte order (as ``bpf_sock_addr`` has them); slots, counts and
ids in the machine's order.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass, field

from ..kubeproxy.model import ProxyInput, categorize_endpoints

PROTOCOLS = {"TCP": socket.IPPROTO_TCP, "UDP": socket.IPPROTO_UDP}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}
SERVICES, BACKENDS, REVERSE_NAT, REVERSE_SK, NETNS = (
    "lb4_services", "lb4_backends", "lb4_reverse_nat", "lb4_reverse_sk", "lab_netns")
WRITTEN_MAPS = (SERVICES, BACKENDS, REVERSE_NAT, NETNS)   # lb4_reverse_sk is the kernel's own


@dataclass(frozen=True, order=True)
class Frontend:
    address: str
    port: int
    protocol: str  # TCP or UDP

    def __str__(self) -> str:
        return f"{self.address}:{self.port}/{self.protocol}"


@dataclass(frozen=True, order=True)
class Backend:
    address: str
    port: int
    protocol: str

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


def service_table(inp: ProxyInput) -> dict[Frontend, list[Backend]]:
    """ClusterIP:port -> the backends a connection from this node may get (sorted).

    Ready endpoints, or the serving terminating ones when none is ready, as kube-proxy picks
    them (``categorize_endpoints``); with ``internalTrafficPolicy: Local`` only this node's.
    Headless Services and protocols other than TCP/UDP have no entry.
    """
    table: dict[Frontend, list[Backend]] = {}
    for svc in inp.sorted_services():
        if svc.protocol not in PROTOCOLS or not _ipv4(svc.cluster_ip):
            continue
        cat = categorize_endpoints(inp.endpoints_for(svc), svc)
        chosen = cat.local if svc.internal_policy_local else cat.cluster
        table[Frontend(svc.cluster_ip, svc.port, svc.protocol)] = sorted(
            {Backend(ep.ip, ep.port, svc.protocol) for ep in chosen if _ipv4(ep.ip)})
    return table


def _ipv4(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").version == 4
    except ValueError:
        return False


@dataclass
class Ids:
    """Stable ids for backends (u32) and services (u16 ``rev_nat_index``), reused once freed."""

    backends: dict[Backend, int] = field(default_factory=dict)
    services: dict[Frontend, int] = field(default_factory=dict)

    def assign(self, table: dict[Frontend, list[Backend]]) -> None:
        _assign(self.services, set(table), 0xFFFF)
        _assign(self.backends, {b for bs in table.values() for b in bs}, 0xFFFFFFFF)


def _assign(ids: dict, wanted: set, limit: int) -> None:
    for gone in [k for k in ids if k not in wanted]:
        del ids[gone]
    used = set(ids.values())
    free = (i for i in range(1, limit + 1) if i not in used)
    for key in sorted(wanted - set(ids)):
        ids[key] = next(free)


def _addr(address: str) -> bytes:
    return socket.inet_aton(address)


def service_key(front: Frontend, slot: int) -> bytes:
    return _addr(front.address) + struct.pack("!H", front.port) + struct.pack(
        "=HB3x", slot, PROTOCOLS[front.protocol])


def service_value(backend_id: int, count: int, rev_nat: int) -> bytes:
    return struct.pack("=IHH", backend_id, count, rev_nat)


def backend_value(backend: Backend) -> bytes:
    return _addr(backend.address) + struct.pack("!H", backend.port) + struct.pack(
        "=BB", PROTOCOLS[backend.protocol], 0)


def netns_key(cookie: int) -> bytes:
    return struct.pack("=Q", cookie)


def entries(table: dict[Frontend, list[Backend]], ids: Ids,
            cookies: set[int] | frozenset[int] = frozenset()) -> dict[str, dict[bytes, bytes]]:
    """Every entry the maps should hold, by map name (``ids`` must cover ``table``)."""
    out: dict[str, dict[bytes, bytes]] = {m: {} for m in WRITTEN_MAPS}
    for front, backends in table.items():
        rev = ids.services[front]
        out[SERVICES][service_key(front, 0)] = service_value(0, len(backends), rev)
        for slot, backend in enumerate(backends, start=1):
            bid = ids.backends[backend]
            out[SERVICES][service_key(front, slot)] = service_value(bid, 0, rev)
            out[BACKENDS][struct.pack("=I", bid)] = backend_value(backend)
        out[REVERSE_NAT][struct.pack("=H", rev)] = _addr(front.address) + struct.pack(
            "!H", front.port) + b"\0\0"
    for cookie in cookies:
        out[NETNS][netns_key(cookie)] = struct.pack("=I", 1)
    return out


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


def batch_lines(pins: dict[str, str], old: dict[str, dict[bytes, bytes]],
                new: dict[str, dict[bytes, bytes]]) -> list[str]:
    """``bpftool batch`` lines that turn ``old`` into ``new`` (pinned paths by map name).

    Order keeps every reader's view usable: backends and reverse entries first, then the backend
    slots, then the master slots (whose count makes new slots reachable); deletions run the other
    way round (masters first, so no lookup reaches a slot or backend about to go).
    """
    def updates(name: str, masters: bool | None = None) -> list[str]:
        o, n = old.get(name, {}), new.get(name, {})
        return [f"map update pinned {pins[name]} key hex {_hex(k)} value hex {_hex(v)}"
                for k, v in sorted(n.items()) if o.get(k) != v and _slot_filter(name, k, masters)]

    def deletes(name: str, masters: bool | None = None) -> list[str]:
        o, n = old.get(name, {}), new.get(name, {})
        return [f"map delete pinned {pins[name]} key hex {_hex(k)}"
                for k in sorted(o) if k not in n and _slot_filter(name, k, masters)]

    return (updates(NETNS) + updates(BACKENDS) + updates(REVERSE_NAT) + updates(SERVICES, False)
            + updates(SERVICES, True) + deletes(SERVICES, True) + deletes(SERVICES, False)
            + deletes(BACKENDS) + deletes(REVERSE_NAT) + deletes(NETNS))


def _slot_filter(name: str, key: bytes, masters: bool | None) -> bool:
    if masters is None or name != SERVICES:
        return True
    return (struct.unpack_from("=H", key, 6)[0] == 0) == masters


# --- reading a dump back -----------------------------------------------------------------------
def raw_dump(entries_json: list[dict]) -> dict[bytes, bytes]:
    """``bpftool -j map dump`` output (keys and values as lists of "0x.." bytes) as bytes."""
    out = {}
    for entry in entries_json:
        key, value = entry.get("key"), entry.get("value")
        if isinstance(key, list) and isinstance(value, list):
            out[bytes(int(b, 16) for b in key)] = bytes(int(b, 16) for b in value)
    return out


def _front(key: bytes) -> tuple[Frontend, int]:
    address = socket.inet_ntoa(key[:4])
    (port,) = struct.unpack_from("!H", key, 4)
    slot, proto = struct.unpack_from("=HB", key, 6)
    return Frontend(address, port, PROTOCOL_NAMES.get(proto, str(proto))), slot


def read_table(services: dict[bytes, bytes], backends: dict[bytes, bytes]) -> dict[Frontend, list[Backend]]:
    """What the maps say: ClusterIP:port -> backends in slot order (the inverse of ``entries``)."""
    by_id = {}
    for key, value in backends.items():
        (bid,) = struct.unpack("=I", key)
        (port,) = struct.unpack_from("!H", value, 4)
        by_id[bid] = (socket.inet_ntoa(value[:4]), port)
    counts, slots = {}, {}
    for key, value in services.items():
        front, slot = _front(key)
        backend_id, count, _rev = struct.unpack("=IHH", value)
        if slot == 0:
            counts[front] = count
        else:
            slots[(front, slot)] = backend_id
    table = {}
    for front in sorted(counts):
        found = []
        for slot in range(1, counts[front] + 1):
            address, port = by_id.get(slots.get((front, slot), 0), ("?", 0))
            found.append(Backend(address, port, front.protocol))
        table[front] = found
    return table


# --- where a node's maps are pinned, and the service map the diagrams and the trace read ----------
PIN_ROOT = "/sys/fs/bpf/labkit"


def lab_of(node: str) -> str:
    """The lab a node belongs to: lab names have no dash, nodes are ``<lab>-<role>``."""
    return node.split("-", 1)[0]


def pinned_map(node: str, name: str) -> str:
    return f"{PIN_ROOT}/{lab_of(node)}/{node}/maps/{name}"


def dump_argv(node: str, name: str) -> list[str]:
    """The read-only command that prints one of a node's maps (as root on the node, or its seam)."""
    return ["bpftool", "-j", "map", "dump", "pinned", pinned_map(node, name)]


def is_dump_argv(argv: list[str]) -> bool:
    """``argv`` is exactly a dump of one of the lab's socket-LB maps (what the seam serves)."""
    import re

    return (len(argv) == 6 and argv[:5] == ["bpftool", "-j", "map", "dump", "pinned"]
            and re.fullmatch(rf"{PIN_ROOT}/[a-z0-9]{{1,10}}/[a-z0-9-]{{1,60}}/maps/"
                             rf"({SERVICES}|{BACKENDS}|{REVERSE_NAT}|{NETNS})", argv[5]) is not None)


def service_map(services_json: str, backends_json: str, objects: list[dict] | None = None):
    """A kube-proxy-style ``ServiceMap`` (mode ``ebpf``) from the two dumps, for diagrams and trace.

    There are no chains: the "path" of a connection is the hook and the two map lookups, named
    so (``cgroup/connect4``, ``lb4_services``, ``lb4_backends``); each backend slot gets an equal
    share of new connections (the program picks a slot at random).
    """
    import json

    from ..inspect.servicemap import EndpointEntry, ServiceEntry, ServiceMap
    from ..inspect.servicemap import Frontend as SvcFrontend

    table = read_table(raw_dump(json.loads(services_json or "[]")), raw_dump(json.loads(backends_json or "[]")))
    names: dict[tuple[str, str, int], str] = {}
    for svc in objects or []:
        meta, spec = svc.get("metadata", {}), svc.get("spec", {})
        for port in spec.get("ports", []):
            label = f"{meta.get('namespace', 'default')}/{meta.get('name')}" + (
                f":{port['name']}" if port.get("name") else "")
            names[(port.get("protocol", "TCP"), spec.get("clusterIP"), int(port["port"]))] = label
    entries = []
    for front, backends in table.items():
        path = ["cgroup/connect4" if front.protocol == "TCP" else "cgroup/sendmsg4", f"{SERVICES} {front}"]
        eps = [EndpointEntry(b.address, b.port, 1 / len(backends), [f"{BACKENDS} slot {i}"])
               for i, b in enumerate(backends, start=1)]
        entries.append(ServiceEntry(names.get((front.protocol, front.address, front.port), str(front)),
                                    front.protocol.lower(), front.address, front.port, None, path, eps,
                                    [SvcFrontend("cluster_ip", front.address, front.port, path, list(eps))]))
    return ServiceMap("ebpf", sorted(entries, key=lambda e: (e.service, e.protocol)))
