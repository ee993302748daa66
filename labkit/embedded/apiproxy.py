"""The ``kubernetes`` Service for pods: 10.96.0.1:443 → the control plane's 6443 → the lab's API.

The API server listens on 127.0.0.1 only (this machine's loopback). On a kind cluster, pods reach
it through the ``kubernetes`` Service, whose endpoint is the control-plane node's address on port
6443. The lab does the same: a socket opened inside the control-plane node's namespace on port
6443 relays each connection to the loopback API (TLS passes through untouched), and the
``kubernetes`` EndpointSlice and Endpoints point at it.
"""
from __future__ import annotations

import asyncio
import socket

from .netns import entered

API_NODE_PORT = 6443


def _listen(netns: str, port: int) -> socket.socket:
    with entered(netns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        s.setblocking(False)
    return s


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class ApiRelay:
    def __init__(self, netns: str, api_port: int) -> None:
        self.netns, self.api_port = netns, api_port
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        sock = await loop.run_in_executor(None, _listen, self.netns, API_NODE_PORT)
        self.server = await asyncio.start_server(self._relay, sock=sock)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.api_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        if self.server:
            self.server.close()


def kubernetes_endpoints(node_ip: str) -> list[tuple[str, dict]]:
    """The objects the real API server keeps for its own Service."""
    labels = {"kubernetes.io/service-name": "kubernetes",
              "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [node_ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": API_NODE_PORT, "protocol": "TCP"}]}
    endpoints = {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default"},
        "subsets": [{"addresses": [{"ip": node_ip}],
                     "ports": [{"name": "https", "port": API_NODE_PORT, "protocol": "TCP"}]}]}
    return [("discovery.k8s.io/endpointslices", endpoint_slice), ("core/endpoints", endpoints)]
