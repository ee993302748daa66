"""A partial-sync transaction as the nf_tables netlink messages ``nft -f`` would send, without ``nft``.

Why: with 10,000 services, ``nft -f`` of a one-service change took 130-210 ms, of which the
transaction itself is a few ms. nft 1.0.6 fills its cache before it evaluates ``add rule`` or
``add element`` (libnftables ``nft_cache_update``: ``NFT_MSG_GETCHAIN`` dumps every chain of the
table, 30,000 of them, then builds its chain cache), and starts from an empty cache on every run
(the generation id moved). Writing the same commands as netlink messages skips the cache: what is
left is the kernel's own commit (see ``nft_sync``: it validates the whole table when a jump,
goto or verdict-map element is added).

Upstream's kube-proxy goes through knftables, which runs ``nft -f -`` too
(kubernetes-sigs/knftables nftables.go, ``Run``: ``exec.CommandContext(ctx, "nft", "-f", "-")``),
so it pays the cache on every sync; the lab departs here
for speed only: the kernel gets the same objects, and a lab test compares what the kernel
reports after this path with a full sync through ``nft``.

Only the commands and rule forms :mod:`.nft_sync` writes for ordinary services are encoded
(chains added, flushed and deleted; rules made of ``ip saddr|daddr [!=] addr[/prefix]``,
``meta l4proto``, ``numgen random mod N 0``, ``dnat to ip:port``, jump/goto/accept/drop/return,
and a comment; elements of the fixed sets and maps). Anything else raises
:class:`Unsupported`, and the caller writes the transaction with ``nft -f`` as before.
Expressions and layouts are those ``nft --debug=netlink`` shows for the same commands (nft 1.0.6):
registers, the 4-byte alignment of concatenated keys, a ``/16`` prefix compared on its two bytes,
comments as ``NFTNL_UDATA_*_COMMENT`` TLVs.
"""
from __future__ import annotations

import ipaddress
import re
import struct
from dataclasses import dataclass
from functools import lru_cache

from ..inspect.nft_text import split_elements
from .nftables import FAMILY, TABLE

# include/uapi/linux/netfilter/nfnetlink.h, nf_tables.h, netlink.h
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
NFT_MSG_NEWCHAIN, NFT_MSG_DELCHAIN, NFT_MSG_NEWRULE, NFT_MSG_DELRULE = 3, 5, 6, 8
NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM = 12, 14
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE, NLM_F_APPEND = 0x1, 0x4, 0x400, 0x800
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
NFPROTO_IPV4 = 2
NFT_REG_VERDICT, NFT_REG_1, NFT_REG_2 = 0, 1, 2
NFT_JUMP, NFT_GOTO, NFT_RETURN = -3, -4, -5
NF_DROP, NF_ACCEPT = 0, 1
NFT_CMP_EQ, NFT_CMP_NEQ = 0, 1
NFT_PAYLOAD_NETWORK_HEADER = 1
NFT_META_L4PROTO = 16
NFT_NG_RANDOM = 1
NFT_NAT_DNAT = 1
NF_NAT_RANGE_PROTO_SPECIFIED = 2
UDATA_COMMENT = 0  # NFTNL_UDATA_RULE_COMMENT and NFTNL_UDATA_SET_ELEM_COMMENT
NFT_CHAIN_MAXNAMELEN = 256

_PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132}
_FIELD = {"ipv4_addr": 4, "inet_proto": 1, "inet_service": 2}
_COMMAND = re.compile(r"^(add|delete|flush) (chain|rule|element) (\S+) (\S+) (\S+)(?: (.*))?$")
_COMMENT = re.compile(r'^(.*?) comment "([^"\\]*)"$')
_BAD_NAME = re.compile(r'[\x00-\x20"{};]')
_CACHE = 1 << 16  # encoded pieces kept (IPs, chain names): a full sync of 10,000 services repeats many


class Unsupported(ValueError):
    """A command or rule form this encoder does not write: use ``nft -f`` for the transaction."""


@dataclass(frozen=True)
class Message:
    """One netlink message of the batch, and the command line it came from (for errors)."""

    type: int
    flags: int
    body: bytes
    line: str


# -- netlink attributes --------------------------------------------------------------------------
def _attr(kind: int, payload: bytes) -> bytes:
    header = struct.pack("=HH", 4 + len(payload), kind)
    return header + payload + b"\0" * (-len(payload) % 4)


