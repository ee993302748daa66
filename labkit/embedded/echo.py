"""The pods' echo responder: one asyncio loop serves every pod's ports.

A pod's server must live in the pod's network namespace, but a process per pod would cost
megabytes each. A socket stays in the namespace where it was created, so a worker thread enters
the pod's namespace, opens the listening sockets and comes back; the daemon's single event loop
then serves them all. An idle pod costs a few sockets.

Answers (like ``traefik/whoami``): TCP with an HTTP request gets an HTTP response; any other
TCP line or UDP datagram gets the same JSON on one line:
``{"pod", "namespace", "node", "pod_ip", "client_ip", "client_port", "port", "protocol"}``.
Pods whose image answers otherwise (``images.Image.answers``) get what that image sends:
``hostname`` the pod's name alone (serve_hostname), ``netexec`` agnhost netexec's paths
(``/hostname``, ``/clientip``, ``/echo?msg=``; kubernetes test/images/agnhost/netexec/netexec.go).
"""
from __future__ import annotations

import asyncio
import collections
import functools
import json
import socket
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .netns import entered

HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")
ACCESS_LOG_LINES = 1000


@dataclass(frozen=True)
class PodIdentity:
    namespace: str
    name: str
    node: str
    ip: str
    netns: str
    serves_dns: bool = False   # a CoreDNS pod: port 53 answers DNS instead of echoing
    answers: str = "echo"      # echo | hostname | netexec (see the module docstring)


def image_body(pod: PodIdentity, client: tuple, path: str, protocol: str) -> bytes | None:
    """What an image that is not the echo responder sends back (None: the echo JSON)."""
    if pod.answers == "hostname":
        return pod.name.encode()
    if pod.answers != "netexec":
        return None
    route, _, query = path.partition("?")
    words = route.strip().split(" ", 1) if protocol == "UDP" else [route]
    command = words[0].strip("/")
    if command == "hostname":
        return pod.name.encode()
    if command == "clientip":
        return f"{client[0]}:{client[1]}".encode()
    if command == "echo":
        if protocol == "UDP":
            return (words[1] if len(words) > 1 else "").encode()
        params = urllib.parse.parse_qs(query)
        return (params.get("msg") or [""])[0].encode()
    return f"NOW: {time.strftime('%Y-%m-%d %H:%M:%S.000000000 +0000 UTC', time.gmtime())}".encode()


def answer(pod: PodIdentity, client: tuple, port: int, protocol: str) -> dict:
    return {"pod": pod.name, "namespace": pod.namespace, "node": pod.node, "pod_ip": pod.ip,
            "client_ip": client[0], "client_port": client[1], "port": port, "protocol": protocol}


def open_sockets(netns: str, ports: list[tuple[int, str]]) -> list[tuple[socket.socket, int, str]]:
    """Open listening sockets inside ``netns`` (called in a worker thread)."""
    opened = []
    with entered(netns):
        try:
            for port, protocol in ports:
                kind = socket.SOCK_DGRAM if protocol == "UDP" else socket.SOCK_STREAM
                s = socket.socket(socket.AF_INET, kind)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", port))
                if kind == socket.SOCK_STREAM:
                    s.listen(128)
                s.setblocking(False)
                opened.append((s, port, protocol))
        except BaseException:
            for s, _, _ in opened:
                s.close()
            raise
    return opened


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, responder: EchoResponder, pod: PodIdentity, port: int) -> None:
        self.responder, self.pod, self.port = responder, pod, port

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.responder.log(self.pod, f"{addr[0]}:{addr[1]} UDP {self.port} {len(data)} bytes")
        reply = image_body(self.pod, addr, data.decode(errors="replace").strip(), "UDP")
        if reply is None:
            reply = (json.dumps(answer(self.pod, addr, self.port, "UDP")) + "\n").encode()
        self.transport.sendto(reply, addr)


