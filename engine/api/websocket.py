"""The server side of RFC 6455 for `GET /containers/{id}/attach/ws`: the opening
handshake on the connection's h11 state machine, then frames both ways.

Only what attach needs: the server sends unmasked binary frames (dockerd's since API
1.42); client frames must be masked (RFC 6455 5.1), text/binary/continuation
payloads are container input, a ping gets its pong, a close gets the close echoed
and ends the session.  A frame above MAX_FRAME bytes closes with 1009."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

import h11

from engine.api.http import Request, standard_headers
from engine.errors import InvalidArgument

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_FRAME = 16 << 20
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> bytes:
    return base64.b64encode(hashlib.sha1(key.strip().encode("latin-1") + GUID).digest())


def frame(payload: bytes, opcode: int = BINARY) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack(">BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 127, n)
    return head + payload


class WebSocket:
    """A hijacked connection after the handshake: `send(data)` frames output,
    `feed(raw)` turns client bytes into input, answering control frames."""

    def __init__(self, request: Request) -> None:
        key = request.headers.get("sec-websocket-key", "")
        if "websocket" not in request.headers.get("upgrade", "").lower() or not key:
            raise InvalidArgument("this endpoint needs a websocket handshake (Upgrade: websocket)")
        if request.headers.get("sec-websocket-version", "13").strip() != "13":
            raise InvalidArgument("unsupported websocket version: 13 is served")
        request.drain()
        request.conn.send(h11.InformationalResponse(status_code=101, reason=b"Switching Protocols", headers=(
            standard_headers() + [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
                                  (b"Sec-WebSocket-Accept", accept_key(key))])))
        request.responded = True
        request.conn.hijacked = True
        self.sock: socket.socket = request.conn.sock
        self.pending = bytes(request.conn.h11.trailing_data[0])
        self._buf = b""
        self.closed = False

    def send(self, data: bytes, opcode: int = BINARY) -> bool:
        try:
            self.sock.sendall(frame(data, opcode))
            return True
        except OSError:
            return False

    def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.closed = True
            self.send(struct.pack(">H", code), CLOSE)

    def feed(self, raw: bytes) -> bytes:
        """Input payloads in `raw` (with what is buffered); `closed` is set on a close
        frame or a protocol error."""
        self._buf += raw
        out = bytearray()
        while not self.closed:
            parsed = self._next()
            if parsed is None:
                break
            opcode, payload = parsed
            if opcode in (CONT, TEXT, BINARY):
                out += payload
            elif opcode == PING:
                self.send(payload, PONG)
            elif opcode == CLOSE:
                self.close(struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1000)
        return bytes(out)

    def _next(self) -> tuple[int, bytes] | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        opcode, second = buf[0] & 0x0F, buf[1]
        length, at = second & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, at = struct.unpack(">H", buf[2:4])[0], 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, at = struct.unpack(">Q", buf[2:10])[0], 10
        if not second & 0x80:
            self.close(1002)  # an unmasked client frame is a protocol error
            return None
        if length > MAX_FRAME:
            self.close(1009)
            return None
        if len(buf) < at + 4 + length:
            return None
        mask = buf[at:at + 4]
        data = buf[at + 4:at + 4 + length]
        self._buf = buf[at + 4 + length:]
        if length:
            key = (mask * (length // 4 + 1))[:length]
            data = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
        return opcode, data
