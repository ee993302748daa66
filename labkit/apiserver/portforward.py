"""``pods/portforward``: a TCP connection to a pod's port, carried over the API's WebSocket.

Two clients, two protocols (both verified against the real clients):
- **kubectl 1.32** asks for the WebSocket subprotocol ``SPDY/3.1+portforward.k8s.io`` and runs a
  SPDY session inside it (see ``spdy``): per local connection, an *error* stream then a *data*
  stream with the same ``requestid``. The server answers each SYN_STREAM, connects to the port,
  pipes bytes both ways, and writes a failure as text on the error stream (kubectl prints it as
  ``an error occurred forwarding 8080 -> 80: ...`` and ends with ``lost connection to pod``).
- **the Python client** (``kubernetes.stream.portforward``) asks for ``v4.channel.k8s.io`` with
  ``?ports=80``: port *i* gets data channel ``2i`` and error channel ``2i+1``, and the first frame
  the server sends on each channel is the port number in 2 bytes, little-endian.

The connection is opened *inside* the pod (the runtime's ``port_connect``, to localhost as the
kubelet does), so network policies do not apply, as on a real cluster.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from . import spdy

SPDY_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
CHANNEL_PROTOCOL = "v4.channel.k8s.io"
PROTOCOLS = (SPDY_PROTOCOL, CHANNEL_PROTOCOL)
CHUNK = 32 * 1024
log = logging.getLogger(__name__)

Connector = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
Describe = Callable[[int, BaseException], str]


async def _pipe_to_pod(queue: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
    """Client bytes to the pod; ``None`` is the client's end of data (half-close)."""
    while (chunk := await queue.get()) is not None:
        writer.write(chunk)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


class _Forward:
    """One forwarded connection: the pod side, and what the client sent before it was open."""

    def __init__(self, port: int, error_id: int | None = None, data_id: int | None = None) -> None:
        self.port, self.error_id, self.data_id = port, error_id, data_id
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def streams(self) -> tuple[int, int]:
        """The SPDY (data, error) stream ids: both known before the forward starts."""
        assert self.data_id is not None and self.error_id is not None
        return self.data_id, self.error_id


class SpdySession:
    """The kubectl side: a SPDY/3.1 session over the WebSocket's binary messages."""

    def __init__(self, ws: web.WebSocketResponse, connect: Connector, describe: Describe) -> None:
        self.ws, self.connect, self.describe = ws, connect, describe
        self.codec = spdy.HeaderCodec()
        self.frames = spdy.FrameReader()
        self.lock = asyncio.Lock()
        self.pending: dict[str, _Forward] = {}     # requestid -> forward waiting for its data stream
        self.by_stream: dict[int, _Forward] = {}   # data stream id -> forward

    async def send(self, data: bytes) -> None:
        async with self.lock:
            if not self.ws.closed:
                await self.ws.send_bytes(data)

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    break
                for frame in self.frames.feed(msg.data):
                    if not await self.on_frame(frame):
                        return
        except (spdy.SpdyError, ConnectionError) as exc:
            log.debug("port-forward session ended: %s", exc)
        finally:
            for forward in list(self.by_stream.values()) + list(self.pending.values()):
                if forward.task:
                    forward.task.cancel()

    async def on_frame(self, frame: spdy.Frame) -> bool:
        if frame.type == spdy.SYN_STREAM:
            await self.on_stream(frame)
        elif frame.type == spdy.DATA:
            forward = self.by_stream.get(frame.stream_id)
            if forward is not None:
                if frame.payload:
                    forward.inbox.put_nowait(frame.payload)
                if frame.fin:
                    forward.inbox.put_nowait(None)
        elif frame.type == spdy.RST_STREAM:
            forward = self.by_stream.pop(frame.stream_id, None)
            if forward is not None and forward.task:
                forward.task.cancel()
        elif frame.type == spdy.PING:
            await self.send(spdy._control(spdy.PING, 0, frame.payload))
        elif frame.type == spdy.GOAWAY:
            return False
        return True

    async def on_stream(self, frame: spdy.Frame) -> None:
        headers = self.codec.syn_stream_headers(frame)
        await self.send(self.codec.syn_reply(frame.stream_id))
        try:
            port = int(headers.get("port", ""))
        except ValueError:
            await self.send(spdy.rst_stream(frame.stream_id, spdy.RST_PROTOCOL_ERROR))
            return
        request = headers.get("requestid", str(frame.stream_id))
        forward = self.pending.get(request) or _Forward(port)
        if headers.get("streamtype") == "error":
            forward.error_id = frame.stream_id
        else:
            forward.data_id = frame.stream_id
        if forward.data_id is None or forward.error_id is None:
            self.pending[request] = forward
            return
        self.pending.pop(request, None)
        self.by_stream[forward.data_id] = forward
        forward.task = asyncio.ensure_future(self.forward(forward))

    async def forward(self, fw: _Forward) -> None:
        data_id, error_id = fw.streams()
        try:
            reader, writer = await self.connect(fw.port)
        except (TimeoutError, OSError) as exc:
            await self.send(spdy.data_frame(error_id, self.describe(fw.port, exc).encode()))
            await self.finish(fw)
            return
        to_pod = asyncio.ensure_future(_pipe_to_pod(fw.inbox, writer))
        try:
            while chunk := await reader.read(CHUNK):
                await self.send(spdy.data_frame(data_id, chunk))
        except (ConnectionError, OSError):
            pass
        finally:
            to_pod.cancel()
            writer.close()
        await self.finish(fw)

    async def finish(self, fw: _Forward) -> None:
        data_id, error_id = fw.streams()
        self.by_stream.pop(data_id, None)
        try:
            await self.send(spdy.data_frame(data_id, fin=True))
            await self.send(spdy.data_frame(error_id, fin=True))
        except ConnectionError:
            pass


