"""Every case of the shared reference file ``sample-cases.yaml``, read directly."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labkit.netpol import ContainerPort, Engine, Namespace, Pod, parse_policy

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures" / "netpol" / "sample-cases.yaml"
DOC = yaml.safe_load(REFERENCE.read_text())  # copied from shared/reference/netpol
CASES = DOC["cases"]


def _pairs(lines: list[str]) -> set[tuple[str, str]]:
    return {tuple(line.split(" -> ")) for line in lines}


def _engine(case: dict, **options) -> Engine:
    model = DOC["model"]
    ports = []
    for served in case["served_ports"]:
        number, proto = served.split("/")
        ports.append(ContainerPort(int(number), proto, f"serve-{number}-{proto.lower()}"))
    namespaces = [Namespace(name, ns["labels"]) for name, ns in model["namespaces"].items()]
    pods = [Pod(*key.split("/"), pod["labels"], pod["ip"], tuple(ports)) for key, pod in model["pods"].items()]
    policies = [parse_policy(yaml.safe_load(text)) for text in case["policies"]]
    return Engine(namespaces, pods, policies, **options)


def test_reference_file_has_cases():
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_with_self_pairs_evaluated(case):
    """With allow_self=False self pairs follow policy, exactly as the file lists them."""
    result = _engine(case, allow_self=False).reachability(case["port"], case["protocol"])
    assert set(result.pairs()) == _pairs(case["expected"])
    assert result.combined.count() == case["allowed_count"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_default_allows_self_and_matches_elsewhere(case):
    result = _engine(case).reachability(case["port"], case["protocol"])
    got = set(result.pairs())
    expected = _pairs(case["expected"])
    assert {p for p in got if p[0] != p[1]} == {p for p in expected if p[0] != p[1]}
    assert all(result.allowed(p, p) for p in result.pods)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_matrix_text_agrees(case):
    """The file's own matrix (upstream glyphs) is what our table prints, cell by cell."""
    result = _engine(case, allow_self=False).reachability(case["port"], case["protocol"])
    ours = [line.split() for line in result.combined.to_table().splitlines()]
    theirs = [line.split() for line in case["matrix"].splitlines() if line.strip()]
    assert ours == theirs


@pytest.mark.parametrize("case", [c for c in CASES if "expected_if_ipblock_ignores_pod_ips" in c],
                         ids=lambda c: c["id"])
def test_ipblock_alternative_table(case):
    result = _engine(case, allow_self=False, ipblock_matches_pods=False).reachability(case["port"], case["protocol"])
    assert set(result.pairs()) == _pairs(case["expected_if_ipblock_ignores_pod_ips"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_explain_agrees_with_matrix_on_every_cell(case):
    engine = _engine(case, allow_self=False)
    result = engine.reachability(case["port"], case["protocol"])
    for src in result.pods:
        for dst in result.pods:
            assert engine.explain(src, dst, case["port"], case["protocol"]).allowed == result.allowed(src, dst)
