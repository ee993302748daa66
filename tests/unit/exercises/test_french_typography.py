"""French typography in what an exercise tells a learner: a space before ':' ';' '?' '!', no English
quotes, a decimal comma. Code the learner types (in backticks) and the tools' own words (addresses,
``ip route`` output) are left as they are."""
import re
import string
from pathlib import Path

import pytest

from labkit import i18n
from labkit.exercises import judges
from labkit.inspect.cni import recognize
from labkit.inspect.iproute import parse_addr, parse_routes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cni"


def node_outputs(name: str, node: str) -> dict[str, str]:
    """A recorded node's outputs (tests/fixtures/cni/<set>/<node>, as tests/unit/kind reads them)."""
    files = {"addr": "ip-addr.json", "route": "ip-route.json", "iptables": "iptables-save.txt",
             "nft": "nft-ruleset.json", "ipvsadm": "ipvsadm.txt"}
    base = FIXTURES / name / node
    return {k: (base / f).read_text() if (base / f).exists() else None for k, f in files.items()}

PUNCT = re.compile(r"(?<=[^\s\u00a0\u202f])[:;?!](?=\s|$)")      # "flannel: FWD", "nœud;" (not "ee:ee", "10:30")
ENGLISH_QUOTES = re.compile(r"\"[^\"]*\"|“|”")
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")          # 0.5 (not 10.244.1.0, not 1.2.3)


def typography_issues(text: str) -> list[str]:
    prose = re.sub(r"`[^`]*`", "`code`", text)
    return ([f"no space before {m.group()!r} at …{prose[max(0, m.start() - 25):m.end() + 5]}…" for m in PUNCT.finditer(prose)]
            + [f"English quotes: {m.group()}" for m in ENGLISH_QUOTES.finditer(prose)]
            + [f"decimal point: {m.group()}" for m in DECIMAL_POINT.finditer(prose)])


def _literal(text: str) -> str:
    return "".join(lit + ("{}" if name is not None else "") for lit, name, _, _ in string.Formatter().parse(text))


def test_every_exercise_message_in_french():
    keys = [k for k in i18n.keys() if i18n.source(k).startswith("exercises/") or k.startswith("cni.ev.")]
    assert len(keys) > 100
    bad = {k: typography_issues(_literal(i18n._catalog[k]["fr"])) for k in keys}
    assert not {k: v for k, v in bad.items() if v}


def test_the_checker_catches_english_typography():
    assert typography_issues("iptables flannel: FLANNEL-FWD") and typography_issues('écrivez "*"')
    assert typography_issues("exact : 0.25") and not typography_issues("MAC ee:ee:ee, 10.244.1.0/24 via 172.18.0.3 ; `[0.5]`")


@pytest.mark.parametrize("name,node,ip", [("flannel-host-gw", "kind-worker", "172.18.0.3"),
                                          ("flannel-vxlan", "kind-worker", "172.18.0.3"),
                                          ("calico-vxlan", "kind-worker", "172.18.0.3")])
def test_05_success_evidence_in_french(name, node, ip):
    """05.x's success lists the evidence the lab read off the node (recognised in the learner's
    language): "iptables flannel: FLANNEL-FWD" came with an English colon in French."""
    out = node_outputs(name, node)
    assert out["addr"] and out["route"]
    previous = i18n.get_language()
    i18n.set_language("fr")
    try:
        rec = recognize(parse_addr(out["addr"]), parse_routes(out["route"]), out["iptables"], out["nft"],
                        out["ipvsadm"], internal_ip=ip)
        result = judges.stack({"cni": rec.cni, "mode": rec.mode, "evidence": list(rec.evidence)},
                              f"{rec.cni} {rec.mode}", "fr")
    finally:
        i18n.set_language(previous)
    text = " ".join(result.reasons)
    assert result.ok and "exact :" in text, text
    assert not typography_issues(text), (typography_issues(text), text)
