"""One HTTP/1.1 connection of the API service, on h11 (the sans-IO HTTP/1.1
state machine httpx is built on: request framing, keep-alive and chunked
encoding are its, not ours).

A handler gets a `Request` and answers through it: `send_json`, `send_bytes`,
`send_empty`, `stream()` for chunked JSON lines / multiplexed log frames, or
`hijack()` to take the raw socket over (attach, exec start: Docker's
`Upgrade: tcp` dance answers 101, a client that did not ask gets 200 and the raw
stream right after the head, as dockerd does).
"""

from __future__ import annotations

import json
import socket
from http import HTTPStatus
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from engine.errors import HullError, InvalidArgument

API_VERSION = "1.44"
MIN_API_VERSION = "1.24"
LIBPOD_API_VERSION = "5.0.0"
SERVER = "Libpod/5.0.0 (linux)"

MAX_HEADER_BYTES = 64 << 10
MAX_JSON_BODY = 16 << 20
_READ = 64 << 10


def reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


class BodyTooLarge(HullError):
    http_status = 413


def standard_headers() -> list[tuple[bytes, bytes]]:
    """Headers every response carries: docker clients negotiate on API-Version,
    podman-py reads Libpod-API-Version."""
    return [
        (b"Api-Version", API_VERSION.encode()),
        (b"Libpod-Api-Version", LIBPOD_API_VERSION.encode()),
        (b"Server", SERVER.encode()),
        (b"Docker-Experimental", b"false"),
        (b"Ostype", b"linux"),
    ]


