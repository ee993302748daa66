"""labkit: build, inspect and draw Kubernetes networks for the kubenet-lab workshop.

The public surface is small and re-exported here; everything else lives in modules named after
what they hold (``embedded`` for the lab on this machine, ``inspect`` for parsers of node state,
``nodes`` for the one seam that reads a node).
"""
# Each import below loads its module first, then binds the function over the submodule's name:
# labkit.capture, labkit.probe, labkit.trace are the functions (the modules stay importable by path).
from .capture import capture
from .errors import BadInput, LabkitError
from .exercises.reveal import progress, solution
from .i18n import get_language, set_language
from .live import show
from .netpol.notebook import explain, reachability
from .netpol.probe import probe
from .trace import trace_cluster as trace


def __getattr__(name: str):
    """``labkit.connect`` / ``Cluster`` / ``ClusterSnapshot``, imported on first use (the kubernetes
    client is heavy, and the CLI's other commands do not need it)."""
    if name in ("connect", "Cluster"):
        from . import cluster
        return getattr(cluster, name)
    if name == "companion":
        from .companions import companion
        return companion
    if name == "service_reachability":
        from .service_probe import service_reachability
        return service_reachability
    if name == "ClusterSnapshot":
        from .snapshot import ClusterSnapshot
        return ClusterSnapshot
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


__all__ = ["LabkitError", "BadInput", "set_language", "get_language", "reachability", "explain", "probe",
           "trace", "capture", "service_reachability", "show", "connect", "Cluster", "ClusterSnapshot",
           "solution", "progress", "companion"]
__version__ = "0.1.0"
