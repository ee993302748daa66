"""The netlink encoding of partial syncs: the expressions nft 1.0.6 sends for the same commands
(``nft --debug=netlink``, recorded below), every line of the lab's partial syncs encodable, and
what it cannot write refused (the caller then uses ``nft -f``)."""
from __future__ import annotations

import copy
import struct

import pytest

from labkit.kubeproxy import Endpoint, NodeContext, ProxyInput, ServicePort, render_nftables
from labkit.kubeproxy.nft_netlink import (
    NFT_MSG_DELRULE,
    NFT_MSG_NEWRULE,
    NFT_MSG_NEWSETELEM,
    Unsupported,
    batch,
    encode_line,
    encode_transaction,
    parse_acks,
)
from labkit.kubeproxy.nft_sync import nft_delete_chains, nft_update

CTX = NodeContext(node_name="w1", node_ips=("172.18.0.3",), cluster_cidr="10.244.0.0/16",
                  service_cidrs=("10.96.0.0/16",))


def lab_input(n: int) -> ProxyInput:
    inp = ProxyInput()
    for i in range(n):
        svc = ServicePort("bench", f"svc{i}", "http", "TCP", f"10.96.0.{i + 1}", 80)
        inp.services.append(svc)
        inp.endpoints[svc.key] = [Endpoint(f"10.244.{e + 1}.{i + 2}", 8080) for e in range(2)]
    return inp

TYPES = {"service-ips": "ipv4_addr . inet_proto . inet_service : verdict", "cluster-ips": "ipv4_addr",
         "service-nodeports": "inet_proto . inet_service : verdict",
         "no-endpoint-services": "ipv4_addr . inet_proto . inet_service : verdict"}


def attrs(data: bytes) -> list[tuple[int, bytes]]:
    out, i = [], 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        out.append((kind & 0x7FFF, data[i + 4:i + length]))
        i += (length + 3) & ~3
    return out


def u32(raw: bytes) -> int:
    return struct.unpack(">I", raw)[0]


def verdict(raw: bytes) -> str:
    (_, inner), = attrs(raw)  # NFTA_DATA_VERDICT
    fields = dict(attrs(inner))
    code = struct.unpack(">i", fields[1])[0]
    name = {-3: "jump", -4: "goto", 0: "drop", 1: "accept", -5: "return"}[code]
    return f"{name} -> {fields[2].rstrip(bytes(1)).decode()}" if 2 in fields else name


def value(raw: bytes) -> bytes:
    (_, inner), = attrs(raw)
    return inner


def host_hex(raw: bytes) -> str:
    """How nft --debug prints data: each 32-bit word in host (little-endian) order."""
    raw = raw + bytes(-len(raw) % 4)
    return " ".join(f"0x{struct.unpack_from('<I', raw, i)[0]:08x}" for i in range(0, len(raw), 4))


def debug(body: bytes) -> list[str]:
    """A NEWRULE body as ``nft --debug=netlink`` prints its expressions."""
    lines = []
    for kind, data in attrs(body[4:]):
        if kind == 7:
            lines.append(f"userdata {data!r}")
        if kind != 4:
            continue
        for _, elem in attrs(data):
            fields = dict(attrs(elem))
            name = fields[1].rstrip(bytes(1)).decode()
            a = dict(attrs(fields[2]))
            if name == "payload":
                lines.append(f"[ payload load {u32(a[4])}b @ network header + {u32(a[3])} => reg {u32(a[1])} ]")
            elif name == "cmp":
                lines.append(f"[ cmp {['eq', 'neq'][u32(a[2])]} reg {u32(a[1])} {host_hex(value(a[3]))} ]")
            elif name == "immediate":
                if u32(a[1]) == 0:
                    lines.append(f"[ immediate reg 0 {verdict(a[2])} ]")
                else:
                    lines.append(f"[ immediate reg {u32(a[1])} {host_hex(value(a[2]))} ]")
            elif name == "numgen":
                lines.append(f"[ numgen reg {u32(a[1])} = random mod {u32(a[2])} ]")
            elif name == "meta":
                assert u32(a[2]) == 16
                lines.append(f"[ meta load l4proto => reg {u32(a[1])} ]")
            elif name == "nat":
                lines.append(f"[ nat dnat ip addr_min reg {u32(a[3])} proto_min reg {u32(a[5])} flags {hex(u32(a[7]))} ]")
    return lines