class Request:
    """One request on a connection.  The body is read on demand (`body()`,
    `json()`, `iter_body()`), so uploads (image load, build contexts, archive
    PUT) can be streamed to disk instead of held in memory."""

    def __init__(self, conn: "Connection", event: h11.Request) -> None:
        self.conn = conn
        self.method = event.method.decode("ascii")
        self.target = event.target.decode("latin-1")
        parts = urlsplit(self.target)
        self.raw_path = unquote(parts.path)
        self.path = self.raw_path          # the router strips /vX.Y and /libpod
        self.api_version: str | None = None
        self.libpod = False
        self.query: dict[str, list[str]] = parse_qs(parts.query, keep_blank_values=True)
        self.headers: dict[str, str] = {}
        for name, value in event.headers:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text
        self._body_done = False
        self.responded = False

    # -- query helpers -------------------------------------------------------------
    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def flag(self, name: str, default: bool = False) -> bool:
        """Docker's booleans: 1/true/True/yes; an empty value counts as true."""
        value = self.arg(name)
        if value is None:
            return default
        return value.lower() in ("", "1", "true", "yes", "on")

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.arg(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidArgument(f"invalid value for {name}: {value!r} is not an integer") from None

    def json_arg(self, name: str) -> Any:
        """A query parameter holding JSON (Docker's `filters`, `buildargs`, ...)."""
        value = self.arg(name)
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise InvalidArgument(f"invalid JSON in query parameter {name}") from None

    # -- body ----------------------------------------------------------------------
    def iter_body(self) -> Iterator[bytes]:
        if self._body_done:
            return
        while True:
            event = self.conn.next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._body_done = True
                return
            else:  # ConnectionClosed mid-body
                self._body_done = True
                raise InvalidArgument("request body ended early")

    def body(self, limit: int = MAX_JSON_BODY) -> bytes:
        chunks, size = [], 0
        for chunk in self.iter_body():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"request body larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def json(self, required: bool = False) -> Any:
        data = self.body()
        if not data.strip():
            if required:
                raise InvalidArgument("request body is required")
            return {}
        try:
            return json.loads(data)
        except ValueError as exc:
            raise InvalidArgument(f"invalid JSON in request body: {exc}") from None

    def drain(self) -> None:
        for _ in self.iter_body():
            pass

    # -- responses -----------------------------------------------------------------
    def _head(self, status: int, headers: list[tuple[bytes, bytes]], length: int | None) -> None:
        self.conn.send(self._response(status, headers, length))

    def _response(self, status: int, headers: list[tuple[bytes, bytes]], length: int | None) -> h11.Response:
        all_headers = standard_headers() + headers
        if length is not None:
            all_headers.append((b"Content-Length", str(length).encode()))
        self.responded = True
        return h11.Response(status_code=status, headers=all_headers, reason=reason(status))

    def send_bytes(self, data: bytes, status: int = 200, content_type: str = "application/json",
                   headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self._finish_body()
        head = self._response(status, [(b"Content-Type", content_type.encode())] + (headers or []), len(data))
        if data and self.method != "HEAD" and status not in (204, 304):  # those carry no body
            self.conn.send(head, h11.Data(data=data), h11.EndOfMessage())
        else:
            self.conn.send(head, h11.EndOfMessage())

    def send_json(self, doc: Any, status: int = 200) -> None:
        self.send_bytes(json.dumps(doc).encode() + b"\n", status)

    def send_empty(self, status: int = 204) -> None:
        self._finish_body()
        self.conn.send(self._response(status, [], None if status in (204, 304) else 0), h11.EndOfMessage())

    def stream(self, status: int = 200, content_type: str = "application/json") -> "Stream":
        """Chunked response: each `write` is sent at once (logs -f, events, pull progress)."""
        self._finish_body()
        self._head(status, [(b"Content-Type", content_type.encode())], None)
        return Stream(self.conn)

    def hijack(self, content_type: str = "application/vnd.docker.raw-stream") -> socket.socket:
        """Take the connection over for raw bytes both ways (attach, exec start).
        The request body, if any, is not read: the client's stdin follows the head."""
        upgrade = "upgrade" in self.headers.get("connection", "").lower()
        headers = standard_headers() + [(b"Content-Type", content_type.encode())]
        if upgrade:
            proto = self.headers.get("upgrade", "tcp").encode("latin-1")
            self.conn.send(h11.InformationalResponse(
                status_code=101, reason=b"UPGRADED", headers=headers + [(b"Connection", b"Upgrade"), (b"Upgrade", proto)]))
            data, _closed = self.conn.h11.trailing_data
        else:
            # h11 cannot send a framing-less 200 that never ends: write the head ourselves.
            head = b"HTTP/1.1 200 OK\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"
            self.conn.sock.sendall(head)
            data = bytes(self.conn.h11.trailing_data[0]) if self.conn.h11.trailing_data else b""
        self.responded = True
        self.conn.hijacked = True
        self.conn.pending_input = bytes(data)
        return self.conn.sock

    def _finish_body(self) -> None:
        if not self._body_done:
            try:
                self.drain()
            except HullError:
                pass


class Stream:
    def __init__(self, conn: "Connection") -> None:
        self.conn = conn
        self.closed = False

    def write(self, data: bytes) -> None:
        if data:
            self.conn.send(h11.Data(data=data))

    def write_json(self, doc: Any) -> None:
        self.write(json.dumps(doc).encode() + b"\n")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.send(h11.EndOfMessage())


class ClientGone(Exception):
    """The peer closed the connection while we were writing (a `logs -f` ended by ^C)."""


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        self.hijacked = False
        self.pending_input = b""

    def next_event(self) -> Any:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                try:
                    data = self.sock.recv(_READ)
                except ConnectionError:
                    data = b""
                self.h11.receive_data(data)
                continue
            return event

    def send(self, *events: Any) -> None:
        """Frame `events` and write them with one sendall (a response in one write)."""
        data = b"".join(self.h11.send(e) or b"" for e in events)
        if data:
            try:
                self.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise ClientGone() from exc

    def requests(self) -> Iterator[Request]:
        """Requests on this connection, one after another (keep-alive)."""
        while True:
            try:
                event = self.next_event()
            except h11.RemoteProtocolError as exc:
                self._bad_request(exc)
                return
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return
            if not isinstance(event, h11.Request):
                return
            request = Request(self, event)
            yield request
            if self.hijacked:
                return
            try:
                request._finish_body()
                if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is h11.MUST_CLOSE:
                    return
                self.h11.start_next_cycle()
            except (h11.LocalProtocolError, h11.RemoteProtocolError):
                return

    def _bad_request(self, exc: h11.RemoteProtocolError) -> None:
        body = json.dumps({"message": f"bad request: {exc}"}).encode() + b"\n"
        status = exc.error_status_hint or 400
        try:
            self.send(h11.Response(status_code=status, reason=reason(status), headers=standard_headers() + [
                (b"Content-Type", b"application/json"), (b"Content-Length", str(len(body)).encode()),
                (b"Connection", b"close")]))
            self.send(h11.Data(data=body))
            self.send(h11.EndOfMessage())
        except (h11.LocalProtocolError, ClientGone, OSError):
            pass
