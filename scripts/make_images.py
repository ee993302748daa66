#!/usr/bin/env python3
"""Write the chapter's pictures from the reference snapshots: ``images/*.svg`` and ``images/fr/*.svg``.

The slides of "Kubernetes network model" show five pictures; they are drawn by labkit from
``tests/fixtures/snapshots/reference-kindnet.json`` (the "one subnet per node, simple routed
topology" the chapter describes), in English and in French. Output is deterministic for a given
``dot`` version, and a test regenerates it to catch stale images. ``make images`` runs this.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit import diagrams  # noqa: E402
from labkit.snapshot import ClusterSnapshot  # noqa: E402

REFERENCE = ROOT / "tests" / "fixtures" / "snapshots" / "reference-kindnet.json"
POLICY_PORT = 5432  # the port the reference policies decide: shows allowed and blocked pairs


def pictures(snap: ClusterSnapshot, lang: str) -> dict[str, object]:
    """File name -> Digraph, for one language."""
    return {
        "k8s-net-0-overview.svg": diagrams.overview(snap, lang=lang),
        "k8s-net-1-pod-to-pod.svg": diagrams.pod_network(snap, lang=lang),
        "k8s-net-2-pod-to-svc.svg": diagrams.service_network(snap, lang=lang),
        "k8s-net-3-netpol.svg": diagrams.policy_network(snap, port=POLICY_PORT, lang=lang),
        "k8s-net-4-overview.svg": diagrams.overview(snap, lang=lang, detail=True, port=POLICY_PORT),
    }


def make_images(out: Path, reference: Path = REFERENCE) -> list[Path]:
    snap = ClusterSnapshot.load(reference)
    written = []
    for lang, folder in (("en", out), ("fr", out / "fr")):
        for name, graph in pictures(snap, lang).items():
            written.append(diagrams.save(graph, folder / name))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "images"), help="output folder (default: images/)")
    args = parser.parse_args(argv)
    for path in make_images(Path(args.out)):
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
