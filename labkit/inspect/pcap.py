"""Decode what tcpdump recorded (pcap bytes) into the addresses seen on each interface (pure).

tcpdump captures with ``-i any``, whose link type (``LINUX_SLL2``) says on which interface and in
which direction each packet was seen; scapy (a maintained dissector, which knows VXLAN on Linux's
port 8472) decodes the headers. For a VXLAN packet both the outer header (node to node, UDP 8472,
VNI) and the inner one (pod to pod) are kept: that is the overlay, seen on the wire.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

# SLL2 packet types (linux/if_packet.h): which way the packet crossed the interface.
DIRECTIONS = {0: "in", 1: "in", 2: "in", 3: "in", 4: "out"}


@dataclass(frozen=True)
class Seen:
    """One packet on one interface of one namespace."""

    time: float
    where: str                # the namespace's display name (a node, or a pod ns/name)
    ifname: str
    direction: str            # "in" or "out"
    src: str                  # ip:port as seen there (the inner header for VXLAN)
    dst: str
    protocol: str             # "TCP", "UDP"
    flags: str = ""           # TCP flags as tcpdump prints them: S, S., ., P., F.…
    outer_src: str = ""       # VXLAN: the node addresses of the outer header
    outer_dst: str = ""
    vni: int | None = None
    payload: bytes = b""
    ident: str = ""           # the same packet on every interface: IP id, TCP seq, flags (NAT keeps them)

    @property
    def sport(self) -> int:
        return int(self.src.rsplit(":", 1)[1])

    @property
    def dport(self) -> int:
        return int(self.dst.rsplit(":", 1)[1])


def _flags(tcp: Any) -> str:
    value = int(tcp.flags)
    text = "".join(c for bit, c in ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P")) if value & bit)
    return text + ("." if value & 0x10 else "") or "."


def _l4(ip: Any) -> tuple[str, str, str, str, bytes, str] | None:
    from scapy.layers.inet import TCP, UDP

    for layer, name in ((TCP, "TCP"), (UDP, "UDP")):
        if ip.haslayer(layer):
            seg = ip[layer]
            flags = _flags(seg) if name == "TCP" else ""
            ident = f"{ip.id}/{seg.seq}/{flags}" if name == "TCP" else f"{ip.id}/{len(seg.payload)}"
            return (f"{ip.src}:{seg.sport}", f"{ip.dst}:{seg.dport}", name, flags, bytes(seg.payload), ident)
    return None


def decode(data: bytes, where: str, ifnames: dict[int, str]) -> list[Seen]:
    """Every IPv4 TCP/UDP packet of a ``tcpdump -i any -w -`` recording (``ifnames``: index → name)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import CookedLinuxV2
    from scapy.layers.vxlan import VXLAN
    from scapy.utils import PcapReader

    out: list[Seen] = []
    if not data:
        return out
    try:
        reader = PcapReader(io.BytesIO(data))
    except Exception:   # noqa: BLE001  (scapy raises Scapy_Exception on a truncated or empty header)
        return out
    with reader:
        while True:
            try:
                pkt = reader.read_packet()
            except EOFError:
                break
            except Exception:   # noqa: BLE001  (a record cut short when tcpdump was stopped)
                break
            if pkt is None or not pkt.haslayer(IP):
                continue
            ifindex = pkt[CookedLinuxV2].ifindex if pkt.haslayer(CookedLinuxV2) else 0
            direction = DIRECTIONS.get(pkt[CookedLinuxV2].pkttype, "in") if pkt.haslayer(CookedLinuxV2) else "in"
            outer = pkt[IP]
            common: dict[str, Any] = dict(time=float(pkt.time), where=where,
                                          ifname=ifnames.get(ifindex, f"if{ifindex}"),
                                          direction=direction)
            if outer.haslayer(VXLAN) and outer[VXLAN].haslayer(IP):
                inner = outer[VXLAN][IP]
                l4 = _l4(inner)
                if l4:
                    udp = outer[UDP]
                    out.append(Seen(src=l4[0], dst=l4[1], protocol=l4[2], flags=l4[3], payload=l4[4], ident=l4[5],
                                    outer_src=f"{outer.src}:{udp.sport}", outer_dst=f"{outer.dst}:{udp.dport}",
                                    vni=int(outer[VXLAN].vni), **common))
                continue
            l4 = _l4(outer)
            if l4:
                out.append(Seen(src=l4[0], dst=l4[1], protocol=l4[2], flags=l4[3], payload=l4[4], ident=l4[5],
                                **common))
    return out


def link_names(ip_link_json: list[dict[str, Any]]) -> dict[int, str]:
    """``{ifindex: ifname}`` from ``ip -j link show``."""
    return {int(link["ifindex"]): link["ifname"] for link in ip_link_json if "ifindex" in link}
