"""A capture drawn on the pod-network diagram (no root): a badge on each interface where the packet
was seen, numbered in time order, and the addresses seen there listed below, NAT in orange."""
import re
from pathlib import Path

from labkit.capture import Capture, sequence
from labkit.inspect.pcap import Seen
from labkit.snapshot import ClusterSnapshot
from labkit.trace import trace

SNAP = ClusterSnapshot.load(Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "reference-flannel.json")
CLIENT, BLUE3, VIP = "10.244.1.2:40000", "10.244.2.2:80", "10.96.47.120:80"


def _capture(answered: bool = True) -> Capture:
    def seen(t, where, ifname, direction, src, dst, ident, flags="S", vxlan=False):
        outer = ("172.18.0.3:51000", "172.18.0.4:8472", 1) if vxlan else ("", "", None)
        return Seen(t, where, ifname, direction, src, dst, "TCP", flags, *outer, ident=ident)
    packets = [
        seen(1, "demo/client", "eth0", "out", CLIENT, VIP, "syn"),
        seen(2, "kubenet-worker", "veth3faec8e1", "in", CLIENT, VIP, "syn"),
        seen(3, "kubenet-worker", "flannel.1", "out", CLIENT, BLUE3, "syn"),
        seen(4, "kubenet-worker", "eth0", "out", CLIENT, BLUE3, "syn", vxlan=True),
        seen(5, "kubenet-worker2", "eth0", "in", CLIENT, BLUE3, "syn", vxlan=True),
        seen(6, "kubenet-worker2", "vethca322c68", "out", CLIENT, BLUE3, "syn"),
        seen(7, "demo/blue-3", "eth0", "in", CLIENT, BLUE3, "syn"),
        seen(8, "demo/blue-3", "eth0", "out", BLUE3, CLIENT, "synack", "S."),
        seen(9, "kubenet-worker", "veth3faec8e1", "out", VIP, CLIENT, "synack", "S."),
        seen(10, "demo/client", "eth0", "in", VIP, CLIENT, "synack", "S."),
    ]
    answer = {"pod": "blue-3", "namespace": "demo", "pod_ip": "10.244.2.2", "port": 80,
              "client_ip": "10.244.1.2", "client_port": 40000} if answered else None
    return Capture("demo/client", "demo/blue:80", "TCP", 40000, sequence(packets, 40000), answer, "", SNAP,
                   trace(SNAP, "demo/client", "demo/blue:80"))


def _badges(svg: str) -> dict[str, str]:
    return dict(re.findall(r'<g class="capture-point" id="capture/([^"]+)" data-numbers="([^"]+)"', svg))


def _steps(svg: str) -> list[tuple[str, ...]]:
    return re.findall(r'<g class="capture-step" id="capture/step/(\d+)" data-dst="([^"]+)" data-ifname="([^"]+)" '
                      r'data-nat="(\d)" data-src="([^"]+)" data-where="([^"]+)"', svg)


def test_each_capture_point_gets_its_numbers_and_the_dnat_hop_is_marked():
    svg = _capture().draw("en").svg
    assert _badges(svg) == {
        "p/demo/client": "1,10", "if/kubenet-worker/veth3faec8e1": "2,9", "if/kubenet-worker/flannel.1": "3",
        "if/kubenet-worker/eth0": "4", "if/kubenet-worker2/eth0": "5", "if/kubenet-worker2/vethca322c68": "6",
        "p/demo/blue-3": "7,8"}
    steps = _steps(svg)
    assert len(steps) == 10
    assert steps[0][1:] == (VIP, "eth0", "0", CLIENT, "demo/client")
    assert steps[2] == ("3", BLUE3, "flannel.1", "1", CLIENT, "kubenet-worker")      # DNAT seen first here
    assert steps[8][3] == "1" and steps[8][4] == VIP                                  # un-DNAT of the reply
    assert "VXLAN VNI 1, outer 172.18.0.3:51000 → 172.18.0.4:8472" in svg
    assert "Capture: demo/client → demo/blue:80" in svg


def test_the_path_of_the_endpoint_that_answered_is_painted_and_the_legend_moves_below_the_steps():
    svg = _capture().draw("en").svg
    lit = re.search(r'id="p/demo/blue-3"[^>]*>(?:<title>[^<]*</title>)?<rect[^>]*stroke="#ff8f00"', svg)
    assert lit, "the pod that answered is painted"
    assert not re.search(r'id="p/demo/blue-1"[^>]*>(?:<title>[^<]*</title>)?<rect[^>]*stroke="#ff8f00"', svg)
    last_step = max(float(y) for y in re.findall(r'capture/step/\d+".*?<text[^>]* y="([\d.]+)"', svg))
    legend = float(re.search(r'class="legend-heading" x="[\d.]+" y="([\d.]+)"', svg).group(1))
    assert legend > last_step


def test_french_and_nothing_captured():
    svg = _capture().draw("fr").svg
    assert "Ce que tcpdump a vu" in svg and "sortie" in svg and "DNAT : destination réécrite" in svg
    empty = Capture("demo/client", "demo/blue:80", "TCP", 40000, [], None, "timeout", SNAP,
                    trace(SNAP, "demo/client", "demo/blue:80"))
    svg = empty.draw("en").svg
    assert "no packet of this connection was captured" in svg and _badges(svg) == {}