def _nested(kind: int, *children: bytes) -> bytes:
    return _attr(kind | NLA_F_NESTED, b"".join(children))


def _str(kind: int, text: str) -> bytes:
    return _attr(kind, text.encode() + b"\0")


def _u32(kind: int, value: int) -> bytes:
    return _attr(kind, struct.pack(">I", value & 0xFFFFFFFF))


def _data_value(kind: int, value: bytes) -> bytes:
    return _nested(kind, _attr(1, value))  # NFTA_DATA_VALUE


@lru_cache(maxsize=_CACHE)
def _verdict_data(kind: int, verdict: str) -> bytes:
    """``goto X`` / ``jump X`` / ``drop`` / ``accept`` / ``return`` as NFTA_DATA_VERDICT."""
    words = verdict.split()
    if len(words) == 2 and words[0] in ("goto", "jump"):
        _check_name(words[1])
        code = NFT_GOTO if words[0] == "goto" else NFT_JUMP
        inner = _u32(1, code) + _str(2, words[1])  # NFTA_VERDICT_CODE, NFTA_VERDICT_CHAIN
    elif words in (["drop"], ["accept"], ["return"]):
        inner = _u32(1, {"drop": NF_DROP, "accept": NF_ACCEPT, "return": NFT_RETURN}[words[0]])
    else:
        raise Unsupported(verdict)
    return _nested(kind, _nested(2, inner))  # NFTA_DATA_VERDICT


def _udata_comment(comment: str) -> bytes:
    raw = comment.encode() + b"\0"
    if len(raw) > 255:
        raise Unsupported("comment longer than a udata TLV")
    return bytes([UDATA_COMMENT, len(raw)]) + raw


def _check_name(name: str) -> None:
    if not name or len(name.encode()) >= NFT_CHAIN_MAXNAMELEN or _BAD_NAME.search(name):
        raise Unsupported(f"name {name!r}")


# -- expressions ---------------------------------------------------------------------------------
def _expr(name: str, *attrs: bytes) -> bytes:
    return _nested(1, _str(1, name), _nested(2, *attrs))  # NFTA_LIST_ELEM {NFTA_EXPR_NAME, _DATA}


def _payload(offset: int, length: int) -> bytes:
    return _expr("payload", _u32(1, NFT_REG_1), _u32(2, NFT_PAYLOAD_NETWORK_HEADER),
                 _u32(3, offset), _u32(4, length))


def _cmp(op: int, value: bytes) -> bytes:
    return _expr("cmp", _u32(1, NFT_REG_1), _u32(2, op), _data_value(3, value))


@lru_cache(maxsize=_CACHE)
def _immediate_verdict(verdict: str) -> bytes:
    return _expr("immediate", _u32(1, NFT_REG_VERDICT), _verdict_data(2, verdict))


def _immediate_value(reg: int, value: bytes) -> bytes:
    return _expr("immediate", _u32(1, reg), _data_value(2, value))


@lru_cache(maxsize=_CACHE)
def _ip_match(field: str, negate: bool, value: str) -> tuple[bytes, bytes]:
    """``ip saddr|daddr [!=] A[/P]``: nft compares only the prefix's bytes (no bitwise for /8,/16,/24)."""
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise Unsupported(value) from exc
    if net.prefixlen % 8 or net.prefixlen == 0:
        raise Unsupported(f"prefix /{net.prefixlen}")
    length = net.prefixlen // 8
    offset = 12 if field == "saddr" else 16
    return (_payload(offset, length), _cmp(NFT_CMP_NEQ if negate else NFT_CMP_EQ,
                                           net.network_address.packed[:length]))


@lru_cache(maxsize=16)
def _meta_l4proto(proto: str) -> tuple[bytes, bytes]:
    return (_expr("meta", _u32(2, NFT_META_L4PROTO), _u32(1, NFT_REG_1)),
            _cmp(NFT_CMP_EQ, bytes([_PROTOCOLS[proto]])))


@lru_cache(maxsize=256)
def _numgen(modulus: int) -> tuple[bytes, bytes]:
    return (_expr("numgen", _u32(1, NFT_REG_1), _u32(2, modulus), _u32(3, NFT_NG_RANDOM)),
            _cmp(NFT_CMP_EQ, b"\0\0\0\0"))


