"""``pods/exec``, ``pods/attach`` and ``pods/log``: the streaming subresources.

Exec speaks the Kubernetes channel protocol over WebSocket (``v5.channel.k8s.io``, which kubectl
1.30+ offers alone, and ``v4`` for older Python clients): each binary frame starts with a channel
byte, 0 stdin, 1 stdout, 2 stderr, 3 the final Status (how kubectl learns the exit code), 4 resize,
and in v5 ``0xFF <channel>`` closes a channel (stdin EOF). The Python client sends stdin written
as ``str`` in TEXT frames, so both frame types are read.

kubectl falls back to SPDY (a POST) when the WebSocket upgrade fails and then prints the SPDY
error, so the real reason is returned on both attempts.

A runtime may offer more than ``PodRuntime`` requires, and each extra is used when present:
``attach`` (the container's main process, with its output replayed to the first attacher),
``log_source`` (a ``LogBuffer`` per container: ``--tail``, ``--timestamps``, ``-f``) and
``port_connect`` (``pods/portforward``, see ``portforward``). Without them, attach runs the
container's command as an exec and logs are polled text, which is what ``LocalRuntime`` offers.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from aiohttp import WSMsgType, web

from .. import i18n
from . import container_status, envvars, ephemeral, status
from .api import PODS, Api
from .handlers import Target
from .logbuffer import LogBuffer, render
from .portforward import (
    CHANNEL_PROTOCOL,
    SPDY_PROTOCOL,
    ChannelForward,
    SpdySession,
    requested_ports,
)
from .portforward import PROTOCOLS as FORWARD_PROTOCOLS
from .runtime import ExecProcess, PodRuntime
from .status import ApiError

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
log = logging.getLogger(__name__)


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Streams:
    def __init__(self, api: Api, runtime: PodRuntime, lang: str | None = None) -> None:
        self.api, self.runtime, self.lang = api, runtime, lang

    def subresources(self) -> dict:
        return {"pods/exec": self.exec, "pods/attach": self.attach, "pods/log": self.log,
                "pods/portforward": self.portforward}

    def _pod(self, target: Target, request: web.Request,
             completed_ok: bool = False) -> tuple[dict, str]:
        pod = self.api.get(PODS, target.namespace or "", target.named)
        names = [c["name"] for c in pod["spec"].get("containers", [])]
        container = request.query.get("container") or (names[0] if names else "")
        if container not in ephemeral.names(pod):
            raise status.bad_request("api.bad_container", container=container, name=target.name)
        phase = pod.get("status", {}).get("phase")
        if completed_ok and phase in ("Succeeded", "Failed"):
            return pod, container
        if phase != "Running" or not pod.get("status", {}).get("podIP"):
            raise status.bad_request("api.pod_not_running", name=target.name)
        return pod, container

    def _check_upgrade(self, request: web.Request) -> None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            raise status.bad_request("api.exec_needs_websocket")

    async def exec(self, request: web.Request, target: Target) -> web.StreamResponse:
        pod, container = self._pod(target, request)
        command = request.query.getall("command", [])
        if not command:
            raise status.bad_request("api.exec_no_command")
        self._check_upgrade(request)
        ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0, compress=False)
        await ws.prepare(request)
        try:
            proc = await self.runtime.exec(envvars.running(self.api, pod), command,
                                           _flag(request, "stdin"),
                                           _flag(request, "tty"), container=container)
        except FileNotFoundError:
            await self._finish(ws, ApiError(500, "InternalError", "api.exec_not_found",
                                            command=command[0]).status(self.lang))
            return ws
        except Exception as exc:  # noqa: BLE001 - reported on the error channel
            await self._finish(ws, ApiError(500, "InternalError", "api.internal",
                                            error=exc).status(self.lang))
            return ws
        code = await self._relay(ws, proc)
        if code is None:
            return ws
        if code == 0:
            result = {"metadata": {}, "status": "Success"}
        else:
            result = {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                      "message": ApiError(500, "NonZeroExitCode", "api.exec_failed",
                                          command=f"[{' '.join(command)}]",
                                          exit_code=code).message(self.lang),
                      "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        await self._finish(ws, result)
        return ws

    async def attach(self, request: web.Request, target: Target) -> web.StreamResponse:
        """Attach to the container's main process.

        Runtimes that keep a main process provide ``attach``; otherwise the container's
        ``command + args`` is started on attach (the emulated container's process), which is
        what ``kubectl run -it --rm`` needs. With ``restartPolicy: Never`` its exit ends the pod
        (Succeeded/Failed, ``terminated.exitCode``), which kubectl reports as its own exit code.
        """
        attach = getattr(self.runtime, "attach", None)
        pod, container = self._pod(target, request, completed_ok=attach is not None)
        debug = ephemeral.find(pod, container)
        if debug is not None:          # kubectl debug: the process starts on attach
            if ephemeral.terminated(pod, container):
                raise status.bad_request("ephemeral.terminated", container=container,
                                         name=target.name)
            attach, spec, argv = None, debug, ephemeral.argv(debug)
        else:
            spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
            argv = list(spec.get("command") or []) + list(spec.get("args") or [])
        if attach is None and not argv:
            raise status.bad_request("api.attach_unsupported")
        stdin, tty = _flag(request, "stdin"), _flag(request, "tty")
        if attach is not None:
            try:
                proc = await attach(pod, container, stdin, tty)
            except LookupError:
                phase = pod["status"].get("phase")
                if phase in ("Succeeded", "Failed"):
                    raise status.bad_request("stream.completed_pod", phase=phase) from None
                raise status.bad_request("stream.no_process", container=container,
                                         name=target.name, image=spec.get("image", "")) from None
        ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0, compress=False)
        try:
            self._check_upgrade(request)
            await ws.prepare(request)
        except BaseException:
            if attach is not None:
                proc.kill()      # for an attachment, "kill" means detach
            raise
        if attach is None:
            try:
                proc = await self.runtime.exec(envvars.running(self.api, pod), argv, stdin, tty,
                                               container=container)
            except FileNotFoundError:
                await self._finish(ws, ApiError(500, "InternalError", "api.exec_not_found",
                                                command=argv[0]).status(self.lang))
                return ws
        code = await self._relay(ws, proc)
        if code is None:
            return ws
        if debug is not None:
            ephemeral.ended(self.api, pod, container, code)
        elif attach is None:
            self._terminated(pod, container, code)
        # kubectl reads the exit code of an attached container from the pod status.
        await self._finish(ws, {"metadata": {}, "status": "Success"})
        return ws

    def _terminated(self, pod: dict, container: str, code: int) -> None:
        policy = pod["spec"].get("restartPolicy", "Always")
        if policy == "Always":
            return
        meta = pod["metadata"]
        current = self.api.store.get(PODS, meta["namespace"], meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return
        self.api.store.put(PODS, container_status.terminated(current, container, code))

    async def _relay(self, ws: web.WebSocketResponse, proc: ExecProcess) -> int | None:
        """Pump output to the client and its input to the process; the exit code, or None
        when the client went away first (the process is then killed)."""
        lock = asyncio.Lock()   # aiohttp interleaves frames of concurrent writers

        async def pump(stream: asyncio.StreamReader | None, channel: int) -> None:
            if stream is None:
                return
            while chunk := await stream.read(65536):
                async with lock:
                    await ws.send_bytes(bytes([channel]) + chunk)

        async def read_client() -> None:
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    data = msg.data
                elif msg.type == WSMsgType.TEXT:
                    data = msg.data.encode()
                else:
                    break
                if not data:
                    continue
                channel, payload = data[0], data[1:]
                if channel == STDIN:
                    await proc.write_stdin(payload)
                elif channel == CLOSE and payload[:1] == bytes([STDIN]):
                    await proc.close_stdin()
                elif channel == RESIZE:
                    try:
                        size = json.loads(payload)
                        proc.resize(int(size.get("Width", 0)), int(size.get("Height", 0)))
                    except (ValueError, AttributeError):
                        pass

        client = asyncio.ensure_future(read_client())
        pumps = asyncio.gather(pump(proc.stdout, STDOUT), pump(proc.stderr, STDERR))
        waiter = asyncio.ensure_future(proc.wait())
        try:
            done, _ = await asyncio.wait({waiter, client}, return_when=asyncio.FIRST_COMPLETED)
            if waiter not in done:
                proc.kill()
                await waiter
                return None
            await pumps
            return waiter.result()
        except (ConnectionResetError, asyncio.CancelledError):
            proc.kill()
            raise
        finally:
            client.cancel()
            if not pumps.done():
                pumps.cancel()

    async def _finish(self, ws: web.WebSocketResponse, result: dict) -> None:
        try:
            await ws.send_bytes(bytes([ERROR]) + json.dumps(result).encode())
            await ws.close()
        except ConnectionResetError:
            pass

    async def log(self, request: web.Request, target: Target) -> web.StreamResponse:
        pod, container = self._pod_for_log(target, request)
        source = getattr(self.runtime, "log_source", None)
        buffer = source(pod, container) if source else None
        if buffer is not None:
            return await self._log_buffer(request, pod, buffer)
        text = await self.runtime.logs(pod, container)
        tail = request.query.get("tailLines")
        if tail and tail.lstrip("-").isdigit():
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail):]) if int(tail) > 0 else ""
        if not _flag(request, "follow"):
            return web.Response(text=text, content_type="text/plain")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(text.encode())
        sent = len(await self.runtime.logs(pod, container))
        while request.transport is not None and not request.transport.is_closing():
            await asyncio.sleep(0.5)
            if not self._same_pod(pod):
                break
            full = await self.runtime.logs(pod, container)
            if len(full) > sent:
                await response.write(full[sent:].encode())
                sent = len(full)
        return response

    def _same_pod(self, pod: dict) -> bool:
        meta = pod["metadata"]
        current = self.api.store.get(PODS, meta.get("namespace", ""), meta["name"])
        return current is not None and current["metadata"]["uid"] == meta["uid"]

    async def _log_buffer(self, request: web.Request, pod: dict,
                          buffer: LogBuffer) -> web.StreamResponse:
        """``tailLines``, ``sinceSeconds``, ``timestamps`` and ``follow`` over a ``LogBuffer``.

        Following ends when the container ends (as kubelet's does), when the pod is deleted, or
        when the client goes away.
        """
        tail = _int(request.query.get("tailLines"))
        since_seconds = _int(request.query.get("sinceSeconds"))
        since = time.time() - since_seconds if since_seconds is not None else None
        stamps = _flag(request, "timestamps")
        entries = buffer.read(tail=tail if tail is not None and tail >= 0 else None, since=since)
        last = buffer.last_seq
        if not _flag(request, "follow"):
            return web.Response(body=render(entries, stamps), content_type="text/plain")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(render(entries, stamps))
        while request.transport is not None and not request.transport.is_closing():
            await buffer.wait(last, 0.5)
            entries = buffer.read(after=last)
            if entries:
                last = entries[-1].seq
                await response.write(render(entries, stamps))
            elif buffer.ended or not self._same_pod(pod):
                break
        return response

    def _pod_for_log(self, target: Target, request: web.Request) -> tuple[dict, str]:
        pod = self.api.get(PODS, target.namespace or "", target.named)
        names = [c["name"] for c in pod["spec"].get("containers", [])]
        container = request.query.get("container") or (names[0] if names else "")
        if container not in ephemeral.names(pod):
            raise status.bad_request("api.bad_container", container=container, name=target.name)
        return pod, container

    async def portforward(self, request: web.Request, target: Target) -> web.StreamResponse:
        """``kubectl port-forward`` and the Python client's ``portforward`` (see ``portforward``)."""
        pod = self.api.get(PODS, target.namespace or "", target.named)
        if pod.get("status", {}).get("phase") != "Running":
            raise status.bad_request("api.pod_not_running", name=target.name)
        connect = getattr(self.runtime, "port_connect", None)
        if connect is None:
            raise status.bad_request("stream.portforward_unsupported")
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        if request.headers.get("Upgrade", "").lower() != "websocket" or not any(
                p in offered for p in FORWARD_PROTOCOLS):
            raise status.bad_request("stream.portforward_needs_websocket")
        ports: list[int] = []
        if SPDY_PROTOCOL not in offered:
            try:
                ports = requested_ports(request)
            except ValueError:
                ports = []
            if not ports or not all(1 <= p <= 65535 for p in ports):
                raise status.bad_request("stream.bad_ports",
                                         ports=",".join(request.query.getall("ports", [])))
        ws = web.WebSocketResponse(protocols=FORWARD_PROTOCOLS, max_msg_size=0, compress=False)
        await ws.prepare(request)
        meta = pod["metadata"]

        def describe(port: int, exc: BaseException) -> str:
            error = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return i18n.t("stream.portforward_failed", self.lang, port=port, pod=meta["name"],
                          uid=meta.get("uid", ""), error=error.lower())

        async def open_port(port: int):
            return await connect(pod, port)

        if ws.ws_protocol == SPDY_PROTOCOL:
            await SpdySession(ws, open_port, describe).run()
        elif ws.ws_protocol == CHANNEL_PROTOCOL:
            await ChannelForward(ws, open_port, describe, ports).run()
        await ws.close()
        return ws
