"""``birdc show protocols`` (BIRD 2) read into BGP sessions: the calico flavor's mesh, a Calico node's BIRD.

Pure: takes the text birdc printed. A session line reads ``Name Proto Table State Since Info``, e.g.
``Mesh_172_18_0_3 BGP --- up 12:03:16.186 Established``; confd names mesh peers ``Mesh_<ip>``
(projectcalico/calico confd/pkg/backends/calico/bgp_processor.go), so the peer's address is in the name.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class BgpSession:
    """One line of ``birdc show protocols`` for a BGP protocol."""

    name: str          # Mesh_172_18_0_3
    peer: str          # 172.18.0.3 ("" when the name does not carry it)
    state: str         # up, start, down
    info: str          # Established, Active, Connect, ...

    @property
    def established(self) -> bool:
        return self.state == "up" and self.info.startswith("Established")

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "peer": self.peer, "state": self.state, "info": self.info}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> BgpSession:
        return cls(data["name"], data.get("peer", ""), data.get("state", ""), data.get("info", ""))


def parse_protocols(text: str) -> list[BgpSession]:
    """The BGP sessions in ``birdc show protocols``."""
    sessions = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[1] != "BGP":
            continue
        name, state = parts[0], parts[3]
        info = " ".join(parts[5:])        # Since is one word (12:03:16.186, or a date)
        peer = name[len("Mesh_"):].replace("_", ".") if name.startswith("Mesh_") else ""
        try:
            ipaddress.ip_address(peer)
        except ValueError:
            peer = ""
        sessions.append(BgpSession(name, peer, state, info))
    return sessions
