"""Diagrams of the three network layers, built from a ``ClusterSnapshot`` (pure: snapshot in, Digraph out).

::

    from labkit import diagrams
    g = diagrams.pod_network(snapshot, lang="fr")   # a graphviz.Digraph (Jupyter shows it)
    svg = diagrams.to_svg(g)

Layers: :func:`pod_network` (blue), :func:`service_network` (green), :func:`policy_network` (red),
:func:`overview` (the three together). Module map: ``wiring`` (what the snapshot says about
devices and routes, shared with :mod:`labkit.trace`), ``style`` (colours, fonts, legend),
``render`` (SVG/PNG), ``messages`` (EN/FR labels).
"""
from . import messages  # noqa: F401  (registers the catalog)
from .overview import overview
from .pods import Highlight, pod_network
from .policies import policy_network
from .render import save, to_png, to_svg
from .services import service_network

LAYERS = {"pods": pod_network, "services": service_network, "policies": policy_network, "overview": overview}

__all__ = ["Highlight", "LAYERS", "overview", "pod_network", "policy_network", "save", "service_network",
           "to_png", "to_svg"]