# what nft 1.0.6 sends for the same rules (nft --debug=netlink -f, this machine)
NFT_DEBUG = {
    "ip daddr 10.96.22.1 ip saddr != 10.244.0.0/16 jump mark-for-masquerade": [
        "[ payload load 4b @ network header + 16 => reg 1 ]", "[ cmp eq reg 1 0x0116600a ]",
        "[ payload load 2b @ network header + 12 => reg 1 ]", "[ cmp neq reg 1 0x0000f40a ]",
        "[ immediate reg 0 jump -> mark-for-masquerade ]"],
    "numgen random mod 2 0 goto endpoint-X": [
        "[ numgen reg 1 = random mod 2 ]", "[ cmp eq reg 1 0x00000000 ]", "[ immediate reg 0 goto -> endpoint-X ]"],
    "goto endpoint-X": ["[ immediate reg 0 goto -> endpoint-X ]"],
    "ip saddr 10.244.1.2 jump mark-for-masquerade": [
        "[ payload load 4b @ network header + 12 => reg 1 ]", "[ cmp eq reg 1 0x0201f40a ]",
        "[ immediate reg 0 jump -> mark-for-masquerade ]"],
    "meta l4proto tcp dnat to 10.244.1.2:8080": [
        "[ meta load l4proto => reg 1 ]", "[ cmp eq reg 1 0x00000006 ]", "[ immediate reg 1 0x0201f40a ]",
        "[ immediate reg 2 0x0000901f ]", "[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]"],
}


@pytest.mark.parametrize("rule", sorted(NFT_DEBUG))
def test_rules_are_encoded_as_nft_sends_them(rule):
    msg = encode_line(f"add rule ip kube-proxy c1 {rule}", TYPES)
    assert msg.type == (10 << 8) | NFT_MSG_NEWRULE
    assert debug(msg.body) == NFT_DEBUG[rule]


def test_a_comment_is_the_rule_userdata():
    msg = encode_line('add rule ip kube-proxy c1 jump mark-for-masquerade comment "hello"', TYPES)
    assert debug(msg.body)[-1] == "userdata " + repr(b"\x00\x06hello\x00")  # nft: { \\x00\\x06hello\\x00 }


def test_elements_keys_are_laid_out_as_nft_does():
    msg = encode_line("add element ip kube-proxy service-ips { 10.96.22.1 . tcp . 80 : goto c1, "
                      "10.96.22.2 . udp . 53 : goto c2 }", TYPES)
    assert msg.type == (10 << 8) | NFT_MSG_NEWSETELEM
    (elements,) = [data for kind, data in attrs(msg.body[4:]) if kind == 3]
    keys = [host_hex(value(dict(attrs(e))[1])) for _, e in attrs(elements)]
    # nft --debug=netlink: "element 0116600a 00000006 00005000  : goto -> c1"
    assert keys[0] == "0x0116600a 0x00000006 0x00005000"
    assert keys[1] == "0x0216600a 0x00000011 0x00003500"
    assert [verdict(dict(attrs(e))[2]) for _, e in attrs(elements)] == ["goto -> c1", "goto -> c2"]
    nodeport = encode_line("delete element ip kube-proxy service-nodeports { tcp . 30080 }", TYPES)
    (elements,) = [data for kind, data in attrs(nodeport.body[4:]) if kind == 3]
    (_, e), = attrs(elements)
    assert host_hex(value(dict(attrs(e))[1])) == "0x00000006 0x00008075" and 2 not in dict(attrs(e))


