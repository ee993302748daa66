"""Changes inside the nodes (routes, addresses, interfaces), as events for the live diagrams.

The API server's watches only see Kubernetes objects; a route deleted by hand inside a node (the
break-and-fix exercises) changes no object. So the live view also follows the nodes:

* embedded lab, root kernel: one ``ip -n <node netns> monitor link address route`` per node,
  iproute2's netlink event subscriber (RTNLGRP_LINK / IFADDR / ROUTE multicast groups, what
  pyroute2's ``IPRoute().bind()`` gives too, without running pyroute2's event loop inside a
  Jupyter kernel); every line it prints is a change, reported within milliseconds;
* otherwise (a non-root kernel, kind, another cluster): every :data:`POLL_SECONDS`, a fingerprint
  of ``ip -j addr`` and ``ip -j route`` read through the node seam (:mod:`labkit.nodes`); a node
  that cannot be read is left alone after the first failure.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable

POLL_SECONDS = 1.0


def follow_nodes(cluster, changed: threading.Event, done: threading.Event) -> Callable[[], None]:
    """Set ``changed`` on every node change until ``done``; returns a function that stops it all."""
    try:
        names = cluster.node_names()
    except Exception:  # noqa: BLE001 - the live view's heartbeat says when the cluster is lost
        return lambda: None
    accesses = {}
    for name in names:
        try:
            accesses[name] = cluster.node(name)
        except Exception:  # noqa: BLE001
            continue
    netns = {n: getattr(a, "netns", None) for n, a in accesses.items()}
    if os.geteuid() == 0 and shutil.which("ip") and netns and all(netns.values()):
        return _monitor(list(netns.values()), changed, done)
    return _poll(accesses, changed, done)


def _monitor(namespaces: list[str], changed: threading.Event, done: threading.Event) -> Callable[[], None]:
    procs = []
    for ns in namespaces:
        proc = subprocess.Popen(["ip", "-n", ns, "monitor", "link", "address", "route"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)

        def read(p: subprocess.Popen = proc) -> None:
            for _ in p.stdout:
                if done.is_set():
                    break
                changed.set()
        threading.Thread(target=read, name=f"labkit-netlink-{ns}", daemon=True).start()

    def stop() -> None:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
    return stop


def fingerprint(access) -> str:
    text = access.run(["ip", "-j", "addr", "show"]) + access.run(["ip", "-j", "route", "show"])
    return hashlib.sha256(text.encode()).hexdigest()


def _poll(accesses: dict, changed: threading.Event, done: threading.Event) -> Callable[[], None]:
    def run() -> None:
        seen: dict[str, str] = {}
        readable = dict(accesses)
        while not done.wait(POLL_SECONDS):
            for name, access in list(readable.items()):
                try:
                    now = fingerprint(access)
                except Exception:  # noqa: BLE001 - this node cannot be read from here
                    readable.pop(name)
                    continue
                if name in seen and seen[name] != now:
                    changed.set()
                seen[name] = now
    threading.Thread(target=run, name="labkit-node-poll", daemon=True).start()
    return lambda: None
