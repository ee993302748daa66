"""Diagrams of the three network layers, built from a ``ClusterSnapshot`` (pure: snapshot in, SVG out).

::

    from labkit import diagrams
    d = diagrams.pod_network(snapshot, lang="fr")   # a Drawing (Jupyter shows it)
    svg = diagrams.to_svg(d)                         # scales to its container (viewBox, width 100%)

Layers: :func:`pod_network` (blue), :func:`service_network` (green), :func:`policy_network` (red),
:func:`overview` (the three together). They only draw: what the snapshot says about devices
and routes comes from :mod:`labkit.wiring` (shared with :mod:`labkit.trace`), policy verdicts
from :mod:`labkit.netpol.groups`. Module map: ``layout`` (where nodes and pods go, deterministic
and stable), ``svg`` (the scene and its SVG), ``style`` (colours, sizes, title, legend),
``render`` (SVG/PNG), ``messages`` (EN/FR labels), ``synthetic`` (big scenes for tests).
"""
from .overview import overview
from .pods import Highlight, pod_network
from .policies import policy_network
from .render import save, to_png, to_svg
from .services import service_network
from .svg import Drawing

LAYERS = {"pods": pod_network, "services": service_network, "policies": policy_network, "overview": overview}

__all__ = ["Drawing", "Highlight", "LAYERS", "overview", "pod_network", "policy_network", "save", "service_network",
           "to_png", "to_svg"]
