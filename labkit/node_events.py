"""Changes inside the nodes (routes, addresses, interfaces), as events for the live diagrams.

The API server's watches only see Kubernetes objects; a route deleted by hand inside a node (the
break-and-fix exercises) changes no object. So the live view also follows the nodes:

* embedded lab, root kernel: one ``ip -n <node netns> monitor link address route`` per node,
  iproute2's netlink event subscriber (RTNLGRP_LINK / IFADDR / ROUTE multicast groups); every line
  it prints is a change, reported within milliseconds;
* embedded lab, ordinary user (JupyterLab as the learner, a kubeconfig copy): the lab daemon
  follows the same netlink groups in every node with pyroute2 (:mod:`labkit.embedded.netwatch`)
  and serves them as a watch, ``GET /labkit/v1/nodeevents`` (:mod:`labkit.apiserver.nodeevents`);
  the stream is resumed from the last generation seen when it ends;
* otherwise (kind, another cluster, a lab daemon without that watch): every :data:`POLL_SECONDS`,
  a fingerprint of ``ip -j addr`` and ``ip -j route`` read through the node seam
  (:mod:`labkit.nodes`); a node that cannot be read is left alone after the first failure.
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
        return _monitor([n for n in netns.values() if n], changed, done)
    if getattr(cluster, "via_api", False):
        return _watch_lab(cluster.api, changed, done, fallback=lambda: _poll(accesses, changed, done))
    return _poll(accesses, changed, done)


NODE_EVENTS_PATH = "/labkit/v1/nodeevents"
WATCH_SECONDS = 60


def stream_get(api, path: str, query: list[tuple[str, object]], timeout: tuple[float, float]):
    """An authenticated GET whose body is read as it comes (a watch): the urllib3 response."""
    params = api.param_serialize("GET", path, query_params=query, auth_settings=["BearerToken"])
    return api.call_api(*params, _request_timeout=timeout).response


def read_lines(response):
    """The lines of a streamed body (one JSON object each), as they arrive."""
    buffer = b""
    for chunk in response.stream(4096, decode_content=True):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line


def _watch_lab(api, changed: threading.Event, done: threading.Event, fallback: Callable) -> Callable[[], None]:
    """Follow the lab daemon's node events; a daemon without them (404) falls back to polling."""
    import json

    state = {"response": None, "fallback": None}

    def run() -> None:
        generation = None
        while not done.is_set():
            try:
                query: list[tuple[str, object]] = [("timeoutSeconds", WATCH_SECONDS)]
                if generation is not None:
                    query.append(("resourceVersion", generation))
                response = stream_get(api, NODE_EVENTS_PATH, query, (5, WATCH_SECONDS + 10))
                if response.status == 404:
                    response.release_conn()
                    state["fallback"] = fallback()
                    return
                state["response"] = response
                for line in read_lines(response):
                    if done.is_set():
                        break
                    event = json.loads(line)
                    if event.get("type") != "BOOKMARK":
                        changed.set()
                    generation = event.get("generation", generation)
                response.release_conn()
            except Exception:  # noqa: BLE001 - the live view's heartbeat says when the lab is lost
                done.wait(1.0)

    threading.Thread(target=run, name="labkit-node-events", daemon=True).start()

    def stop() -> None:
        response = state["response"]
        if response is not None:
            try:
                response.shutdown() if hasattr(response, "shutdown") else response.close()
            except Exception:  # noqa: BLE001
                pass
        if state["fallback"]:
            state["fallback"]()
    return stop


def _monitor(namespaces: list[str], changed: threading.Event, done: threading.Event) -> Callable[[], None]:
    procs = []
    for ns in namespaces:
        proc = subprocess.Popen(["ip", "-n", ns, "monitor", "link", "address", "route"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)

        def read(p: subprocess.Popen = proc) -> None:
            for _ in p.stdout or ():
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
