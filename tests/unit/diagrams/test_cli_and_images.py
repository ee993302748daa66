"""``labkit draw`` / ``labkit trace`` and the stability of ``images/``."""
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from labkit.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "tests" / "fixtures" / "snapshots" / "reference-kindnet.json"
NAMES = ["k8s-net-0-overview.svg", "k8s-net-1-pod-to-pod.svg", "k8s-net-2-pod-to-svc.svg",
         "k8s-net-3-netpol.svg", "k8s-net-4-overview.svg"]


def test_draw_writes_svg_and_png(tmp_path, capsys):
    for layer in ("pods", "services", "policies", "overview"):
        out = tmp_path / f"{layer}.svg"
        assert main(["draw", layer, "--snapshot", str(REFERENCE), "-o", str(out)]) == 0
        assert out.read_text().lstrip().startswith("<?xml")
    png = tmp_path / "p.png"
    assert main(["draw", "pods", "--snapshot", str(REFERENCE), "--lang", "fr", "-o", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_draw_to_stdout(capsys):
    assert main(["draw", "services", "--chains", "--snapshot", str(REFERENCE)]) == 0
    import html
    assert "KUBE-SVC-" in html.unescape(capsys.readouterr().out)


def test_trace_prints_hops_in_french(capsys):
    assert main(["--lang", "fr", "trace", "demo/client", "demo/blue:80", "--snapshot", str(REFERENCE)]) == 0
    out = capsys.readouterr().out
    assert "candidat 1/3" in out and "KUBE-SEP-" in out


@pytest.mark.parametrize("argv,needle", [
    (["draw", "pods", "--snapshot", "/nonexistent.json"], "/nonexistent.json"),
    (["draw", "pods", "--snapshot", str(REFERENCE), "-o", "x.txt"], ".svg"),
    (["draw", "policies", "--snapshot", str(REFERENCE), "--port", "0"], "port 0"),
    (["trace", "demo/client", "demo/nothing", "--snapshot", str(REFERENCE)], "demo/nothing"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_broken_snapshot_names_the_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "nodes": [{"nope": 1}]}')
    assert main(["draw", "pods", "--snapshot", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "name" in err


def test_images_are_up_to_date(tmp_path):
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "scripts" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_images(tmp_path)
    for folder in ("", "fr"):
        for name in NAMES:
            fresh, kept = tmp_path / folder / name, ROOT / "images" / folder / name
            assert fresh.read_text() == kept.read_text(), f"images/{folder}/{name} is stale: run make images"
            assert kept.stat().st_size < 200_000