class _DnsUdp(asyncio.DatagramProtocol):
    def __init__(self, responder: EchoResponder) -> None:
        self.responder = responder

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        reply = self.responder.dns_answer(data)
        if reply:
            self.transport.sendto(reply, addr)


class EchoResponder:
    """Serves every pod of a lab; ``serve`` / ``stop`` follow the pods' lives."""

    def __init__(self) -> None:
        # Set by the daemon once the API store exists: bytes of a DNS query -> bytes of the answer.
        self.dns_resolver: Callable[[bytes], bytes] | None = None
        # Another reader of every access-log line (the runtime copies them into the pod's log).
        self.also_log: Callable[[PodIdentity, str], None] | None = None
        self._servers: dict[str, list[asyncio.BaseTransport | asyncio.Server]] = {}
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="netns")
        self.access_logs: dict[str, collections.deque] = {}

    def log(self, pod: PodIdentity, line: str) -> None:
        key = f"{pod.namespace}/{pod.name}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.access_logs.setdefault(key, collections.deque(maxlen=ACCESS_LOG_LINES)).append(
            f"{stamp} {line}")
        if self.also_log is not None:
            self.also_log(pod, line)

    async def serve(self, pod: PodIdentity, ports: list[tuple[int, str]]) -> None:
        key = f"{pod.namespace}/{pod.name}"
        await self.stop(key)
        if not ports:
            self._servers[key] = []
            return
        loop = asyncio.get_running_loop()
        sockets = await loop.run_in_executor(self._executor, open_sockets, pod.netns, ports)
        servers: list[asyncio.BaseTransport | asyncio.Server] = []
        for sock, port, protocol in sockets:
            if pod.serves_dns and port == 53:
                if protocol == "UDP":
                    transport, _ = await loop.create_datagram_endpoint(lambda: _DnsUdp(self),
                                                                       sock=sock)
                    servers.append(transport)
                else:
                    servers.append(await asyncio.start_server(self._handle_dns_tcp, sock=sock))
            elif protocol == "UDP":
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Udp, self, pod, port), sock=sock)
                servers.append(transport)
            else:
                server = await asyncio.start_server(
                    functools.partial(self._handle_tcp, pod, port), sock=sock)
                servers.append(server)
        self._servers[key] = servers

    async def stop(self, key: str) -> None:
        for server in self._servers.pop(key, []):
            server.close()

    async def stop_all(self) -> None:
        for key in list(self._servers):
            await self.stop(key)

    def dns_answer(self, query: bytes) -> bytes:
        return self.dns_resolver(query) if self.dns_resolver else b""

    async def _handle_dns_tcp(self, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
        """DNS over TCP: each message is prefixed by its 2-byte length (RFC 1035 §4.2.2)."""
        try:
            while True:
                size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 10), "big")
                reply = self.dns_answer(await reader.readexactly(size))
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _handle_tcp(self, pod: PodIdentity, port: int, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        try:
            first = await asyncio.wait_for(reader.readline(), timeout=10)
            body = (json.dumps(answer(pod, peer, port, "TCP")) + "\n").encode()
            if first.startswith(HTTP_METHODS):
                while True:  # skip the headers
                    line = await asyncio.wait_for(reader.readline(), timeout=10)
                    if line in (b"\r\n", b"\n", b""):
                        break
                method, _, rest = first.decode(errors="replace").partition(" ")
                path = rest.split(" ", 1)[0]
                self.log(pod, f'{peer[0]}:{peer[1]} "{method} {path}" 200')
                kind = "application/json"
                other = image_body(pod, peer, path, "TCP")
                if other is not None:
                    body, kind = other, "text/plain; charset=utf-8"
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
                writer.write(head + (b"" if method == "HEAD" else body))
            else:
                self.log(pod, f"{peer[0]}:{peer[1]} TCP {port}")
                writer.write(pod.name.encode() if pod.answers == "hostname" else body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
