"""``labkit bench kube-proxy`` for real at a tiny size: rules loaded, real connections answered
through the first and the last ClusterIP, a partial sync, and nothing left behind."""
import subprocess

import pytest

from labkit.bench.kube_proxy_run import run_one


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_bench_programs_rules_and_connects_through_them(mode):
    result = run_one(mode, 30, samples=5, tag="kpbtest")
    assert result.services == 30 and result.transactions >= (2 if mode == "iptables" else 1)
    assert len(result.first.samples_ms) == 5 and len(result.last.samples_ms) == 5
    assert result.rules_bytes > 0
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "kpbtest" not in left
