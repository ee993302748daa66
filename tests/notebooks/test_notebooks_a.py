"""Notebooks 00, 01 and 02 run top to bottom against real embedded labs, in English and French.

Solved state: the instructor build (solutions as code cells) runs, and every exercise check says
it passed. Unsolved state: the learner notebook, as shipped (no executable solution), runs without
an error, and every check says "not yet" in the notebook's language. The English and French notebooks run at the
same time, each against its own lab (but for notebook 02, which starts and removes two more small
labs, named after it: see ``SEQUENTIAL``). The kernel finds labkit through ``PYTHONPATH`` and the ``labkit`` command through a
small script on ``PATH`` (``make lab`` has it in the venv). Needs root (network namespaces);
kubectl gets its own HOME per lab (discovery cache).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from . import nbrun
from .nbrun import OK, kernel_available, outputs_text

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
LANGS = ("en", "fr")
LABS = {lang: f"tnba{lang}{os.getpid() % 1000}" for lang in LANGS}   # unique per test process
# What the solutions create, that the learner notebooks' checks must report missing.
ABSENT = {"00-welcome": ["nb00/hello"], "01-network-model": ["nb01/pinned", "nb01/talker"]}
EXTRA = ("br", "fl")                                                  # notebook 02: f"{LAB[:8]}br" ...
EXERCISES = {"00-welcome": 1, "01-network-model": 3, "02-pod-to-pod": 4}

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]


def _extra_labs(name: str) -> list[str]:
    return [name[:8] + suffix for suffix in EXTRA]


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """One lab per language, a kubectl HOME per lab, and `labkit` on the kernel's PATH."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces): run `sudo make test`")
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    kernel_available()
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "labkit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m labkit "$@"\n')
    shim.chmod(0o755)
    envs = {}
    for lang, name in LABS.items():
        for extra in _extra_labs(name):
            lifecycle.down(extra)
        lifecycle.down(name)
        lifecycle.up(LabSpec(name=name))
        home = tmp_path_factory.mktemp(f"home-{lang}")
        envs[lang] = dict(os.environ, LABKIT_LAB=name, HOME=str(home), PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                          PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        envs[lang].pop("KUBECONFIG", None)
    yield envs
    for name in LABS.values():
        for extra in _extra_labs(name):
            lifecycle.down(extra)
        lifecycle.down(name)


def check_cells(nb) -> list:
    """The cells that run an exercise check (the environment check of 00 is not an exercise)."""
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(("pods.check_", "ex.check("))
            and not c.source.lstrip().startswith("pods.check_environment")]


# Notebook 02 starts two extra labs: its two languages run one after the other, so four labs do
# not start at once on a 2-core machine.
SEQUENTIAL = {"02-pod-to-pod"}


def run_both(name: str, envs: dict, solved: bool) -> dict:
    return nbrun.run_both(name, envs, solved, parallel=name not in SEQUENTIAL)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_solved_notebook_runs_and_every_check_passes(labs, name):
    results = run_both(name, labs, solved=True)
    nbrun.assert_checks(results, check_cells, EXERCISES[name], solved=True)
    nbrun.assert_progress(results, name)
    if name == "01-network-model":
        assert_node_proofs(results)
        assert_second_network(results)
        assert_pod_to_pod_capture(results)


NODE_PROOFS = {   # what notebook 01's node proofs print on a kindnet lab (the text the learner reads)
    "en": [r"saw the connection come from (172\.\d+\.\d+\.\d+): claim holds",
           r"the pod saw (172\.\d+\.\d+\.\d+) \(no NAT\): claim holds",
           r"node \S+-worker2: the node saw (10\.\d+\.\d+\.\d+) \(no NAT\): claim holds",
           r"node \S+-worker: the node saw (172\.\d+\.\d+\.\d+) \(SNAT to the pod's node\): the model's claim does "
           r"not hold here: a known departure of this CNI"],
    "fr": [r"a vu la connexion venir de (172\.\d+\.\d+\.\d+) : affirmation vérifiée",
           r"le pod a vu (172\.\d+\.\d+\.\d+) \(sans NAT\) : affirmation vérifiée",
           r"nœud \S+-worker2 : le nœud a vu (10\.\d+\.\d+\.\d+) \(sans NAT\) : affirmation vérifiée",
           r"nœud \S+-worker : le nœud a vu (172\.\d+\.\d+\.\d+) \(SNAT vers le nœud du pod\) : l'affirmation "
           r"du modèle ne tient pas ici : un écart connu de ce CNI"]}


