"""The parent <-> container-process channel: JSON lines over a socketpair, plus
file descriptors (the console master) with SCM_RIGHTS.  The child end is the
only fd the container keeps until exec, and it is close-on-exec."""

from __future__ import annotations

import array  # noqa: F401  (socket.send_fds needs it; imported before any pivot_root)
import json
import os
import socket

from engine.errors import CannotInvoke, CommandNotFound, HullError, SyscallError

KINDS = {"notfound": CommandNotFound, "cannotinvoke": CannotInvoke}


def pair() -> tuple[socket.socket, socket.socket]:
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # Keep both off 0, 1, 2, which the child rewires.
    out = []
    for s in (parent, child):
        if s.fileno() < 3:
            fd = os.dup(s.fileno())  # dup gives the lowest free fd: loop until >= 3
            held = []
            while fd < 3:
                held.append(fd)
                fd = os.dup(s.fileno())
            for h in held:
                os.close(h)
            s.close()
            s = socket.socket(fileno=fd)
        s.set_inheritable(False)
        out.append(s)
    return out[0], out[1]


def send(sock: socket.socket, msg: dict, fds: list[int] | None = None) -> None:
    data = (json.dumps(msg) + "\n").encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.sendall(data)


def error_message(exc: BaseException) -> dict:
    if isinstance(exc, CommandNotFound):
        return {"error": str(exc), "kind": "notfound"}
    if isinstance(exc, CannotInvoke):
        return {"error": str(exc), "kind": "cannotinvoke"}
    if isinstance(exc, OSError) and not isinstance(exc, SyscallError):
        where = f" {exc.filename}" if exc.filename else ""
        return {"error": f"{exc.strerror or exc}{where}", "kind": "error"}
    return {"error": str(exc) or type(exc).__name__, "kind": "error"}


def raise_for(msg: dict, prefix: str = "") -> None:
    cls = KINDS.get(msg.get("kind", ""), HullError)
    raise cls(prefix + msg.get("error", "unknown error"))


class Reader:
    """Reads messages (and any fds that came with them) from the parent's end."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.fds: list[int] = []

    def next(self) -> dict | None:
        while b"\n" not in self.buf:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 4)
            for fd in fds:
                os.set_inheritable(fd, False)
            self.fds.extend(fds)
            if not data:
                return None
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)
