"""Capture one connection's packets on every interface it crosses, and show them as a sequence.

``labkit.capture(cluster, "demo/client", "demo/blue:80")`` starts ``tcpdump -i any`` in the
source pod, in every node and in each pod that may answer (the predicted candidates), sends one
connection from a source port chosen here, and decodes what each tcpdump recorded
(:mod:`labkit.inspect.pcap`). Rows are the packets of that connection, in time order (one kernel,
one clock), with the interface and the addresses seen there: "no NAT between pods" (the same
source IP everywhere), the DNAT point of a ClusterIP (and the un-DNAT of the reply), VXLAN's
outer and inner headers are facts to read.

Nothing is left behind: tcpdump writes to a pipe (no file), each one is stopped in a ``finally``
(and dies with labkit if labkit is killed: ``PR_SET_PDEATHSIG``). A recording is known complete
when a marker datagram sent after the connection (to the namespace's own loopback) shows up in it:
no sleep decides. Each tcpdump also stops by itself after :data:`MAX_PACKETS` packets.

The recording (:func:`record_raw`) runs as root: directly for root, in the lab daemon for anyone
else (``labkit.embedded.flows``), which hands the pcaps back over the API; decoding and drawing
(:mod:`labkit.capture_draw`) happen on the client.
"""
from __future__ import annotations

import base64
import html
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .errors import BadInput, LabkitError
from .inspect.pcap import Seen, decode, link_names
from .kernel_trace import parse_answer
from .nodes import LabNetns

MESSAGES = {
    "capture.head": {
        "en": "{src} → {dst}: packets of one {protocol} connection (source port {sport}), as tcpdump saw "
              "them on each interface",
        "fr": "{src} → {dst} : paquets d'une connexion {protocol} (port source {sport}) vus par tcpdump "
              "sur chaque interface"},
    "capture.columns": {"en": "#|ms|where|interface|dir|source → destination|flags|note",
                        "fr": "n°|ms|où|interface|sens|source → destination|drapeaux|note"},
    "capture.dir.in": {"en": "in", "fr": "entrée"},
    "capture.dir.out": {"en": "out", "fr": "sortie"},
    "capture.cli.json": {"en": "print JSON: every packet with its interface, addresses and notes",
                         "fr": "afficher du JSON : chaque paquet avec son interface, ses adresses et ses notes"},
    "capture.note.dnat": {"en": "DNAT: destination rewritten", "fr": "DNAT : destination réécrite"},
    "capture.note.undnat": {"en": "reply: source rewritten back (un-DNAT)",
                            "fr": "réponse : source remise (dé-DNAT)"},
    "capture.note.snat": {"en": "SNAT: source rewritten", "fr": "SNAT : source réécrite"},
    "capture.note.vxlan": {"en": "VXLAN VNI {vni}, outer {outer_src} → {outer_dst}",
                           "fr": "VXLAN VNI {vni}, externe {outer_src} → {outer_dst}"},
    "capture.answer": {"en": "answered by {pod} ({ip}), which saw the client as {client}",
                       "fr": "réponse de {pod} ({ip}), qui a vu le client comme {client}"},
    "capture.no_answer": {"en": "no answer ({error})", "fr": "pas de réponse ({error})"},
    "capture.more": {"en": "({count} more packets: show them with all_packets=True / --all)",
                     "fr": "({count} paquets de plus : affichez-les avec all_packets=True / --all)"},
    "capture.no_tcpdump": {"en": "tcpdump is not installed (Debian: apt-get install tcpdump)",
                           "fr": "tcpdump n'est pas installé (Debian : apt-get install tcpdump)"},
    "capture.not_listening": {"en": "tcpdump did not start in {where}: {error}",
                              "fr": "tcpdump n'a pas démarré dans {where} : {error}"},
    "capture.cli.help": {"en": "record one connection's packets on every interface it crosses",
                         "fr": "enregistrer les paquets d'une connexion sur chaque interface traversée"},
    "capture.cli.all": {"en": "show every packet, not only the first of each direction",
                        "fr": "montrer tous les paquets, pas seulement le premier de chaque sens"},
}