class ChannelForward:
    """The Python client's side: channel-numbered frames, one connection per requested port."""

    def __init__(self, ws: web.WebSocketResponse, connect: Connector, describe: Describe,
                 ports: list[int]) -> None:
        self.ws, self.connect, self.describe, self.ports = ws, connect, describe, ports
        self.lock = asyncio.Lock()

    async def send(self, channel: int, data: bytes) -> None:
        async with self.lock:
            if not self.ws.closed:
                await self.ws.send_bytes(bytes([channel]) + data)

    async def run(self) -> None:
        forwards = [_Forward(port) for port in self.ports]
        for index, port in enumerate(self.ports):
            for channel in (2 * index, 2 * index + 1):
                await self.send(channel, port.to_bytes(2, "little"))
        tasks = [asyncio.ensure_future(self.forward(i, fw)) for i, fw in enumerate(forwards)]
        client = asyncio.ensure_future(self.read_client(forwards))
        try:
            either: set[asyncio.Future[Any]] = {client, asyncio.gather(*tasks)}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            client.cancel()
            for task in tasks:
                task.cancel()
            await self.ws.close()

    async def read_client(self, forwards: list[_Forward]) -> None:
        async for msg in self.ws:
            if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                break
            data = msg.data if msg.type == WSMsgType.BINARY else msg.data.encode()
            if data and data[0] % 2 == 0 and data[0] // 2 < len(forwards):
                forwards[data[0] // 2].inbox.put_nowait(data[1:])

    async def forward(self, index: int, fw: _Forward) -> None:
        try:
            reader, writer = await self.connect(fw.port)
        except (TimeoutError, OSError) as exc:
            await self.send(2 * index + 1, self.describe(fw.port, exc).encode())
            return
        to_pod = asyncio.ensure_future(_pipe_to_pod(fw.inbox, writer))
        try:
            while chunk := await reader.read(CHUNK):
                await self.send(2 * index, chunk)
        except (ConnectionError, OSError):
            pass
        finally:
            to_pod.cancel()
            writer.close()


def requested_ports(request: web.Request) -> list[int]:
    """``?ports=80&ports=81`` or ``?ports=80,81`` (both forms are seen)."""
    ports = []
    for value in request.query.getall("ports", []) + request.query.getall("port", []):
        for part in value.split(","):
            ports.append(int(part))
    return ports
