"""Companion-lab presets (pure): names, validation, the parent's list; the CLI's bad input."""
from __future__ import annotations

import subprocess
import sys

import pytest

from labkit import i18n
from labkit.embedded import companions, paths
from labkit.embedded.topology import LabSpec
from labkit.errors import BadInput


@pytest.mark.parametrize("bad", ["nope", "", "Bridge", "bridge ", None, 3, ["bridge"], "../x"])
def test_anything_but_a_preset_name_is_refused_with_the_choices(bad):
    with pytest.raises(BadInput) as err:
        companions.preset(bad)
    assert err.value.key == "companion.unknown_preset"
    assert "bridge, flannel, nftables, ebpf, nopol" in err.value.message("en")
    assert "choisissez parmi" in err.value.message("fr")


@pytest.mark.parametrize("parent", ["k", "kubenet", "abcdefghij", "tnbben123"])
def test_every_companion_name_is_a_valid_distinct_lab_name(parent):
    names = {companions.companion_name(parent, p) for p in companions.PRESETS}
    assert len(names) == len(companions.PRESETS) and parent not in names
    for name in names:
        LabSpec(name=name)                           # BadInput if not a lab name
        assert companions.preset_of(parent, name) in companions.PRESETS
    assert companions.companion_name("kubenet", "bridge") == "kubenetbr"


def test_every_preset_is_a_valid_small_lab():
    for p in companions.PRESETS.values():
        spec = LabSpec(name="x", **p.values)
        assert spec.nodes <= 2 and p.en and p.fr


def test_the_parent_lists_its_companions_and_each_knows_its_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RUN_ROOT", tmp_path)
    for lab in ("kubenet", "kubenetbr", "other"):
        (tmp_path / lab).mkdir()
    assert companions.listed("kubenet") == []
    companions._write_list("kubenet", {"kubenetbr", "kubenetfl"})
    assert companions.listed("kubenet") == ["kubenetbr", "kubenetfl"]
    assert (tmp_path / "kubenet" / "companions").stat().st_mode & 0o777 == 0o600
    assert companions.parent_of("kubenetbr") == "kubenet"
    assert companions.parent_of("kubenet") is None and companions.parent_of("other") is None


def test_every_message_has_both_languages_in_the_catalog():
    from labkit import companions as client
    from labkit.cli import companion as cli

    for table in (companions.MESSAGES, client.MESSAGES, cli.MESSAGES):
        for key, texts in table.items():
            assert set(texts) == {"en", "fr"} and texts["en"] != texts["fr"], key
            assert i18n.t(key, "fr", **{k: "x" for k in ("preset", "choices", "lab", "parent", "count",
                                                        "names", "name", "description", "nodes", "pods",
                                                        "services", "action", "action_fr", "error",
                                                        "kind", "presets")})


def test_cli_bad_preset_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "labkit", "companion", "up", "nope", "--name", "kubenet"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("labkit: no companion lab preset named 'nope'")
    assert proc.stdout == ""


def test_down_all_finds_every_lab_directory_and_nothing_else(tmp_path, monkeypatch):
    from labkit.embedded import lifecycle

    monkeypatch.setattr(lifecycle, "RUN_ROOT", tmp_path)
    for name in ("kubenet", "kubenetbr", "Not_A_Lab"):
        (tmp_path / name).mkdir()
    (tmp_path / "stray").write_text("")
    assert lifecycle.all_labs() == ["kubenet", "kubenetbr"]


def test_labkit_up_without_root_points_at_companions(monkeypatch, capsys):
    import os

    from labkit.cli.main import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["up", "--name", "kubenetx", "--cni", "bridge"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "labkit companion up bridge|flannel|nftables|ebpf|nopol|calico" in err
