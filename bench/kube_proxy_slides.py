"""Draw the recorded kube-proxy figures (``bench/results/kube_proxy.json``) for the slides, EN and FR.

``labkit bench kube-proxy --json`` records the figures (root, minutes); this only draws them again
(no root, a second): ``images/kube-proxy-scaling.png`` and ``images/fr/kube-proxy-scaling.png``.

    .venv/bin/python bench/kube_proxy_slides.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit import i18n  # noqa: E402
from labkit.bench.kube_proxy_model import load_results  # noqa: E402
from labkit.bench.kube_proxy_plot import save  # noqa: E402


def main() -> None:
    results = load_results(ROOT / "bench" / "results" / "kube_proxy.json")
    for lang, folder in (("en", ROOT / "images"), ("fr", ROOT / "images" / "fr")):
        i18n.set_language(lang)
        path = folder / "kube-proxy-scaling.png"
        save(results, str(path))
        print(path)


if __name__ == "__main__":
    main()