def test_every_line_of_the_labs_partial_syncs_is_encoded():
    old = lab_input(6)
    new = copy.deepcopy(old)
    new.endpoints[new.services[2].key] = new.endpoints[new.services[2].key][:1]
    new.endpoints[new.services[3].key] = []  # no endpoint left: reject through the no-endpoint map
    gone = new.services.pop(4)
    new.endpoints.pop(gone.key)
    a, b = render_nftables(old, CTX), render_nftables(new, CTX)
    update = nft_update(a, b)
    types = {name: s.type for name, s in b.sets.items()}
    messages = encode_transaction(update.transaction, types)
    assert len(messages) == len(update.transaction.splitlines())
    assert any(m.type & 0xFF == NFT_MSG_DELRULE for m in messages)  # flush chain
    assert encode_transaction(nft_delete_chains(update.stale_chains), types)
    data = batch(messages, seq=7)
    assert struct.unpack_from("=IHHII", data)[1:4] == (0x10, 1, 7)  # batch begin, seq 7
    flags, offset = [], 0
    while offset < len(data):
        length, _kind, flag, _seq, _pid = struct.unpack_from("=IHHII", data, offset)
        flags.append(flag)
        offset += length
    assert [bool(f & 4) for f in flags] == [False] * len(messages) + [True, False]  # one ack: the last message's


@pytest.mark.parametrize("line", [
    "add map ip kube-proxy m { type ipv4_addr : verdict ; }",
    "add set ip kube-proxy affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }",
    "add chain ip kube-proxy c1 { type nat hook output priority -100 ; }",
    "add rule ip kube-proxy c1 fib saddr type local jump mark-for-masquerade",
    "add rule ip kube-proxy c1 ip saddr != { 1.2.3.0/24 } drop",
    "add rule ip kube-proxy c1 ip saddr 10.0.0.0/12 drop",
    "add rule ip kube-proxy c1 update @affinity-X { ip saddr }",
    "add rule ip inet-other c1 drop",
    "add element ip kube-proxy unknown-set { 1.2.3.4 }",
    'add rule ip kube-proxy c1 jump "evil name"',
])
def test_what_it_cannot_write_is_refused(line):
    with pytest.raises(Unsupported):
        encode_line(line, TYPES)


def test_acks_are_read_with_their_sequence_and_errno():
    def err(seq: int, errno: int) -> bytes:
        inner = struct.pack("=IHHII", 20, 0xA06, 5, seq, 0)
        return struct.pack("=IHHII", 36, 2, 0x100, seq, 1) + struct.pack("=i", -errno) + inner
    assert parse_acks(err(3, 0) + err(4, 2)) == [(3, 0), (4, 2)]


def test_a_full_load_splits_into_the_fixed_part_and_an_encodable_per_service_part():
    """``nft_service_part`` (the floor bench's kernel-only full load): the same commands as the
    one-transaction load, the per-service ones all encodable, elements in messages < 64 KiB."""
    from labkit.kubeproxy.nft_sync import ELEMENTS_PER_MESSAGE, nft_initial_batches, nft_service_part

    from labkit.bench.kube_proxy_model import synthetic_input

    rs = render_nftables(synthetic_input(ELEMENTS_PER_MESSAGE + 20), CTX)
    head, rest = nft_service_part(rs)
    (whole,) = nft_initial_batches(rs)
    def commands(text):  # element lines compared element by element
        out = set()
        for line in text.splitlines():
            if line.startswith("add element"):
                verb, _, body = line.partition(" { ")
                out |= {(verb, e) for e in body.rstrip(" }").split(", ")}
            else:
                out.add(line)
        return out
    assert commands(head) | commands(rest) == commands(whole)
    assert not any("/" in line.split()[4] for line in head.splitlines() if line.startswith(("add rule", "add chain")))
    messages = encode_transaction(rest, {name: s.type for name, s in rs.sets.items()})
    assert len(messages) == len(rest.splitlines())
    assert sum(m.line.startswith("add element ip kube-proxy service-ips") for m in messages) == 2
    assert max(len(m.body) for m in messages) < 1 << 16
