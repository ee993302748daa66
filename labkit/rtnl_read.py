"""A pod's links, addresses and routes read in-process over rtnetlink: the I/O of
:mod:`labkit.inspect.rtnl` (which decodes the dumps as ``ip -j -d addr show`` / ``ip -j route show``
print them).

A thread enters the pod's network namespace with ``setns(2)`` (a network namespace belongs to a
thread: the process and its other threads stay where they are; a socket belongs to the namespace it
was created in), opens one ``NETLINK_ROUTE`` socket there and does the three dumps. The threads are
:func:`read_many`'s own and end with it: none goes back to other code in a pod's namespace.
"""
from __future__ import annotations

import ctypes
import os
import socket
import threading

from .inspect import rtnl

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def dump(sock: socket.socket, kind: int, body: bytes, seq: int) -> list[bytes]:
    """The payloads of one NLM_F_DUMP request of ``kind``."""
    sock.send(rtnl.request(kind, body, seq))
    out: list[bytes] = []
    while True:
        data = sock.recv(1 << 16)
        for mtype, payload in rtnl.messages(data):
            if mtype == rtnl.NLMSG_DONE:
                return out
            if mtype == rtnl.NLMSG_ERROR:
                error = rtnl.error_of(payload)
                if error:
                    raise OSError(-error, os.strerror(-error))
                return out
            out.append(payload)


def read_here() -> rtnl.Views:
    """(addr, route) JSON of the calling thread's network namespace."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        dumps = [dump(sock, kind, body, seq) for seq, (kind, body) in enumerate(rtnl.requests(), 1)]
    return rtnl.views(*dumps)


def enter(netns: str) -> None:
    """Move the calling thread into ``/run/netns/<netns>`` (or the namespace file ``netns``)."""
    fd = os.open(netns if "/" in netns else f"/run/netns/{netns}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), netns)
    finally:
        os.close(fd)


def read_netns(netns: str) -> rtnl.Views | None:
    """(addr, route) JSON of ``netns``, from the calling thread, which stays in ``netns`` afterwards
    (only :func:`read_many`'s threads call it); None if the namespace is gone or holds something
    the decoder leaves to ``ip`` (:class:`labkit.inspect.rtnl.Unsupported`)."""
    try:
        enter(netns)
        return read_here()
    except (OSError, rtnl.Unsupported):
        return None


def read_many(namespaces: list[str], threads: int = 4) -> dict[str, rtnl.Views | None]:
    """:func:`read_netns` of each namespace, from ``threads`` threads of their own, discarded after."""
    out: dict[str, rtnl.Views | None] = {}
    todo = list(namespaces)

    def work(share: list[str]) -> None:
        for ns in share:
            out[ns] = read_netns(ns)

    workers = [threading.Thread(target=work, args=(todo[i::threads],), name=f"rtnl-{i}", daemon=True)
               for i in range(min(threads, len(todo)))]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return out
