"""labkit: build, inspect and draw Kubernetes networks for the kubenet-lab workshop.

The public surface is small and re-exported here; everything else lives in modules named after
what they hold (``embedded`` for the lab on this machine, ``inspect`` for parsers of node state,
``nodes`` for the one seam that reads a node).

The public names are imported on first use (PEP 562): ``import labkit`` stays cheap, so the
``labkit`` command and the daemon load only what they use (the capture decoder, the tracer, the
Kubernetes client and the widgets are heavy).
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from .errors import BadInput, LabkitError
from .i18n import get_language, set_language

if TYPE_CHECKING:                       # what the type checker sees; nothing is imported at run time
    from .capture import capture
    from .cluster import Cluster, connect
    from .companions import companion
    from .exercises.reveal import progress, solution
    from .live import show
    from .netpol.notebook import explain, reachability
    from .netpol.probe import probe
    from .service_probe import service_reachability
    from .snapshot import ClusterSnapshot
    from .trace import trace_cluster as trace

# public name -> (module, attribute)
_LAZY = {
    "capture": ("labkit.capture", "capture"),
    "trace": ("labkit.trace", "trace_cluster"),
    "probe": ("labkit.netpol.probe", "probe"),
    "reachability": ("labkit.netpol.notebook", "reachability"),
    "explain": ("labkit.netpol.notebook", "explain"),
    "show": ("labkit.live", "show"),
    "solution": ("labkit.exercises.reveal", "solution"),
    "progress": ("labkit.exercises.reveal", "progress"),
    "connect": ("labkit.cluster", "connect"),
    "Cluster": ("labkit.cluster", "Cluster"),
    "companion": ("labkit.companions", "companion"),
    "service_reachability": ("labkit.service_probe", "service_reachability"),
    "ClusterSnapshot": ("labkit.snapshot", "ClusterSnapshot"),
}
# labkit.capture and labkit.trace are the functions; their modules stay importable by path.
_FUNCTIONS_OVER_MODULES = frozenset({"capture", "trace"})


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # Tab completion in a notebook lists the public names before their first use.
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        # Importing the submodule labkit.capture binds it on the package (importlib's
        # _find_and_load); keep the public name for the function, resolved by __getattr__.
        if name in _FUNCTIONS_OVER_MODULES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = ["LabkitError", "BadInput", "set_language", "get_language", "reachability", "explain", "probe",
           "trace", "capture", "service_reachability", "show", "connect", "Cluster", "ClusterSnapshot",
           "solution", "progress", "companion"]
__version__ = "0.1.0"