@lru_cache(maxsize=_CACHE)
def _dnat(target: str) -> tuple[bytes, bytes, bytes]:
    """``dnat to IP:PORT``: the address and port in registers 1 and 2, then the nat expression."""
    ip, _, port = target.rpartition(":")
    try:
        packed = ipaddress.IPv4Address(ip).packed
        port_n = int(port)
    except ValueError as exc:
        raise Unsupported(target) from exc
    if not 0 < port_n < 65536:
        raise Unsupported(target)
    return (_immediate_value(NFT_REG_1, packed), _immediate_value(NFT_REG_2, struct.pack(">H", port_n)),
            _expr("nat", _u32(1, NFT_NAT_DNAT), _u32(2, NFPROTO_IPV4), _u32(3, NFT_REG_1),
                  _u32(5, NFT_REG_2), _u32(7, NF_NAT_RANGE_PROTO_SPECIFIED)))


def encode_rule(rule: str) -> bytes:
    """The NFTA_RULE_EXPRESSIONS of one rule body (no comment), or :class:`Unsupported`."""
    words = rule.split()
    exprs: list[bytes] = []
    i = 0
    while i < len(words):
        w = words[i]
        rest = len(words) - i
        if w == "ip" and rest >= 3 and words[i + 1] in ("saddr", "daddr"):
            negate = words[i + 2] == "!="
            value = words[i + 3] if negate and rest >= 4 else words[i + 2]
            exprs += _ip_match(words[i + 1], negate, value)
            i += 4 if negate else 3
        elif w == "meta" and rest >= 3 and words[i + 1] == "l4proto" and words[i + 2] in _PROTOCOLS:
            exprs += _meta_l4proto(words[i + 2])
            i += 3
        elif w == "numgen" and rest >= 5 and words[i + 1:i + 3] == ["random", "mod"] \
                and words[i + 3].isdigit() and words[i + 4] == "0":
            exprs += _numgen(int(words[i + 3]))
            i += 5
        elif w == "dnat" and rest == 3 and words[i + 1] == "to":
            exprs += _dnat(words[i + 2])
            i += 3
        elif w in ("jump", "goto") and rest == 2:
            exprs.append(_immediate_verdict(f"{w} {words[i + 1]}"))
            i += 2
        elif w in ("accept", "drop", "return") and rest == 1:
            exprs.append(_immediate_verdict(w))
            i += 1
        else:
            raise Unsupported(" ".join(words[i:]))
    if not exprs:
        raise Unsupported("empty rule")
    return _nested(4, *exprs)  # NFTA_RULE_EXPRESSIONS


# -- set and map elements -------------------------------------------------------------------------
def _key(set_type: str, key: str) -> bytes:
    """A key as nft lays it out: each field of a concatenation padded to 4 bytes."""
    fields = [f.strip() for f in set_type.partition(":")[0].split(".")]
    parts = [p.strip() for p in key.split(" . ")]
    if len(parts) != len(fields) or any(f not in _FIELD for f in fields):
        raise Unsupported(f"{key} for {set_type}")
    return b"".join(_field(kind, part) for kind, part in zip(fields, parts))


@lru_cache(maxsize=_CACHE)
def _field(kind: str, part: str) -> bytes:
    """One field of a key, padded to 4 bytes."""
    try:
        if kind == "ipv4_addr":
            raw = ipaddress.IPv4Address(part).packed
        elif kind == "inet_proto":
            raw = bytes([_PROTOCOLS[part]])
        else:
            raw = struct.pack(">H", int(part))
    except (ValueError, KeyError, struct.error) as exc:
        raise Unsupported(part) from exc
    return raw + b"\0" * (-len(raw) % 4)


def _element(set_type: str, text: str, with_data: bool) -> bytes:
    value = None
    if " : " in text:
        text, _, value = text.rpartition(" : ")
    comment = None
    m = _COMMENT.match(text.strip())
    if m:
        text, comment = m.group(1), m.group(2)
    is_map = ":" in set_type
    if is_map and with_data and value is None:
        raise Unsupported(f"map element without a value: {text}")
    attrs = [_data_value(1, _key(set_type, text.strip()))]  # NFTA_SET_ELEM_KEY
    if is_map and with_data and value is not None:
        if not set_type.rstrip().endswith("verdict"):
            raise Unsupported(set_type)
        attrs.append(_verdict_data(2, value.strip()))  # NFTA_SET_ELEM_DATA
    if comment is not None and with_data:
        attrs.append(_attr(6, _udata_comment(comment)))  # NFTA_SET_ELEM_USERDATA
    return _nested(1, *attrs)


