"""The embedded lab's Kubernetes-compatible API server (asyncio + aiohttp).

The real ``kubectl`` and the official ``kubernetes`` Python client talk to it unchanged:
discovery, OpenAPI for ``apply``, server-side Tables, watch, strategic merge patch, the protobuf
bodies of ``kubectl create``, exec over WebSocket. It listens on 127.0.0.1 over HTTPS with the
lab's own CA and a bearer token. Pods run through a ``PodRuntime``: the embedded lab plugs in the
real one; ``LocalRuntime`` is a stand-in for tests.

Layout: ``resources`` (the one table of kinds), ``store`` (objects, resourceVersions, watch
history, files), ``api`` (the verbs), ``handlers``/``streams`` (HTTP), ``controllers``,
``kubelet``, ``workloads`` (what a cluster does on its own), ``server`` (lifecycle).
"""
from .runtime import ExecProcess, LocalRuntime, NodeInfo, PodRuntime, kind_like_nodes
from .server import ApiServer
from .validation import register_validator

__all__ = ["ApiServer", "PodRuntime", "ExecProcess", "NodeInfo", "LocalRuntime",
           "kind_like_nodes", "register_validator"]