def assert_node_proofs(results: dict) -> None:
    """Node to node, node to pod, pod to its node (no NAT) and pod to another node (SNAT): each line
    is in the cell's output, with the address the other side saw."""
    import html
    import re

    for lang, nb in results.items():
        cell = next(c for c in nb.cells if c.cell_type == "code" and "proofs.node_to_node(" in c.source)
        text = html.unescape(outputs_text(cell))
        for pattern in NODE_PROOFS[lang]:
            assert re.search(pattern, text), (lang, pattern, text)


CAPTURED = {"en": r"client -> web seen in (\d+) places \(([^)]*)\); addresses kept everywhere: yes",
            "fr": r"client -> web vu à (\d+) endroits \(([^)]*)\) ; adresses gardées partout : oui"}


def assert_pod_to_pod_capture(results: dict) -> None:
    """Notebook 01's capture: the client's packets were seen in the client pod, on both workers and
    in web (4 places at least), with the pods' own addresses everywhere (no NAT across nodes)."""
    import re

    for lang, nb in results.items():
        cell = next(c for c in nb.cells if c.cell_type == "code" and "labkit.capture(" in c.source)
        text = outputs_text(cell)
        found = re.search(CAPTURED[lang], text)
        assert found and int(found.group(1)) >= 4, (lang, text[-3000:])
        places = found.group(2)
        assert "nb01/client" in places and "nb01/web" in places and "worker2" in places, (lang, places)


MULTUS_BAR = {"en": "second network nb01/macvlan-conf (Multus): 2 pods, interface net1",
              "fr": "second réseau nb01/macvlan-conf (Multus) : 2 pods, interface net1"}


def assert_second_network(results: dict) -> None:
    """Notebook 01's Multus cell: both pods have eth0 and net1 (a 192.168.100.x address), multi1
    pings multi2's net1 with no loss, and the pod diagram draws the second network and both pods."""
    import html
    import re

    for lang, nb in results.items():
        cell = next(c for c in nb.cells if c.cell_type == "code" and "NetworkAttachmentDefinition" in c.source)
        text = html.unescape(outputs_text(cell))
        for pod in ("multi1", "multi2"):
            block = text.split(f"━━ {pod}")[1].split("━━")[0]
            assert re.search(r"^eth0(@\S+)?\s+UP\s+10\.", block, re.M), (lang, pod, block)
            assert re.search(r"^net1@\S+\s+UP\s+192\.168\.100\.", block, re.M), (lang, pod, block)
        assert re.search(r" 0% packet loss", text), (lang, text)
        assert MULTUS_BAR[lang] in text, (lang, text[-3000:])
        assert 'id="multus/nb01/multi1"' in text and 'id="multus/nb01/multi2"' in text, lang


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_unsolved_notebook_runs_and_every_check_says_not_yet(labs, name):
    results = run_both(name, labs, solved=False)
    nbrun.assert_checks(results, check_cells, EXERCISES[name], solved=False)
    nbrun.assert_absent(results, check_cells, ABSENT.get(name, []))


def test_welcome_finds_the_environment_and_the_embedded_lab(labs):
    for lang, nb in run_both("00-welcome", labs, solved=False).items():
        env_cell = next(c for c in nb.cells if c.source.startswith("pods.check_environment"))
        text = outputs_text(env_cell)
        embedded = {"en": "the embedded lab", "fr": "le lab embarqué"}[lang]
        assert OK[lang] in text and f"cluster {LABS[lang]} ({embedded})" in text, text
        status = outputs_text(next(c for c in nb.cells if c.cell_type == "code" and "labkit status" in c.source))
        running = {"en": "running", "fr": "en marche"}[lang]             # `!labkit` speaks the notebook's language
        assert f"lab {LABS[lang]} ({running})" in status, status   # `!labkit` found from the kernel


def test_notebooks_leave_no_namespace_and_no_extra_lab(labs):
    """Each notebook deletes its namespace, and notebook 02 removes its bridge and flannel labs."""
    from labkit.embedded import lifecycle
    from labkit.embedded.paths import kubeconfig_file

    for lang, name in LABS.items():
        env = dict(labs[lang], KUBECONFIG=str(kubeconfig_file(name)))
        out = subprocess.run([shutil.which("kubectl") or "kubectl", "get", "namespaces", "-o", "json"],
                             capture_output=True, text=True, env=env, check=True).stdout
        names = {n["metadata"]["name"] for n in json.loads(out)["items"]}
        assert not {n for n in names if n in ("nb00", "nb01", "nb02")}, names
        for extra in _extra_labs(name):
            assert not lifecycle.exists(extra), extra
