"""The client side of a hijacked connection (attach, exec start): our stdin to the
socket, the socket's bytes (raw with a TTY, else Docker frames) to stdout/stderr.
Single-threaded: one select loop, as the service's side is."""

from __future__ import annotations

import os
import selectors
import socket

from engine.remote.frames import Demuxer


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def pump(sock: socket.socket, pending: bytes, *, tty: bool, stdin_fd: int | None,
         stdout_fd: int = 1, stderr_fd: int = 2) -> None:
    """Until the service closes the stream.  EOF on stdin half-closes the socket
    (the container sees EOF on its stdin)."""
    demux = None if tty else Demuxer()

    def deliver(data: bytes) -> None:
        if demux is None:
            _write(stdout_fd, data)
            return
        for stream, payload in demux.feed(data):
            _write(stderr_fd if stream in (2, 3) else stdout_fd, payload)

    if pending:
        deliver(pending)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    if stdin_fd is not None:
        try:
            sel.register(stdin_fd, selectors.EVENT_READ)
        except (ValueError, PermissionError, OSError):  # /dev/null or a regular file: read it all now
            stdin_fd = _send_file(sock, stdin_fd)
    try:
        while True:
            for key, _ in sel.select():
                if key.fileobj is sock:
                    try:
                        data = sock.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        return
                    deliver(data)
                else:
                    data = os.read(stdin_fd, 65536) if stdin_fd is not None else b""
                    if data:
                        sock.sendall(data)
                    else:
                        sel.unregister(stdin_fd)
                        stdin_fd = None
                        try:
                            sock.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
    finally:
        sel.close()
        sock.close()


def _send_file(sock: socket.socket, fd: int) -> None:
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        sock.sendall(data)
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    return None
