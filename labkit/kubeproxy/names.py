"""Chain, set and map names exactly as kube-proxy computes them.

The names carry a hash of the service port (and endpoint), so a learner can match what
``iptables-save`` or ``nft list`` shows on a node with the Service it came from. The two modes
hash different strings: iptables hashes ``ns/name:port`` + protocol (+ endpoint) with no
separator and keeps 16 base32 characters; nftables hashes a slash-joined readable name, keeps 8
characters and appends the readable name itself (NOTES.md §1.1, §3.4).
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

# nftables: chain names are limited to 256 bytes; kube-proxy keeps 16 spare for prefixes.
_NFT_BASE_MAX = 256 - 16


@lru_cache(maxsize=65536)
def _b32_sha256(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()


def port_proto_hash(service_port_name: str, protocol: str) -> str:
    """The 16-character hash shared by KUBE-SVC/SVL/EXT/FW chains of one service port."""
    return _b32_sha256(service_port_name + protocol.lower())[:16]


def svc_chain(spn: str, protocol: str) -> str:
    return "KUBE-SVC-" + port_proto_hash(spn, protocol)


def svl_chain(spn: str, protocol: str) -> str:
    return "KUBE-SVL-" + port_proto_hash(spn, protocol)


def ext_chain(spn: str, protocol: str) -> str:
    return "KUBE-EXT-" + port_proto_hash(spn, protocol)


def fw_chain(spn: str, protocol: str) -> str:
    return "KUBE-FW-" + port_proto_hash(spn, protocol)


def sep_chain(spn: str, protocol: str, endpoint: str) -> str:
    """``endpoint`` is ``ip:port`` (``[ip6]:port`` for IPv6), the *target* port."""
    return "KUBE-SEP-" + _b32_sha256(spn + protocol.lower() + endpoint)[:16]


def _hash_and_truncate(name: str) -> str:
    name = _b32_sha256(name)[:8] + "-" + name
    if len(name) > _NFT_BASE_MAX:
        name = name[: _NFT_BASE_MAX - 3] + "..."
    return name


def nft_service_base(namespace: str, name: str, protocol: str, port_name: str) -> str:
    """``HASH-ns/name/proto/portname``: the common part of service-/local-/external-/firewall- chains."""
    return _hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name}")


def nft_endpoint_base(namespace: str, name: str, protocol: str, port_name: str, ip: str, port: int) -> str:
    """``HASH-ns/name/proto/portname__ip/port``: endpoint- chains and affinity- sets."""
    ip = ip.replace(":", ".")  # IPv6 colons are not allowed in nft names
    return _hash_and_truncate(f"{namespace}/{name}/{protocol.lower()}/{port_name}__{ip}/{port}")
