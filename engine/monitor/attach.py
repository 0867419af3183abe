"""The attach protocol and the monitor's side of the attach socket.

Unix stream socket `{runroot}/containers/<id>/attach` (0600).  Frames both ways:
`[1 byte type][4 bytes big-endian length][payload]`.
server -> client: 1 stdout, 2 stderr, 3 exit (payload: the exit code in ASCII),
  6 started (payload: container pid), 7 error (payload: JSON {kind, code, message}),
  8 health (payload: JSON {status, exit_code, output}).
client -> server: 0 stdin, 4 stdin-close, 5 resize (payload "rows cols"),
  6 start (a container created with start=False or attach=True), 8 run a healthcheck now.
Every client gets all output from its connection on; stdin is taken from one client
at a time (the first that sends any, until it disconnects).  Detaching (ctrl-p,ctrl-q)
is the client's business: it stops sending and closes; the container runs on.

Socket paths can exceed sun_path's 108 bytes, so both sides go through
/proc/self/fd/<dir fd>/attach.
"""

from __future__ import annotations

import os
import socket
import struct

STDIN, STDOUT, STDERR, EXIT, STDIN_CLOSE, RESIZE, START, ERROR, HEALTH = 0, 1, 2, 3, 4, 5, 6, 7, 8
STARTED = START
MAX_FRAME = 1 << 20
MAX_CLIENT_BUFFER = 1 << 20  # output waiting for one client before we pause the container
_HEAD = struct.Struct(">BI")


class ProtocolError(Exception):
    pass


def frame(kind: int, payload: bytes = b"") -> bytes:
    return _HEAD.pack(kind, len(payload)) + payload


class FrameDecoder:
    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buf += data
        out = []
        while len(self.buf) >= 5:
            kind, size = _HEAD.unpack_from(self.buf)
            if size > MAX_FRAME:
                raise ProtocolError(f"frame of {size} bytes")
            if len(self.buf) < 5 + size:
                break
            out.append((kind, bytes(self.buf[5:5 + size])))
            del self.buf[:5 + size]
        return out


def _via_dir(path: str) -> tuple[int, str]:
    """(O_PATH fd of the directory, a short path to `path` through it)."""
    dfd = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    return dfd, f"/proc/self/fd/{dfd}/{os.path.basename(path)}"


def listen(path: str) -> socket.socket:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    dfd, short = _via_dir(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    old = os.umask(0o177)
    try:
        sock.bind(short)
    finally:
        os.umask(old)
        os.close(dfd)
    sock.listen(16)
    sock.setblocking(False)
    return sock


def connect(path: str, timeout: float | None = None) -> socket.socket:
    dfd, short = _via_dir(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(timeout)
        sock.connect(short)
        sock.settimeout(None)
    except OSError:
        sock.close()
        raise
    finally:
        os.close(dfd)
    return sock


class Client:
    """One attached connection, as the monitor sees it."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.out = bytearray()
        self.decoder = FrameDecoder()
        self.closing = False  # flush what is queued, then close

    def fileno(self) -> int:
        return self.sock.fileno()

    def queue(self, data: bytes) -> None:
        self.out += data

    def flush(self) -> bool:
        """Send what we can; False when the peer is gone."""
        while self.out:
            try:
                n = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False
            del self.out[:n]
        return True

    def backlogged(self) -> bool:
        return len(self.out) > MAX_CLIENT_BUFFER

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
