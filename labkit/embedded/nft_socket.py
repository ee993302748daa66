"""A netlink socket into one node's nf_tables, for partial syncs written without ``nft``.

The socket is opened inside the node's network namespace by a worker thread (``netns.entered``)
and stays there; the messages come from :mod:`labkit.kubeproxy.nft_netlink` (pure). The kernel
applies the batch in ``sendmsg`` (nfnetlink_rcv_batch) and answers one ack per message (every
message asks for one), or an error for the first message it refused, in which case nothing of
the batch was applied.
"""
from __future__ import annotations

import os
import socket
import threading

from ..errors import LabkitError
from ..kubeproxy.nft_netlink import Message, batch, parse_acks
from . import netns as ns

NETLINK_NETFILTER = 12


class NftSocket:
    """One node's socket; :meth:`commit` is blocking (run it in a thread)."""

    def __init__(self, netns: str) -> None:
        self.netns = netns
        self._lock = threading.Lock()
        self._seq = 1
        with ns.entered(netns):
            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self._sock.bind((0, 0))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

    def close(self) -> None:
        self._sock.close()

    def commit(self, messages: list[Message]) -> None:
        """Send the batch; raise ``LabkitError`` (nothing applied) if the kernel refused a message."""
        if not messages:
            return
        with self._lock:
            seq = self._seq
            self._seq += len(messages) + 2
            self._sock.sendall(batch(messages, seq))
            wanted = {seq + i for i in range(1, len(messages) + 1)}
            while wanted:
                try:
                    data = self._sock.recv(1 << 16)
                except BlockingIOError:  # pragma: no cover - the socket is blocking
                    continue
                for got, err in parse_acks(data):
                    if err:
                        self._drain()
                        line = messages[got - seq - 1].line if 0 < got - seq <= len(messages) else "?"
                        raise LabkitError("kubeproxy.netlink_refused", where=self.netns, line=line[:200],
                                          error=os.strerror(err))
                    wanted.discard(got)

    def _drain(self) -> None:
        """Read what else the kernel said about this batch (errors for later messages), non-blocking."""
        while True:
            try:
                if not self._sock.recv(1 << 16, socket.MSG_DONTWAIT):
                    return
            except BlockingIOError:
                return
