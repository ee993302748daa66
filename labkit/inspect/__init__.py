"""Pure parsers of node state (what ``ip -j``, ``iptables-save``, ``nft`` print) into typed records.

Nothing here runs a command: the text comes from a node seam (``labkit.nodes``), a recorded
fixture or a kind node's ``docker exec``, so the same parsers serve every kind of cluster.
"""
