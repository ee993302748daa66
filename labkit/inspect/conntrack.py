"""Connection-tracking entries from ``conntrack -L`` (what NAT really did to a connection).

Each entry has the original tuple (as the client sent it) and the reply tuple (as the server
answers): after kube-proxy's DNAT, the reply's source is the endpoint that was chosen. This is
how a packet-path trace is checked against a real packet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PAIR = re.compile(r"(\w+)=(\S+)")


@dataclass(frozen=True)
class ConntrackEntry:
    protocol: str
    state: str | None
    original: dict[str, str]      # src, dst, sport, dport as sent
    reply: dict[str, str]         # src, dst, sport, dport of the answers

    @property
    def dnat_target(self) -> tuple[str, int] | None:
        """Where the connection really went, when the destination was rewritten."""
        if self.reply.get("src") != self.original.get("dst") or self.reply.get("sport") != self.original.get("dport"):
            return self.reply["src"], int(self.reply["sport"])
        return None


def parse_conntrack(text: str) -> list[ConntrackEntry]:
    entries = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 4 or words[0] not in ("tcp", "udp", "sctp", "icmp") and words[0] != "ipv4":
            continue
        if words[0] == "ipv4":          # `conntrack -L -o extended` prefixes "ipv4 2"
            words = words[2:]
        protocol = words[0]
        state = next((w for w in words[3:5] if w.isupper() and "=" not in w), None)
        pairs = _PAIR.findall(" ".join(words))
        original: dict[str, str] = {}
        reply: dict[str, str] = {}
        for key, value in pairs:
            target = original if key not in original else reply
            if key in ("src", "dst", "sport", "dport"):
                target[key] = value
        entries.append(ConntrackEntry(protocol, state, original, reply))
    return entries
