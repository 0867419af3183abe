"""Byte streams of the Docker API: the 8-byte multiplexed framing, the pump between a
hijacked client socket and a container's stdio, and a request body as a file.

Framing (no TTY): `[stream, 0, 0, 0, size (4 bytes big-endian)] + payload`, stream
0 stdin, 1 stdout, 2 stderr; with a TTY the bytes go raw.
"""

from __future__ import annotations

import io
import os
import select
import socket
import struct
from typing import Any, Callable, Iterator

RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"


def mux(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


def out_bytes(tty: bool, stream: int, data: bytes) -> bytes:
    return data if tty else mux(stream, data)


class BodyReader(io.RawIOBase):
    """A request body as a readable binary file (archive PUT streams into extraction)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self.buf and not self.done:
            try:
                self.buf = next(self.chunks)
            except StopIteration:
                self.done = True
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


class StreamWriter(io.RawIOBase):
    """A chunked response stream as a writable binary file (export, archive GET)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.stream.write(data)
        return len(data)


def send_all(sock: socket.socket, data: bytes) -> bool:
    """False when the client has gone."""
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def pump(client: socket.socket, pending: bytes, *, read_fds: dict[int, Callable[[bytes], bool]],
         on_input: Callable[[bytes], bool] | None, on_input_eof: Callable[[], None] | None,
         extra: dict[int, Callable[[], bool]] | None = None) -> None:
    """select() loop: each fd of `read_fds` has a handler (data, b"" at EOF) returning
    False to end the loop; client input goes to `on_input` (False: stop, e.g.
    detached); `extra` fds get a bare callback.  Ends when a handler says so, when
    every read fd is at EOF, or when the client is gone and nothing reads its input."""
    watch_client = on_input is not None
    if pending and on_input is not None and not on_input(pending):
        return
    fds = dict(read_fds)
    extra = dict(extra or {})
    while fds:
        watch = list(fds) + list(extra) + ([client] if watch_client else [])
        try:
            ready, _, _ = select.select(watch, [], [])
        except InterruptedError:
            continue
        for r in ready:
            if r is client:
                try:
                    data = client.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    watch_client = False
                    if on_input_eof is not None:
                        on_input_eof()
                elif on_input is not None and not on_input(data):
                    return
            elif r in extra:
                if not extra[r]():
                    del extra[r]
            elif r in fds:
                try:
                    data = os.read(r, 65536)
                except OSError:
                    data = b""
                if not fds[r](data):
                    return
                if not data:
                    del fds[r]