READY_SECONDS = 10.0
VXLAN_PORT = 8472
MAX_PACKETS = 1000        # one tcpdump stops by itself after this many packets


@dataclass
class Row:
    seen: Seen
    forward: bool             # client → server (else the reply)
    notes: list[tuple[str, dict]] = field(default_factory=list)

    def note_text(self, lang: str | None = None) -> str:
        return "; ".join(i18n.t(f"capture.note.{k}", lang, **p) for k, p in self.notes)


def sequence(seen: list[Seen], sport: int) -> list[Row]:
    """The connection's packets in time order, each marked where NAT changed its addresses since the
    same packet was last seen (pure)."""
    rows: list[Row] = []
    last: dict[tuple[bool, str], Seen] = {}
    for s in sorted(seen, key=lambda s: s.time):
        forward = s.sport == sport
        row = Row(s, forward)
        prev = last.get((forward, s.ident))
        if prev is not None:
            if forward and s.dst != prev.dst:
                row.notes.append(("dnat", {}))
            if forward and s.src != prev.src:
                row.notes.append(("snat", {}))
            if not forward and s.src != prev.src:
                row.notes.append(("undnat", {}))
        if s.vni is not None:
            row.notes.append(("vxlan", {"vni": s.vni, "outer_src": s.outer_src, "outer_dst": s.outer_dst}))
        last[(forward, s.ident)] = s
        rows.append(row)
    return rows


def _first_packets(rows: list[Row]) -> list[Row]:
    """The first packet of each direction: the SYN and the SYN-ACK (or the UDP request and answer)."""
    if not rows:
        return rows
    keys: dict[bool, tuple[str, bytes]] = {}
    for r in rows:
        keys.setdefault(r.forward, (r.seen.flags, r.seen.payload))
    return [r for r in rows if (r.seen.flags, r.seen.payload) == keys[r.forward]]