# -- commands ------------------------------------------------------------------------------------
def _body(*attrs: bytes) -> bytes:
    return struct.pack("=BBH", NFPROTO_IPV4, 0, 0) + b"".join(attrs)  # struct nfgenmsg + attributes


def encode_line(line: str, set_types: dict[str, str]) -> Message:
    m = _COMMAND.match(line.strip())
    if not m or m.group(3) != FAMILY or m.group(4) != TABLE:
        raise Unsupported(line)
    verb, obj, _family, table, name, rest = m.groups()
    rest = (rest or "").strip()
    t = _str(1, table)
    sub = NFNL_SUBSYS_NFTABLES << 8
    if obj == "chain":
        _check_name(name)
        if rest:
            raise Unsupported(line)  # a hook, a policy or a comment: nft writes it
        kind, flags = {"add": (NFT_MSG_NEWCHAIN, NLM_F_CREATE), "flush": (NFT_MSG_DELRULE, 0),
                       "delete": (NFT_MSG_DELCHAIN, 0)}[verb]
        return Message(sub | kind, flags, _body(t, _str(3 if kind != NFT_MSG_DELRULE else 2, name)), line)
    if obj == "rule":
        if verb != "add":
            raise Unsupported(line)
        _check_name(name)
        cm = _COMMENT.match(rest)
        rule, comment = (cm.group(1), cm.group(2)) if cm else (rest, None)
        attrs = [t, _str(2, name), encode_rule(rule)]
        if comment is not None:
            attrs.append(_attr(7, _udata_comment(comment)))  # NFTA_RULE_USERDATA
        return Message(sub | NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, _body(*attrs), line)
    # element
    set_type = set_types.get(name)
    if set_type is None or verb == "flush" or not (rest.startswith("{") and rest.endswith("}")):
        raise Unsupported(line)
    adding = verb == "add"
    elements = [_element(set_type, e, adding) for e in split_elements(rest[1:-1])]
    kind = NFT_MSG_NEWSETELEM if adding else NFT_MSG_DELSETELEM
    return Message(sub | kind, NLM_F_CREATE if adding else 0,
                   _body(t, _str(2, name), _nested(3, *elements)), line)


def encode_transaction(text: str, set_types: dict[str, str]) -> list[Message]:
    """The messages of an ``nft -f`` transaction written by :func:`~.nft_sync.nft_update`.

    ``set_types`` maps each set or map of the table to its type (``NftSet.type``)."""
    return [encode_line(line, set_types) for line in text.splitlines() if line.strip()]


def batch(messages: list[Message], seq: int = 1) -> bytes:
    """The whole transaction as one nfnetlink batch: begin, the messages, end.

    Only the last message asks for an ack (as nft does, errors come unasked): one ack per message
    would overflow the socket's receive buffer when a sync writes thousands of them."""
    def header(kind: int, flags: int, n: int, body: bytes) -> bytes:
        return struct.pack("=IHHII", 16 + len(body), kind, flags, n, 0) + body

    subsys = struct.pack(">BBH", 0, 0, NFNL_SUBSYS_NFTABLES)  # nfgenmsg: AF_UNSPEC, v0, res_id (big-endian)
    out = [header(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq, subsys)]
    for i, msg in enumerate(messages, 1):
        ack = NLM_F_ACK if i == len(messages) else 0
        out.append(header(msg.type, NLM_F_REQUEST | ack | msg.flags, seq + i, msg.body))
    out.append(header(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + len(messages) + 1, subsys))
    return b"".join(out)


def parse_acks(data: bytes) -> list[tuple[int, int]]:
    """``(sequence, errno)`` of each NLMSG_ERROR in ``data`` (errno 0: an ack)."""
    out = []
    offset = 0
    while offset + 16 <= len(data):
        length, kind, _flags, seq, _pid = struct.unpack_from("=IHHII", data, offset)
        if length < 16:
            break
        if kind == NLMSG_ERROR and length >= 20:
            (error,) = struct.unpack_from("=i", data, offset + 16)
            (orig_seq,) = struct.unpack_from("=I", data, offset + 28) if length >= 36 else (seq,)
            out.append((orig_seq, -error))
        offset += (length + 3) & ~3
    return out
