"""kube-proxy, explained: generate its iptables/nftables rules and read them back from a node.

Pure logic only (NOTES.md in ``reference/kube-proxy`` is the spec): manifests become
:class:`ServicePort`/:class:`Endpoint` records, the generators write exactly what kube-proxy
writes, and the parsers turn what ``iptables-save`` / ``nft list ruleset`` / ``nft -j`` print on a
real node into a :class:`ServiceMap` (services, endpoints, the share of new connections each
endpoint gets, and the chains a connection traverses).
"""
from . import messages  # noqa: F401  (registers the catalog)
