"""kube-proxy, explained: generate its iptables/nftables rules and read them back from a node.

Pure logic only (NOTES.md in ``reference/kube-proxy`` is the spec): manifests become
:class:`ServicePort`/:class:`Endpoint` records, the generators write exactly what kube-proxy
writes, and the parsers turn what ``iptables-save`` / ``nft list ruleset`` / ``nft -j`` print on a
real node into a :class:`ServiceMap` (services, endpoints, the share of new connections each
endpoint gets, and the chains a connection traverses).
"""
from ..inspect.kube_proxy import detect_format, read_service_map
from ..inspect.servicemap import (
    EndpointEntry,
    Frontend,
    ServiceEntry,
    ServiceMap,
    Trace,
    format_table,
    trace,
)
from .iptables import JumpRule, jump_rules, render_iptables
from .manifests import from_objects, load_manifests
from .model import Endpoint, NodeContext, ProxyInput, ServicePort, categorize_endpoints
from .nftables import NftRuleset, render_nftables

__all__ = [
    "Endpoint", "ServicePort", "NodeContext", "ProxyInput", "categorize_endpoints",
    "load_manifests", "from_objects",
    "render_iptables", "jump_rules", "JumpRule", "render_nftables", "NftRuleset",
    "read_service_map", "detect_format",
    "ServiceMap", "ServiceEntry", "EndpointEntry", "Frontend", "Trace", "trace", "format_table",
]
