"""Helpers of the kube-proxy tests: fixture paths and the upstream tests' own normalisations (NOTES.md §2.8, §3.6)."""
from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kubeproxy"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def _service_name(rule: str) -> str:
    m = re.search(r'--comment (?:"([^"]*)"|(\S+))', rule)
    return (m.group(1) or m.group(2)).split(" ")[0] if m else ""


def sort_iptables_rules(text: str) -> str:
    """upstream ``sortIPTablesRules``: tables by name; KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-*
    chains alphabetically, then the rest; rules grouped per chain in written order, except that
    KUBE-NODEPORTS and KUBE-SERVICES are stable-sorted by service name (nat KUBE-SERVICES keeps
    its "must be the last rule" rule last)."""
    tables: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
    current = None
    for line in text.splitlines():
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], ([], {}))
        elif line.startswith(":"):
            name = line[1:].split()[0]
            current[0].append(line)
            current[1].setdefault(name, [])
        else:
            assert line.startswith("-A "), line
            current[1].setdefault(line.split()[1], []).append(line)

    def chain_key(line: str) -> tuple[int, str]:
        name = line[1:].split()[0]
        order = {"KUBE-NODEPORTS": 0, "KUBE-SERVICES": 1}
        return (order.get(name, 2 if name.startswith("KUBE-") else 3), name)

    out = []
    for tname in sorted(tables):
        decls, rules = tables[tname]
        decls = sorted(decls, key=chain_key)
        out += ["*" + tname, *decls]
        for decl in decls:
            name = decl[1:].split()[0]
            chain_rules = rules[name]
            if name in ("KUBE-NODEPORTS", "KUBE-SERVICES"):
                last = [r for r in chain_rules if "kubernetes service nodeports" in r] if tname == "nat" else []
                chain_rules = sorted([r for r in chain_rules if r not in last], key=_service_name) + last
            out += chain_rules
        out.append("COMMIT")
    return "\n".join(out) + "\n"


_NFT_ORDER = {"table": 0, "chain": 1, "set": 2, "map": 3, "element": 4, "rule": 5}


def sort_nftables_transaction(text: str) -> str:
    """upstream ``sortNFTablesTransaction``: drop blank and ``#`` lines, sort by object type then
    object name; rules keep their order inside a chain, other lines sort by their whole text."""
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]

    def key(line: str) -> tuple[int, str, str]:
        words = line.split(" ")
        if words[1] == "table":
            return (-1, "", "")
        return (_NFT_ORDER[words[1]], words[4], "" if words[1] == "rule" else line)

    return "\n".join(sorted(lines, key=key)) + "\n"


def restore_replay(inputs: list[str]) -> dict[str, dict[str, list[str]]]:
    """What ``iptables-restore --noflush`` leaves: a declared chain is flushed, -A appends, -X deletes."""
    tables: dict[str, dict[str, list[str]]] = {}
    for text in inputs:
        current = None
        for line in text.splitlines():
            if line.startswith("*"):
                current = tables.setdefault(line[1:], {})
            elif line.startswith(":"):
                current[line[1:].split()[0]] = []
            elif line.startswith("-A "):
                chain = line.split()[1]
                assert chain in current, f"rule for a chain that does not exist: {line}"
                current[chain].append(line)
            elif line.startswith("-X "):
                del current[line.split()[1]]
    return tables
