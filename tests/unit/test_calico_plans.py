"""The Calico-like flavor's pure plans: veth names, IPAM blocks, pod wiring, BIRD's configuration."""
import shutil
from pathlib import Path
import subprocess

import pytest

from labkit.embedded import bird, calico
from labkit.embedded.topology import LabSpec
from labkit.nodes import served_by_lab, check_read_only

SPEC = LabSpec(name="u19", cni="calico")
CP, W1, W2 = SPEC.node_plans()


def test_veth_name_is_calicos_sha1_of_namespace_dot_pod():
    # sha1("default.web") starts with 9a0b0ab4b3c... (VethNameForWorkload)
    import hashlib
    assert calico.host_veth_name("default", "web") == "cali" + hashlib.sha1(b"default.web").hexdigest()[:11]
    assert len(calico.host_veth_name("a" * 60, "b" * 60)) == 15


def test_ipam_hands_out_a_block_from_ordinal_0_then_claims_the_next():
    assert calico.node_blocks(W1)[:2] == ["10.244.1.0/26", "10.244.1.64/26"]
    assert calico.allocate(W1, [], set()) == ("10.244.1.0", "10.244.1.0/26")
    used = {f"10.244.1.{i}" for i in range(64)}
    assert calico.allocate(W1, ["10.244.1.0/26"], used - {"10.244.1.7"}) == ("10.244.1.7", None)
    assert calico.allocate(W1, ["10.244.1.0/26"], used) == ("10.244.1.64", "10.244.1.64/26")
    full = {f"10.244.1.{i}" for i in range(256)}
    with pytest.raises(LookupError):
        calico.allocate(W1, calico.node_blocks(W1), full)


def test_pod_wiring_is_calicos():
    host = calico.host_side_commands("cali0123456789a", "u19-pod-default-a", "10.244.1.5", 1500)
    assert "link set cali0123456789a address ee:ee:ee:ee:ee:ee" in host
    assert "route add 10.244.1.5/32 dev cali0123456789a scope link" in host
    pod = calico.pod_side_commands("10.244.1.5")
    assert pod[1:] == ["addr add 10.244.1.5/32 dev eth0", "route add 169.254.1.1/32 dev eth0 scope link",
                       "route add default via 169.254.1.1 dev eth0"]
    assert [k.format(dev="x").rsplit(".", 1)[-1] for k in calico.HOST_VETH_SYSCTLS] == [
        "route_localnet", "proxy_delay", "proxy_arp", "forwarding"]


def test_nodes_refuse_pool_traffic_that_only_the_default_route_would_carry():
    assert calico.node_rules(SPEC) == [
        "rule add pref 100 to 10.244.0.0/16 lookup main suppress_prefixlength 0",
        "rule add pref 101 to 10.244.0.0/16 unreachable"]
    assert "-s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE" in calico.nat_outgoing_rules(SPEC)


def test_bird_config_is_a_full_mesh_passive_towards_higher_addresses():
    text = bird.bird_cfg(SPEC, W1, "/tmp/bird.log")
    assert f"router id {W1.ip};" in text
    assert text.count("protocol bgp Mesh_") == 2
    cp = text.split("protocol bgp Mesh_172_18_0_2")[1].split("}\n", 1)[0]
    w2 = text.split("protocol bgp Mesh_172_18_0_4")[1].split("\n}\n", 1)[0]
    assert "passive on" not in cp and "passive on" in w2
    assert f"hold time {bird.HOLD_TIME};" in text and f"graceful restart time {bird.RESTART_TIME};" in text
    assert "export filter calico_kernel_programming;" in text


def test_bird_exports_blocks_whole_and_blackholes_them():
    aggr = bird.bird_aggr_cfg(["10.244.1.0/26", "10.244.1.64/26"])
    assert "route 10.244.1.0/26 blackhole;" in aggr and "route 10.244.1.64/26 blackhole;" in aggr
    assert "if ( net = 10.244.1.64/26 ) then { accept; }" in aggr
    assert "if ( net ~ 10.244.1.0/26 ) then { reject; }" in aggr
    assert "if (net ~ 10.244.0.0/16) then { accept; }" in bird.bird_ipam_cfg(SPEC.pod_cidr)


