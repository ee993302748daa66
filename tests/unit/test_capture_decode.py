"""Decoding tcpdump's recordings (pcap, LINUX_SLL2) and reading them as a sequence, without root."""
import io

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import CookedLinuxV2, Ether
from scapy.layers.vxlan import VXLAN
from scapy.utils import PcapWriter

from labkit.capture import Capture, sequence
from labkit.inspect.pcap import decode, link_names


def _pcap(packets) -> bytes:
    buf = io.BytesIO()
    writer = PcapWriter(buf, linktype=276)      # LINKTYPE_LINUX_SLL2, what `tcpdump -i any` writes
    for t, pkt in packets:
        pkt.time = t
        writer.write(pkt)
    writer.flush()
    return buf.getvalue()


def _sll(ifindex, out=False):
    return CookedLinuxV2(proto=0x800, ifindex=ifindex, pkttype=4 if out else 0)


def test_decode_keeps_interface_direction_and_vxlan_outer_and_inner_headers():
    syn = IP(src="10.244.1.4", dst="10.244.2.3") / TCP(sport=40000, dport=80, flags="S")
    data = _pcap([
        (1.0, _sll(7) / syn),
        (1.1, _sll(3, out=True) / IP(src="172.18.0.3", dst="172.18.0.4") / UDP(sport=51000, dport=8472)
         / VXLAN(vni=1) / Ether() / syn),
        (1.2, _sll(1, out=True) / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=5, dport=40000) / b"marker"),
    ])
    seen = decode(data, "worker", {7: "veth1", 3: "eth0", 1: "lo"})
    assert [(s.ifname, s.direction, s.src, s.dst, s.flags) for s in seen[:2]] == [
        ("veth1", "in", "10.244.1.4:40000", "10.244.2.3:80", "S"),
        ("eth0", "out", "10.244.1.4:40000", "10.244.2.3:80", "S")]
    assert (seen[1].outer_src, seen[1].outer_dst, seen[1].vni) == ("172.18.0.3:51000", "172.18.0.4:8472", 1)
    assert seen[2].payload == b"marker"


def test_decode_survives_an_empty_or_cut_recording():
    assert decode(b"", "n", {}) == []
    data = _pcap([(1.0, _sll(2) / IP(src="1.1.1.1", dst="2.2.2.2") / TCP(sport=1, dport=2))])
    assert decode(data[:-5], "n", {}) == []


def test_link_names():
    assert link_names([{"ifindex": 1, "ifname": "lo"}, {"ifindex": 5, "ifname": "eth0"}]) == {1: "lo", 5: "eth0"}


def test_sequence_marks_dnat_and_its_undoing_on_the_reply():
    def seen(t, where, src, dst, flags):
        return decode(_pcap([(t, _sll(1) / IP(src=src.split(":")[0], dst=dst.split(":")[0])
                              / TCP(sport=int(src.split(":")[1]), dport=int(dst.split(":")[1]), flags=flags))]),
                      where, {1: "eth0"})[0]

    rows = sequence([
        seen(1.0, "client", "10.244.1.4:40000", "10.96.0.5:80", "S"),
        seen(1.1, "worker", "10.244.1.4:40000", "10.244.2.3:80", "S"),
        seen(1.2, "worker", "10.244.2.3:80", "10.244.1.4:40000", "SA"),
        seen(1.3, "client", "10.96.0.5:80", "10.244.1.4:40000", "SA"),
        seen(1.4, "client", "10.244.1.4:40000", "10.96.0.5:80", "A"),
    ], 40000)
    assert [[k for k, _ in r.notes] for r in rows] == [[], ["dnat"], [], ["undnat"], []]
    cap = Capture("demo/client", "demo/blue:80", "TCP", 40000, rows, {"pod": "b", "namespace": "demo",
                  "pod_ip": "10.244.2.3", "client_ip": "10.244.1.4", "client_port": 40000})
    text = cap.to_text("fr")
    assert "DNAT : destination réécrite" in text and "1 paquets de plus" in text   # the last ACK is hidden
    assert "100,000" in text and "100.000" not in text and "100.000" in cap.to_text("en")   # French decimals
    assert len(cap.shown()) == 4 and "10.96.0.5:80 → 10.244.1.4:40000" in cap._repr_html_()
