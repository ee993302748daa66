"""The setup that notebooks 03 and 03b share: the lab, ``kubectl`` pointed at it, and two helpers.

``open_lab()`` finds the lab (``LABKIT_LAB``, else ``kubenet``, the one ``make lab`` started),
sets ``KUBECONFIG`` for the notebook's ``!kubectl`` (the lab's own kubeconfig for root, else the
user's copy of it), connects labkit to it and reads its shape from its API (CNI, ranges, proxy
mode, nodes): what needs no root, so a kernel of an ordinary user runs it unchanged.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any


def open_lab(lab: str | None = None) -> tuple[str, Any, dict]:
    """``(name, cluster, shape)`` of the lab, with ``KUBECONFIG`` set for ``!kubectl``."""
    from .cluster import connect
    from .embedded.userconfig import readable_kubeconfig
    from .nodes import lab_shape

    name = lab or os.environ.get("LABKIT_LAB", "kubenet")
    os.environ["KUBECONFIG"] = str(readable_kubeconfig(name))
    cluster = connect(lab=name)
    return name, cluster, lab_shape(cluster)


def grep(text: str, *words: str) -> None:
    """Print the lines of ``text`` that contain every word (like ``grep a | grep b``)."""
    for line in text.splitlines():
        if all(w in line for w in words):
            print(line)


def wait_for(predicate: Callable[[], Any], timeout: float = 30) -> None:
    """Wait until ``predicate()`` is true: kube-proxy rewrites the rules a moment after a change."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the cluster did not reach the expected state in time")
        time.sleep(0.2)
