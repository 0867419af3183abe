"""A client of the monitor's attach socket (protocol in engine/monitor/attach.py).

`AttachClient(path)` connects (paths longer than sun_path work: it goes through
/proc/self/fd), sends stdin / stdin-close / resize / healthcheck requests and reads
frames.  Detach keys (ctrl-p,ctrl-q) are the caller's: it stops reading its terminal
and closes the connection; the container runs on (engine/services/detach_keys.py).
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
from typing import Iterator

from engine.monitor import attach as proto


class AttachClient:
    def __init__(self, path: str | os.PathLike, timeout: float | None = 10.0) -> None:
        self.sock: socket.socket = proto.connect(os.fspath(path), timeout)
        self.decoder = proto.FrameDecoder()
        self.exit_code: int | None = None

    def fileno(self) -> int:
        return self.sock.fileno()

    def send_stdin(self, data: bytes) -> None:
        for i in range(0, len(data), proto.MAX_FRAME):
            self.sock.sendall(proto.frame(proto.STDIN, data[i:i + proto.MAX_FRAME]))

    def close_stdin(self) -> None:
        self.sock.sendall(proto.frame(proto.STDIN_CLOSE))

    def resize(self, rows: int, cols: int) -> None:
        self.sock.sendall(proto.frame(proto.RESIZE, f"{rows} {cols}".encode()))

    def frames(self, timeout: float | None = None) -> Iterator[tuple[int, bytes]]:
        """(kind, payload) until the monitor closes the connection (or `timeout`
        seconds pass without one).  An exit frame sets `exit_code`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return
            data = self.sock.recv(65536)
            if not data:
                return
            for kind, payload in self.decoder.feed(data):
                if kind == proto.EXIT:
                    try:
                        self.exit_code = int(payload)
                    except ValueError:
                        self.exit_code = -1
                yield kind, payload

    def collect(self, timeout: float = 30.0) -> tuple[bytes, bytes, int | None]:
        """All stdout and stderr until the exit frame (or timeout): tests, `run` scripts."""
        out, err = bytearray(), bytearray()
        for kind, payload in self.frames(timeout):
            if kind == proto.STDOUT:
                out += payload
            elif kind == proto.STDERR:
                err += payload
            elif kind == proto.EXIT:
                break
        return bytes(out), bytes(err), self.exit_code

    def healthcheck(self, timeout: float = 120.0) -> dict:
        """Ask the monitor to run the healthcheck now: {"status", "exit_code", "output"}."""
        self.sock.sendall(proto.frame(proto.HEALTH))
        for kind, payload in self.frames(timeout):
            if kind == proto.HEALTH:
                return json.loads(payload)
        return {"status": "", "exit_code": -1, "output": "no answer from the container monitor"}

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "AttachClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