@dataclass
class Capture:
    source: str
    destination: str
    protocol: str
    sport: int
    rows: list[Row]
    answer: dict[str, Any] | None = None
    error: str = ""
    snapshot: Any = field(default=None, repr=False)
    predicted: Any = field(default=None, repr=False)   # the labkit.trace.Trace of this connection

    def draw(self, lang: str | None = None):
        """The pod-network diagram with the captured packets drawn along their path
        (:mod:`labkit.capture_draw`)."""
        from .capture_draw import draw

        return draw(self, lang)

    def shown(self, all_packets: bool = False) -> list[Row]:
        return self.rows if all_packets else _first_packets(self.rows)

    def to_text(self, lang: str | None = None, all_packets: bool = False) -> str:
        rows = self.shown(all_packets)
        t0 = self.rows[0].seen.time if self.rows else 0.0
        table = [i18n.t("capture.columns", lang).split("|")]
        for n, r in enumerate(rows, start=1):
            s = r.seen
            table.append([str(n), i18n.number((s.time - t0) * 1000, ".3f", lang), s.where, s.ifname,
                          i18n.t(f"capture.dir.{s.direction}", lang),
                          f"{s.src} → {s.dst}", s.flags, r.note_text(lang)])
        widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
        lines = [i18n.t("capture.head", lang, src=self.source, dst=self.destination, protocol=self.protocol,
                        sport=self.sport)]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        if len(rows) < len(self.rows):
            lines.append("  " + i18n.t("capture.more", lang, count=len(self.rows) - len(rows)))
        lines.append("  " + self._answer(lang))
        return "\n".join(lines) + "\n"

    def _answer(self, lang: str | None) -> str:
        a = self.answer
        if not a:
            return i18n.t("capture.no_answer", lang, error=self.error or "-")
        return i18n.t("capture.answer", lang, pod=f"{a.get('namespace')}/{a.get('pod')}", ip=a.get("pod_ip"),
                      client=f"{a.get('client_ip')}:{a.get('client_port')}")

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = self.shown()
        t0 = self.rows[0].seen.time if self.rows else 0.0
        head = "".join(f"<th style='text-align:left;padding:2px 6px'>{esc(c)}</th>"
                       for c in i18n.t("capture.columns").split("|"))
        body = []
        for n, r in enumerate(rows, start=1):
            s = r.seen
            colour = "#fff3cd" if r.notes and any(k != "vxlan" for k, _ in r.notes) else (
                "#dce8fa" if r.forward else "#ddf2e1")
            cells = [str(n), i18n.number((s.time - t0) * 1000, ".3f"), s.where, s.ifname,
                     i18n.t(f"capture.dir.{s.direction}"), f"{s.src} → {s.dst}", s.flags,
                     r.note_text()]
            body.append(f"<tr style='background:{colour}'>" + "".join(
                f"<td style='padding:2px 6px;font-family:monospace'>{esc(c)}</td>" for c in cells) + "</tr>")
        title = esc(i18n.t("capture.head", None, src=self.source, dst=self.destination, protocol=self.protocol,
                           sport=self.sport))
        return (f"<div><b>{title}</b><table style='border-collapse:collapse'><tr>{head}</tr>{''.join(body)}"
                f"</table><div>{esc(self._answer(None))}</div></div>")

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "destination": self.destination, "sport": self.sport, "answer": self.answer,
                "packets": [{"time": r.seen.time, "where": r.seen.where, "interface": r.seen.ifname,
                             "direction": r.seen.direction, "src": r.seen.src, "dst": r.seen.dst,
                             "flags": r.seen.flags, "outer_src": r.seen.outer_src or None,
                             "outer_dst": r.seen.outer_dst or None, "vni": r.seen.vni,
                             "notes": [k for k, _ in r.notes]} for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


# --- I/O: tcpdump in each namespace ------------------------------------------------------------------
class Recorder:
    """``tcpdump -i any -w -`` in one namespace (a :class:`labkit.nodes.Stream`), its output kept in
    memory (never a file)."""

    def __init__(self, where: str, netns: str, bpf: str) -> None:
        self.where = where
        self.ns = LabNetns(where, netns)
        links = self.ns.call(["ip", "-j", "link", "show"])
        self.ifnames = link_names(json.loads(links.stdout or "[]"))
        try:
            self.stream = self.ns.spawn(["tcpdump", "-Z", "root", "-i", "any", "-nn", "-U", "--immediate-mode",
                                         "-s", "512", "-c", str(MAX_PACKETS), "-w", "-", bpf])
        except FileNotFoundError as exc:
            raise LabkitError("capture.no_tcpdump") from exc

    def wait_listening(self) -> None:
        err = self.stream.err
        if not self.stream.wait_until(lambda: any("listening on" in ln for ln in err), READY_SECONDS):
            raise LabkitError("capture.not_listening", where=self.where, error="; ".join(err) or "-")

    def flush(self, marker: bytes, port: int) -> bool:
        """Send ``marker`` to the namespace's loopback (port ``port``, so the filter keeps it) until
        the recording holds it: every packet captured before it is then in the recording."""
        send = ["bash", "-c", f"printf %s {marker.decode()} > /dev/udp/127.0.0.1/{port}"]
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            self.ns.call(send, timeout=10)
            if self.stream.wait_until(lambda: marker in self.stream.out, 0.5):
                return True
        return False

    def stop(self) -> bytes:
        return self.stream.stop()


def bpf_filter(sport: int) -> str:
    """The connection (either direction, by its client port) and VXLAN, whose inner ports BPF cannot see."""
    return f"port {sport} or udp port {VXLAN_PORT}"


@dataclass
class Recording:
    """What the recorders hold once the connection is over: one pcap per namespace, never a file."""

    sport: int
    marker: bytes
    answer: dict | None
    error: str
    pcaps: list[tuple[str, dict[int, str], bytes]]      # (where, ifindex -> name, pcap bytes)

    def seen(self) -> list[Seen]:
        """The connection's packets, decoded (the marker and loopback left out)."""
        out: list[Seen] = []
        for where, ifnames, blob in self.pcaps:
            out += [s for s in decode(blob, where, ifnames) if self.marker not in s.payload and s.ifname != "lo"
                    and self.sport in (s.sport, s.dport)]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"sport": self.sport, "marker": self.marker.decode(), "answer": self.answer, "error": self.error,
                "pcaps": [{"where": w, "interfaces": {str(k): v for k, v in names.items()},
                           "pcap": base64.b64encode(blob).decode()} for w, names, blob in self.pcaps]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recording:
        return cls(int(data["sport"]), str(data["marker"]).encode(), data.get("answer"), data.get("error") or "",
                   [(p["where"], {int(k): v for k, v in (p.get("interfaces") or {}).items()},
                     base64.b64decode(p["pcap"])) for p in data.get("pcaps") or []])


def record_raw(spaces: list[tuple[str, str]], client_netns: str, ip: str, port: int, protocol: str = "tcp",
               timeout: float = 3.0) -> Recording:
    """Capture in every ``(name, netns)`` while the pod in ``client_netns`` opens one connection."""
    sport = random.randint(33000, 60999)
    marker = f"labkit-capture-end-{secrets.token_hex(4)}".encode()
    recorders: list[Recorder] = []
    answer, error = None, ""
    try:
        for where, netns in spaces:
            recorders.append(Recorder(where, netns, bpf_filter(sport)))
        for r in recorders:
            r.wait_listening()
        wait = str(max(1, round(timeout)))
        argv = ["nc", "-u", "-W", "1", "-p", str(sport), "-w", wait, ip, str(port)] if protocol.lower() == "udp" else \
            ["nc", "-N", "-p", str(sport), "-w", wait, ip, str(port)]
        proc = LabNetns("client", client_netns, pod=True).call(argv, input="labkit capture\n",
                                                                timeout=timeout + 10)
        answer, error = parse_answer(proc.stdout), proc.stderr.strip()
        for r in recorders:
            r.flush(marker, sport)
    finally:
        data = [(r, r.stop()) for r in recorders]
    return Recording(sport, marker, answer, error, [(r.where, r.ifnames, blob) for r, blob in data])


def record(spaces: list[tuple[str, str]], client_netns: str, ip: str, port: int, protocol: str = "tcp",
           timeout: float = 3.0) -> tuple[list[Seen], int, dict | None, str]:
    """:func:`record_raw`, decoded: (packets, client port, answer, client error)."""
    rec = record_raw(spaces, client_netns, ip, port, protocol, timeout)
    return rec.seen(), rec.sport, rec.answer, rec.error


def capture(cluster: Any, source: str, destination: str, port: int = 80, protocol: str = "tcp",
            timeout: float = 3.0) -> Capture:
    """Record one connection from pod ``source`` to ``destination`` (as ``labkit.trace`` accepts it),
    in the source pod, every node and each pod that may answer. Root enters the lab's namespaces;
    anyone else asks the lab's daemon through its API (``labkit.nodes.flow_access``)."""
    from .flowreq import FlowRequest
    from .kernel_trace import source_node
    from .nodes import flow_access
    from .snapshot import ClusterSnapshot
    from .trace import _as_snapshot, _lab_name, trace

    if protocol.lower() not in ("tcp", "udp"):
        raise BadInput("probe.bad_protocol", protocol=protocol)
    snap = _as_snapshot(cluster)
    predicted = trace(snap, source, destination, port, protocol)
    key = predicted.source if "/" in predicted.source else f"default/{predicted.source}"
    also = tuple(dict.fromkeys(c.pod for c in predicted.candidates if c.pod and c.pod != key))
    req = FlowRequest("capture", key, predicted.ip, predicted.port, protocol.lower(), timeout, also)
    access = flow_access(_lab_name(cluster) if isinstance(cluster, ClusterSnapshot) else cluster)
    rec = Recording.from_dict(access.observe(source_node(predicted), req))
    return Capture(predicted.source, destination, protocol.upper(), rec.sport, sequence(rec.seen(), rec.sport),
                   rec.answer, rec.error, snap, predicted)