@pytest.mark.skipif(shutil.which("bird") is None, reason="bird2 is not installed (scripts/install-system-deps.sh)")
def test_bird_parses_the_configuration(tmp_path):
    for name, text in bird.config_files(SPEC, W1, ["10.244.1.0/26"], str(tmp_path / "bird.log")).items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run(["bird", "-p", "-c", str(tmp_path / "bird.cfg")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


SHOW_PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
static1    Static     master4    up     12:03:14.400  
kernel1    Kernel     master4    up     12:03:14.400  
device1    Device     ---        up     12:03:14.400  
direct1    Direct     ---        up     12:03:14.400  
Mesh_172_19_0_2 BGP        ---        up     12:03:16.186  Established   
Mesh_172_19_0_4 BGP        ---        start  12:03:40.316  Active        Socket: Connection refused
"""


def test_show_protocols_gives_the_bgp_sessions():
    sessions = bird.parse_protocols(SHOW_PROTOCOLS)
    assert [(s.peer, s.state, s.established) for s in sessions] == [
        ("172.19.0.2", "up", True), ("172.19.0.4", "start", False)]
    assert sessions[1].info.startswith("Active")


def test_birdc_through_the_seam_is_show_only():
    assert bird.birdc_words(["birdc", "show", "protocols"]) == ["show", "protocols"]
    assert bird.birdc_words(["birdc", "configure"]) is None
    assert bird.birdc_words(["birdc", "show", "route", "all"]) == ["show", "route", "all"]
    assert served_by_lab(["birdc", "show", "route"]) and not served_by_lab(["birdc", "down"])
    check_read_only(["birdc", "show", "protocols"])
    with pytest.raises(Exception):
        check_read_only(["birdc", "disable", "Mesh_172_18_0_2"])


# --- recorded from a real calico lab (tests/fixtures/bird/README.md) ---------------------------------
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures"


def test_recorded_worker_is_calico_bgp_with_established_sessions():
    from labkit.inspect.cni import recognize
    from labkit.inspect.iproute import parse_addr, parse_routes

    base = FIXTURE / "bird" / "worker"
    rec = recognize(parse_addr((base / "ip-addr.json").read_text()), parse_routes((base / "ip-route.json").read_text()),
                    (base / "iptables-save.txt").read_text())
    assert (rec.cni, rec.mode, rec.overlay, rec.pod_gateway) == ("calico", "bgp", False, "169.254.1.1")
    sessions = bird.parse_protocols((base / "birdc-show-protocols.txt").read_text())
    assert [s.peer for s in sessions] == ["172.19.0.2", "172.19.0.4"] and all(s.established for s in sessions)
    learned = [r for r in parse_routes((base / "ip-route.json").read_text()) if r.protocol == "bird"]
    assert sorted(r.dst for r in learned) == ["10.245.0.0/26", "10.245.1.0/26", "10.245.2.0/26"]


def test_pod_diagram_shows_sessions_learned_routes_and_a_dead_bird():
    from dataclasses import replace

    from labkit.diagrams.pods import pod_network
    from labkit.inspect.bird import BgpSession
    from labkit.snapshot import ClusterSnapshot

    snap = ClusterSnapshot.load(FIXTURE / "snapshots" / "embedded-calico.json")
    text = pod_network(snap, "en").source
    assert "BGP sessions (BIRD):" in text and "routes learned by BGP (proto bird):" in text
    assert text.count(": Established") == 6
    cp, worker, worker2 = snap.nodes
    down = BgpSession("Mesh_172_19_0_4", "172.19.0.4", "start", "Active")
    snap.nodes = [replace(cp, bgp=[cp.bgp[0], down]), worker, replace(worker2, bgp=[], bird_down=True)]
    text = pod_network(snap, "fr").source
    assert "✕ worker2 : Active" in text and "✕ BIRD ne tourne pas" in text
