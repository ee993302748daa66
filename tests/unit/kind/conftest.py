"""Helpers for the kind-path tests: the reconstructed CNI fixture sets as snapshot inputs."""
from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cni"
SETS = sorted(d.name for d in FIXTURES.iterdir() if d.is_dir())
FILES = {"addr": "ip-addr.json", "route": "ip-route.json", "iptables": "iptables-save.txt",
         "nft": "nft-ruleset.json", "ipvsadm": "ipvsadm.txt"}


def load_set(name: str) -> tuple[dict, dict[str, dict[str, str | None]]]:
    """(cluster.json, {node: {output key: text or None}}) of one fixture set."""
    base = FIXTURES / name
    meta = json.loads((base / "cluster.json").read_text())
    outputs = {}
    for node in sorted(p for p in base.iterdir() if p.is_dir()):
        outputs[node.name] = {k: (node / f).read_text() if (node / f).exists() else None for k, f in FILES.items()}
    return meta, outputs
