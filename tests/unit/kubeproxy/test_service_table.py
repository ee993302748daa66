"""The service map table fits JupyterLab's output area at 1,366 px: chains on their own lines,
cut between chain names (nftables mode's names are 60 characters long)."""
from __future__ import annotations

from pathlib import Path

import pytest

from labkit.inspect.servicemap import TABLE_WIDTH, EndpointEntry, ServiceEntry, ServiceMap, format_table
from labkit.kubeproxy import read_service_map

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "kubeproxy"
LONG = [f"endpoint-{n:02d}ABCDEFGH-nb03/a-rather-long-service-name/tcp/http__10.244.1.{n}/8080" for n in range(6)]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("fixture", ["kernel-nft-list-TestOverall.txt", "kernel-iptables-save-TestOverall.txt"])
def test_no_line_of_the_table_is_wider_than_the_output_area(fixture, lang):
    table = format_table(read_service_map((FIXTURES / fixture).read_text(), fixture), lang)
    assert max(len(line) for line in table.splitlines()) <= TABLE_WIDTH, table
    assert "ns4/svc4:p80" in table and "10.180.0.5:80" in table


def test_a_long_chain_path_is_cut_between_chain_names_never_inside_one():
    smap = ServiceMap("nftables", [ServiceEntry("nb03/web", "tcp", "10.96.0.9", 80, chains=["services", *LONG[:3]],
                                                endpoints=[EndpointEntry("10.244.1.2", 8080, 1.0, LONG[3:])])])
    lines = format_table(smap, "en").splitlines()
    assert max(len(line) for line in lines) <= TABLE_WIDTH, lines
    chain_lines = [line.strip() for line in lines if line.startswith("    ") and line.strip() != "CHAINS"]
    names = [name.strip() for line in chain_lines for name in line.removeprefix("> ").split(" > ")]
    assert names == ["services", *LONG], chain_lines       # every name whole, in order
    assert len(chain_lines) > 1 and all(line.startswith("> ") for line in chain_lines[1:])


def test_the_table_keeps_one_row_per_endpoint_with_its_chains_under_it():
    smap = ServiceMap("iptables", [ServiceEntry("nb03/web", "tcp", "10.96.0.9", 80, chains=["KUBE-SERVICES", "KUBE-SVC-A"],
                                                endpoints=[EndpointEntry("10.244.1.2", 80, 0.5, ["KUBE-SEP-1"]),
                                                           EndpointEntry("10.244.2.2", 80, 0.5, ["KUBE-SEP-2"])])])
    lines = format_table(smap, "fr").splitlines()
    assert lines[0].split() == ["SERVICE", "PROTO", "IP-CLUSTER", "PORT", "NODEPORT", "ENDPOINT", "PART"]
    assert lines[2].split()[-2:] == ["10.244.1.2:80", "0,500"]
    assert lines[3].strip() == "KUBE-SERVICES > KUBE-SVC-A > KUBE-SEP-1"
    assert lines[4].split() == ["10.244.2.2:80", "0,500"] and lines[5].strip() == "... > KUBE-SEP-2"
    assert lines[-1] == "mode iptables : 1 ports de service, 2 endpoints"
