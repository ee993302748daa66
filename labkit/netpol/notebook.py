"""The notebook face of network policies: ``labkit.reachability``, ``labkit.explain``, ``labkit.probe``.

A *cluster* here is any handle ``labkit.cluster`` knows: a ``labkit.connect()`` cluster, the
name of a running embedded lab, or a ``ClusterSnapshot`` (a fixture, a cluster read earlier); only
the API objects are read (namespaces, pods, policies). Everything returned renders as a table in Jupyter (``_repr_html_``) and as text with
``print``::

    import labkit
    labkit.reachability("kubenet", port=80)             # predicted by the policy engine
    labkit.probe("kubenet", namespaces="x,y,z")          # real packets, compared with the prediction
    labkit.explain("kubenet", "x/a", "y/b", port=80)     # why, rule by rule

By default the ``kube-system`` pods are left out of the tables (they are still peers).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .explain import Explanation
from .handle import as_snapshot, engine, restrict, shown_pods, split_namespaces
from .matrix import Reachability

__all__ = ["as_snapshot", "engine", "explain", "reachability", "restrict", "shown_pods", "split_namespaces"]


def reachability(cluster: Any = "kubenet", port: int = 80, protocol: str = "TCP",
                 namespaces: str | Iterable[str] | None = None, **options: bool) -> Reachability:
    """Who may connect to whom on ``port``/``protocol``, as the policies say (no packet sent)."""
    eng = engine(cluster, **options)
    return restrict(eng.reachability(port, protocol), shown_pods(eng, namespaces))


def explain(cluster: Any, src: str, dst: str, port: int = 80, protocol: str = "TCP",
            **options: bool) -> Explanation:
    """Why ``src`` may or may not open a connection to ``dst`` (``namespace/name``)."""
    return engine(cluster, **options).explain(src, dst, port, protocol)
