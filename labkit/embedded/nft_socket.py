"""A netlink socket into one node's nf_tables, for partial syncs written without ``nft``.

The socket is opened inside the node's network namespace by a worker thread (``netns.entered``)
and stays there; the messages come from :mod:`labkit.kubeproxy.nft_netlink` (pure). The kernel
applies the batch in ``sendmsg`` (nfnetlink_rcv_batch) and answers an error for each message it
refused (then nothing of the batch was applied), else the ack the last message asks for. The
send buffer is raised to the batch's size first, as nft does (``SO_SNDBUFFORCE``): a netlink
message larger than the buffer is refused whole.
"""
from __future__ import annotations

import os
import socket
import threading

from ..errors import LabkitError
from ..kubeproxy.nft_netlink import Message, batch, parse_acks
from . import netns as ns

NETLINK_NETFILTER = 12
SO_SNDBUFFORCE = 32  # asm-generic/socket.h
TIMEOUT = 30.0  # seconds to wait for the kernel's acks (a commit at 30,000 services takes ~0.2 s)


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
        self._sock.settimeout(TIMEOUT)  # the kernel answers within the commit; never hang a sync

    def close(self) -> None:
        self._sock.close()

    def commit(self, messages: list[Message]) -> None:
        """Send the batch; raise ``LabkitError`` (nothing applied) if the kernel refused a message."""
        if not messages:
            return
        with self._lock:
            seq = self._seq
            self._seq += len(messages) + 2
            data = batch(messages, seq)
            self._fit(len(data))
            self._sock.sendall(data)
            last = seq + len(messages)
            while True:
                try:
                    data = self._sock.recv(1 << 16)
                except TimeoutError as exc:
                    raise LabkitError("kubeproxy.netlink_refused", where=self.netns, line=messages[0].line[:200],
                                      error=f"no answer in {TIMEOUT:.0f} s") from exc
                for got, err in parse_acks(data):
                    if err:
                        self._drain()
                        line = messages[got - seq - 1].line if 0 < got - seq <= len(messages) else "?"
                        raise LabkitError("kubeproxy.netlink_refused", where=self.netns, line=line[:200],
                                          error=os.strerror(err))
                    if got == last:
                        return

    def _fit(self, size: int) -> None:
        if self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= size + 4096:
            return
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, size + 4096)
        except OSError:  # not root: as much as the system allows (a larger batch is then refused)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size + 4096)

    def _drain(self) -> None:
        """Read what else the kernel said about this batch (errors for later messages), non-blocking."""
        while True:
            try:
                if not self._sock.recv(1 << 16, socket.MSG_DONTWAIT):
                    return
            except BlockingIOError:
                return
