"""kube-proxy's nftables table as read from a node, and the service map it implies.

Three inputs reduce to the same :class:`NftTable` (rules as nft text, set and map elements):
``nft list ruleset`` text and ``nft -f`` transactions (:mod:`.nft_text`), and ``nft -j list
ruleset`` JSON (:mod:`.nft_json`). :func:`nft_service_map` then reads the service map off it:
``service-ips`` / ``service-nodeports`` elements are the entry points, the ``numgen ... vmap``
(upstream) or ``numgen`` cascade (the lab) in each ``service-``/``local-`` chain spreads new
connections evenly, and each ``endpoint-``
chain DNATs to one backend.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .servicemap import Frontend, Hop, ServiceEntry, ServiceMap, resolve, split_path

_NUMGEN = re.compile(r"numgen random mod (\d+) vmap \{(.*)\}")
_CASCADE = re.compile(r"^numgen random mod (\d+) (?:== )?0 (goto|jump) (\S+)$")  # the lab's form
_DNAT = re.compile(r"dnat(?: ip)? to (\[[^\]]+\]|[0-9.]+):(\d+)")
_VERDICT = re.compile(r"^(?:(?P<cond>.*?)\s+)?(?P<kind>goto|jump)\s+(?P<target>\S+)(?:\s+comment\s+\"[^\"]*\")?$")
_SIDE_EFFECT = {"mark-for-masquerade"}
_SERVICE_PREFIXES = ("service-", "local-", "external-", "firewall-")


@dataclass
class MapElement:
    key: tuple[str, ...]
    value: str | None = None  # the verdict, for a map
    comment: str | None = None


@dataclass
class NftTable:
    family: str
    name: str
    sets: dict[str, list[MapElement]] = field(default_factory=dict)  # sets and maps alike
    chains: dict[str, list[str]] = field(default_factory=dict)


def parse_element(text: str) -> MapElement:
    """``172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain`` and the like."""
    text = text.strip()
    value = None
    if " : " in text:
        text, _, value = text.rpartition(" : ")
        value = value.strip()
    comment = None
    m = re.search(r'\s+comment\s+"([^"]*)"', text)
    if m:
        comment = m.group(1)
        text = text[: m.start()] + text[m.end():]
    text = re.split(r"\s+(?:timeout|expires)\s+", text)[0]
    return MapElement(tuple(p.strip() for p in text.split(" . ")), value, comment)


def _hop(rule: str) -> Hop:
    m = _NUMGEN.search(rule)
    if m:
        slots = [s.strip() for s in m.group(2).split(",") if s.strip()]
        n = int(m.group(1))
        targets = []
        for slot in slots:
            verdict = slot.partition(":")[2].split()
            if len(verdict) == 2 and verdict[0] in ("goto", "jump"):
                targets.append((verdict[1], 1.0 / n))
        return Hop(targets=tuple(targets), terminal=True)
    m = _CASCADE.match(rule.strip())
    if m:  # taken by 1/K of what reaches it, the rest falls through to the next rule
        return Hop(targets=((m.group(3), 1.0 / int(m.group(1))),), terminal=int(m.group(1)) == 1)
    m = _DNAT.search(rule)
    if m:
        return Hop(dnat=(m.group(1).strip("[]"), int(m.group(2))))
    m = _VERDICT.match(rule.strip())
    if not m:
        return Hop()
    target = m.group("target")
    if target in _SIDE_EFFECT:
        return Hop(side_effect=True)
    return Hop(targets=((target, 1.0),), conditional=bool(m.group("cond")), terminal=m.group("kind") == "goto")


def _spn(chain: str) -> tuple[str, str] | None:
    """``service-ULMVA6XW-ns1/svc1/tcp/p80`` → (``ns1/svc1:p80``, ``tcp``)."""
    for prefix in _SERVICE_PREFIXES:
        if chain.startswith(prefix):
            parts = chain[len(prefix):].partition("-")[2].split("/")
            if len(parts) == 4:
                ns, name, proto, port_name = parts
                return (f"{ns}/{name}:{port_name}" if port_name else f"{ns}/{name}"), proto
    return None


def _goto_target(value: str | None) -> str | None:
    parts = (value or "").split()
    return parts[1] if len(parts) == 2 and parts[0] in ("goto", "jump") else None


class _Builder:
    def __init__(self, table: NftTable) -> None:
        self.table = table
        self.graph = {name: [_hop(r) for r in rules] for name, rules in table.chains.items()}
        self.cluster_ips = {e.key[0] for e in table.sets.get("cluster-ips", [])}
        self.firewalled = {e.key for e in table.sets.get("firewall-ips", [])}
        self.entries: dict[tuple[str, str], ServiceEntry] = {}

    def entry(self, spn: str, proto: str) -> ServiceEntry:
        return self.entries.setdefault((spn, proto), ServiceEntry(service=spn, protocol=proto))

    def frontend(self, entry: ServiceEntry, kind: str, ip: str | None, port: int, target: str) -> Frontend:
        dispatch = "services"
        chains, endpoints = split_path([dispatch], resolve(self.graph, target))
        fe = Frontend(kind, ip, port, chains if endpoints else [dispatch, target], endpoints)
        entry.frontends.append(fe)
        return fe

    def services(self) -> None:
        for el in self.table.sets.get("service-ips", []):
            target = _goto_target(el.value)
            named = _spn(target or "")
            if not named or len(el.key) != 3 or not el.key[2].isdigit():
                continue
            entry = self.entry(*named)
            ip, port = el.key[0], int(el.key[2])
            if ip in self.cluster_ips or not (target or "").startswith("external-"):
                fe = self.frontend(entry, "cluster_ip", ip, port, target or "")
                entry.cluster_ip, entry.port, entry.chains, entry.endpoints = ip, port, fe.chains, fe.endpoints
            else:
                kind = "load_balancer" if el.key in self.firewalled else "external_ip"
                self.frontend(entry, kind, ip, port, target or "")
        for el in self.table.sets.get("service-nodeports", []):
            target = _goto_target(el.value)
            named = _spn(target or "")
            if named and len(el.key) == 2 and el.key[1].isdigit():
                entry = self.entry(*named)
                entry.node_port = int(el.key[1])
                self.frontend(entry, "node_port", None, entry.node_port, target or "")

    def rejected(self) -> None:
        """Services without endpoints appear only in the no-endpoint maps, named by the comment."""
        for el in self.table.sets.get("no-endpoint-services", []):
            if el.comment and len(el.key) == 3 and el.key[0] in self.cluster_ips and el.key[2].isdigit():
                entry = self.entry(el.comment, el.key[1])
                if entry.cluster_ip is None:
                    entry.cluster_ip, entry.port, entry.chains = el.key[0], int(el.key[2]), ["services"]
                    entry.frontends.append(Frontend("cluster_ip", el.key[0], int(el.key[2]), ["services"]))
        for el in self.table.sets.get("no-endpoint-nodeports", []):
            if el.comment and len(el.key) == 2 and el.key[1].isdigit():
                entry = self.entry(el.comment, el.key[0])
                if entry.node_port is None:
                    entry.node_port = int(el.key[1])


def nft_service_map(tables: list[NftTable]) -> ServiceMap:
    """The service map of the ``kube-proxy`` tables among ``tables`` (other tables are ignored)."""
    entries: dict[tuple[str, str], ServiceEntry] = {}
    for table in tables:
        if table.name != "kube-proxy":
            continue
        builder = _Builder(table)
        builder.services()
        builder.rejected()
        entries.update(builder.entries)
    return ServiceMap("nftables", sorted(entries.values(), key=lambda e: (e.service, e.protocol)))
