"""SPDY/3.1 framing, just what ``kubectl port-forward`` speaks.

kubectl 1.32 does not use a channel protocol for port-forward: it opens a WebSocket with the
subprotocol ``SPDY/3.1+portforward.k8s.io`` and runs a SPDY/3.1 session *inside* it (the WebSocket
binary messages are a plain byte stream), as client-go's ``tunneling_dialer`` does; the API server
would translate that to SPDY towards the kubelet, and we are both. Each forwarded connection is
two SPDY streams opened by the client (``streamtype: error`` then ``streamtype: data``, same
``port`` and ``requestid``). Header blocks are zlib-compressed with the dictionary defined by the
SPDY/3 draft (section 2.6.10.1), one compression context per direction for the whole session.

The client (moby/spdystream) does no flow control, so WINDOW_UPDATE is read and ignored.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

VERSION = 3
DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS = 0, 1, 2, 3, 4
PING, GOAWAY, HEADERS, WINDOW_UPDATE = 6, 7, 8, 9
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_CANCEL, RST_INTERNAL_ERROR = 1, 5, 6
MAX_FRAME = (1 << 24) - 1

_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language "
    "accept-ranges age allow authorization cache-control connection content-base "
    "content-encoding content-language content-length content-location content-md5 "
    "content-range content-type date etag expect expires from host if-match if-modified-since "
    "if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer "
    "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status "
    "200_OK version HTTP/1.1 url public set-cookie keep-alive origin").split()
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")


def _dictionary() -> bytes:
    """The SPDY/3 header dictionary: length-prefixed common words, then a raw tail."""
    words = (w.replace("_", " ").encode() for w in _WORDS)
    return b"".join(struct.pack(">I", len(w)) + w for w in words) + _TAIL.encode()


DICTIONARY = _dictionary()


class SpdyError(Exception):
    """The peer sent something this session cannot go on with."""


@dataclass(frozen=True)
class Frame:
    type: int             # DATA (0) or a control frame type
    flags: int
    stream_id: int        # 0 for control frames without a stream (SETTINGS, PING, GOAWAY)
    payload: bytes        # for control frames: the bytes after the stream id, if any

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class FrameReader:
    """Turns a byte stream into frames; bytes may arrive cut anywhere."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            length = int.from_bytes(self._buf[5:8], "big")
            if len(self._buf) < 8 + length:
                break
            head, body = bytes(self._buf[:8]), bytes(self._buf[8:8 + length])
            del self._buf[:8 + length]
            frames.append(_parse(head, body))
        return frames


def _parse(head: bytes, body: bytes) -> Frame:
    flags = head[4]
    if not head[0] & 0x80:
        return Frame(DATA, flags, int.from_bytes(head[:4], "big") & 0x7FFFFFFF, body)
    version = int.from_bytes(head[:2], "big") & 0x7FFF
    kind = int.from_bytes(head[2:4], "big")
    if version != VERSION:
        raise SpdyError(f"unsupported SPDY version {version}")
    if kind in (SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE) and len(body) >= 4:
        return Frame(kind, flags, int.from_bytes(body[:4], "big") & 0x7FFFFFFF, body[4:])
    return Frame(kind, flags, 0, body)


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload


def data_frame(stream_id: int, data: bytes = b"", fin: bool = False) -> bytes:
    return struct.pack(">II", stream_id & 0x7FFFFFFF,
                       ((FLAG_FIN if fin else 0) << 24) | len(data)) + data


def rst_stream(stream_id: int, status: int = RST_CANCEL) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack(">I", ping_id))


class HeaderCodec:
    """One side's header compression contexts (they live as long as the session)."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15,
                                         zdict=DICTIONARY)

    def decode(self, block: bytes) -> dict[str, str]:
        try:
            raw = self._inflate.decompress(block)
        except zlib.error as exc:
            raise SpdyError(f"bad header block: {exc}") from exc
        return parse_header_block(raw)

    def encode(self, headers: dict[str, str]) -> bytes:
        raw = build_header_block(headers)
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_stream_headers(self, frame: Frame) -> dict[str, str]:
        """A SYN_STREAM's payload after its stream id: associated id (4), priority (2), block."""
        return self.decode(frame.payload[6:])

    def syn_reply(self, stream_id: int, headers: dict[str, str] | None = None,
                  fin: bool = False) -> bytes:
        block = self.encode(headers or {})
        return _control(SYN_REPLY, FLAG_FIN if fin else 0, struct.pack(">I", stream_id) + block)

    def syn_stream(self, stream_id: int, headers: dict[str, str], fin: bool = False) -> bytes:
        """What a client sends to open a stream (used by the tests to play kubectl)."""
        block = self.encode(headers)
        return _control(SYN_STREAM, FLAG_FIN if fin else 0,
                        struct.pack(">IIH", stream_id, 0, 0) + block)


def parse_header_block(raw: bytes) -> dict[str, str]:
    """Name/value pairs (32-bit lengths); several values of one name are NUL-separated."""
    try:
        (count,), offset = struct.unpack_from(">I", raw), 4
        headers = {}
        for _ in range(count):
            (size,) = struct.unpack_from(">I", raw, offset)
            name = raw[offset + 4:offset + 4 + size].decode().lower()
            offset += 4 + size
            (size,) = struct.unpack_from(">I", raw, offset)
            headers[name] = raw[offset + 4:offset + 4 + size].decode().split("\0")[0]
            offset += 4 + size
        return headers
    except (struct.error, UnicodeDecodeError) as exc:
        raise SpdyError(f"bad header block: {exc}") from exc


def build_header_block(headers: dict[str, str]) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, value in headers.items():
        n, v = name.lower().encode(), value.encode()
        out.append(struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v)
    return b"".join(out)
