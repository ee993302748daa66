"""Notebooks 03, 03b, 04 and 05 run top to bottom against real embedded labs, in English and French.

Solved state: the instructor build (solutions as code cells) runs, and every exercise check says
it passed. Unsolved state: the learner notebook, as shipped (no executable solution), runs without
an error, and every check says "not yet" in the notebook's language. Each language runs against its own lab; the
English and French notebooks of 04 run at the same time (the work is mostly waiting on packets).
Needs root (network namespaces); kubectl gets its own HOME per lab (discovery cache).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from . import nbrun
from .nbrun import kernel_available

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
LANGS = ("en", "fr")
LABS = {lang: f"tnbb{lang}{os.getpid() % 1000}" for lang in LANGS}   # unique per test process
EXERCISES = {"03-pod-to-service": 2, "03b-nodeport-dns-proxy-modes": 2, "04-network-policies": 5,
             "05-network-stacks": 3}
# What the solutions create or change, that the learner notebooks' checks must report missing.
ABSENT = {"03-pod-to-service": ["Deployment hello"], "03b-nodeport-dns-proxy-modes": ["app=wbe"],
          "04-network-policies": ["NetworkPolicy", "nb04"]}
STARTS_A_SECOND_LAB = {"03b-nodeport-dns-proxy-modes", "05-network-stacks"}   # one language at a time: fewer labs

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """One lab per language (the notebooks' second labs are its companions: ``labkit.companion``)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces): run `sudo make test`")
    from labkit.embedded import lifecycle
    from labkit.embedded.topology import LabSpec

    envs = {}
    for lang, name in LABS.items():
        lifecycle.down(name)                 # its companions too
        lifecycle.up(LabSpec(name=name))
        home = tmp_path_factory.mktemp(f"home-{lang}")
        envs[lang] = dict(os.environ, LABKIT_LAB=name, HOME=str(home),
                          PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        envs[lang].pop("KUBECONFIG", None)
    kernel_available()
    yield envs
    for name in LABS.values():
        lifecycle.down(name)


def check_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("ex.check(")]


def run_both(name: str, envs: dict, solved: bool) -> dict:
    return nbrun.run_both(name, envs, solved, parallel=name not in STARTS_A_SECOND_LAB)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_solved_notebook_runs_and_every_check_passes(labs, name):
    results = run_both(name, labs, solved=True)
    nbrun.assert_checks(results, check_cells, EXERCISES[name], solved=True)
    nbrun.assert_progress(results, name)
    if name == "03-pod-to-service":
        assert_services_are_l4(results)
    if name == "04-network-policies":
        assert_capstone(results)
        assert_no_policy_controller(results)
    if name == "05-network-stacks":
        assert_comparison(results)


def assert_comparison(results: dict) -> None:
    """Notebook 05's live comparison: every measured figure of the three stacks (the learner's lab,
    calico, ebpf) is non-zero: connect times, throughput, a new Service's time to every node, routes;
    kube-proxy's rules in the first two columns, the BPF map entries in the third; and the agent
    killed in each (kube-proxy, BIRD, the socket LB's agent) with its own non-zero figure."""
    import re

    for lang, nb in results.items():
        cell = next(c for c in nb.cells if c.cell_type == "code" and "compare.measure" in c.source)
        html = nbrun.outputs_text(cell)
        rows = [[c.replace("\u202f", "").replace(",", ".") if re.fullmatch(r"[\d\u202f]+(,\d+)?", c) else c
                 for c in re.findall(r"<td[^>]*>([^<]*)</td>", r)]
                for r in re.findall(r"<tr>(.*?)</tr>", html)[1:12]]          # French figures: 0,606
        assert len(rows) == 11 and all(len(r) == 3 for r in rows), (lang, html[:3000])
        for i in (0, 1, 2, 3, 4, 5, 8):
            assert all(float(v) > 0 for v in rows[i]), (lang, i, rows)
        assert float(rows[6][0]) > 0 and float(rows[6][1]) > 0 and float(rows[7][2]) > 0, (lang, rows)
        agents = rows[10]
        assert "kube-proxy" in agents[0] and "BIRD" in agents[1] and "(5/5)" in agents[0] and "(5/5)" in agents[2], agents
        figures = [re.findall(r"(\d+(?:\.\d+)?) (?:ms|s)\b", a.replace(",", ".")) for a in agents]
        assert all(f and float(f[-1]) > 0 for f in figures), (lang, agents)
        assert "image/png" in str(cell.get("outputs")), lang


HOLDS = {"en": "claim holds", "fr": "affirmation vérifiée"}


def assert_services_are_l4(results: dict) -> None:
    """Notebook 03's L4 cell: the pod answers on 8080, the ClusterIP does not (its Service exposes
    80), ping reaches the pod and not the ClusterIP, and a Service with a port range is refused by
    the API server with its Status error (kubectl's ``Error from server (BadRequest)``)."""
    import re

    for lang, nb in results.items():
        text = nbrun.outputs_text(next(c for c in nb.cells if c.cell_type == "code"
                                       and "service_port_range_refused" in c.source))
        assert text.count(HOLDS[lang]) == 3, (lang, text)
        assert "Error from server (BadRequest)" in text and "of type int32" in text, (lang, text)
        pod = {"en": r":8080 \(the pod itself\): answers", "fr": r":8080 \(le pod lui-même\) : répond"}[lang]
        svc = {"en": r":8080 \(not exposed\): no answer", "fr": r":8080 \(non exposé\) : pas de réponse"}[lang]
        assert re.search(pod, text) and re.search(svc, text), (lang, text)


UNENFORCED = {"en": "Nothing seems to enforce NetworkPolicies in this cluster",
              "fr": "Rien ne semble appliquer les NetworkPolicies dans ce cluster"}


def assert_no_policy_controller(results: dict) -> None:
    """Notebook 04's cell with the ``nopol`` companion: the same deny-all policy is stored in both
    clusters (``kubectl get networkpolicy`` lists it); without an enforcer every pair still connects
    and the probe prints the warning; on the learner's lab the probe sees the deny, as predicted."""
    import re

    for lang, nb in results.items():
        cell = next(c for c in nb.cells if c.cell_type == "code" and 'labkit.companion("nopol"' in c.source)
        parts = nbrun.outputs_text(cell).split("━━ ")[1:]
        assert len(parts) == 2, (lang, parts)
        nopol, main = parts
        for part in parts:
            assert re.search(r"^deny-all\s", part, re.M), (lang, part[:2000])     # stored
        seen = {name: re.search(r"<ProbeResult TCP/80: (\d+) of 4 connected, (\d+) differ", part)
                for name, part in (("nopol", nopol), ("main", main))}
        assert all(seen.values()), (lang, parts)
        assert seen["nopol"].group(1) == "4" and seen["nopol"].group(2) != "0", (lang, nopol[-2000:])
        assert UNENFORCED[lang] in nopol, (lang, nopol[-2000:])
        assert int(seen["main"].group(1)) < 4 and seen["main"].group(2) == "0", (lang, main[-2000:])
        assert UNENFORCED[lang] not in main, lang
        timing = cell.metadata.get("execution") or {}
        if timing:
            print(lang, "nopol cell:", timing.get("iopub.status.busy"), "->", timing.get("iopub.status.idle"))


VERDICT = {"en": ("network policies: allowed", "network policies: denied"),
           "fr": ("politiques réseau : connexion autorisée", "politiques réseau : connexion refusée")}


def assert_capstone(results: dict) -> None:
    """Notebook 04's last section: the same connection, traced through the three layers, is allowed,
    then denied at the policy layer once the policy changed, and real packets agree (``web`` answers
    with the client address it saw, then curl fails). The overview paints it across the three layers:
    the Service ``web`` in both, the policy that allows it before, and after the change the policy
    that decides dashed and a no-entry sign on ``web``."""
    import re

    for lang, nb in results.items():
        text = {key: nbrun.outputs_text(next(c for c in nb.cells if c.cell_type == "code" and key in c.source))
                for key in ("before = labkit.trace", "after = labkit.trace")}
        allowed, denied = VERDICT[lang]
        assert allowed in text["before = labkit.trace"] and denied not in text["before = labkit.trace"], text
        assert "client_ip" in text["before = labkit.trace"] and "<svg" in text["before = labkit.trace"], text
        assert denied in text["after = labkit.trace"] and allowed not in text["after = labkit.trace"], text
        assert "✘ curl" in text["after = labkit.trace"], text
        before, after = text["before = labkit.trace"], text["after = labkit.trace"]
        group = lambda svg, gid: re.search(rf'<g [^>]*id="{gid}".*?</g>', svg, re.S).group(0)  # noqa: E731
        for svg in (before, after):            # the Service layer is lit in both: DNAT happens either way
            assert 'stroke="#ff8f00"' in group(svg, "svc/nb04/web/tcp"), lang
        assert 'stroke="#ff8f00"' in group(before, "pol/nb04/web-from-front"), lang
        assert "stroke-dasharray" not in group(before, "pol/nb04/web-from-front"), lang
        assert "stroke-dasharray" in group(after, "pol/nb04/web-from-front"), lang
        web = group(after, "p/nb04/web")
        assert "<circle" in web, lang                                          # the no-entry sign on web


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_unsolved_notebook_runs_and_every_check_says_not_yet(labs, name):
    results = run_both(name, labs, solved=False)
    nbrun.assert_checks(results, check_cells, EXERCISES[name], solved=False)
    nbrun.assert_absent(results, check_cells, ABSENT.get(name, []))


def test_notebooks_leave_no_namespace_and_no_second_lab(labs):
    """Each notebook deletes its namespaces; 03b, 04 and 05 stop the companion labs they started."""
    import json
    import subprocess

    from labkit.embedded import companions, lifecycle
    from labkit.embedded.paths import kubeconfig_file

    for lang, name in LABS.items():
        env = dict(labs[lang], KUBECONFIG=str(kubeconfig_file(name)))
        out = subprocess.run([shutil.which("kubectl") or "kubectl", "get", "namespaces", "-o", "json"],
                             capture_output=True, text=True, env=env, check=True).stdout
        names = {n["metadata"]["name"] for n in json.loads(out)["items"]}
        assert not {n for n in names if n.startswith(("nb03", "nb04", "nb05"))}, names
        running = [p for p in companions.PRESETS if lifecycle.exists(companions.companion_name(name, p))]
        assert not running, running
