"""The container's stdin/stdout/stderr: pipes, or a pty whose master the monitor keeps.

`ContainerStdio` holds both ends; `child_fds()` are given to the runtime (its
`Stdio`), the monitor keeps `stdin_w` (with -i), `stdout_r`/`stderr_r` or `master`.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios


class RuntimeStdio:
    """Duck-typed twin of engine.runtime.base.Stdio, used when that is not importable."""

    __slots__ = ("stdin_fd", "stdout_fd", "stderr_fd", "terminal_fd")

    def __init__(self, stdin_fd: int, stdout_fd: int, stderr_fd: int,
                 terminal_fd: int | None = None) -> None:
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.terminal_fd = terminal_fd


def set_nonblocking(fd: int) -> None:
    os.set_blocking(fd, False)


class ContainerStdio:
    def __init__(self, tty: bool, stdin_open: bool) -> None:
        self.tty = tty
        self.stdin_open = stdin_open
        self.master: int | None = None
        self.stdin_w: int | None = None
        self.stdout_r: int | None = None
        self.stderr_r: int | None = None
        self._child: list[int] = []
        if tty:
            master, slave = os.openpty()
            os.set_inheritable(master, False)
            set_nonblocking(master)
            self.master = master
            self.stdin_w = master if stdin_open else None
            self.stdout_r = master
            self._child = [slave]
            self.runtime_fds = (slave, slave, slave, slave)
            return
        if stdin_open:
            in_r, in_w = os.pipe2(os.O_CLOEXEC)
            set_nonblocking(in_w)
            self.stdin_w = in_w
        else:
            in_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        set_nonblocking(out_r)
        set_nonblocking(err_r)
        self.stdout_r, self.stderr_r = out_r, err_r
        self._child = [in_r, out_w, err_w]
        self.runtime_fds = (in_r, out_w, err_w, None)

    def child_fds(self) -> tuple[int, ...]:
        return tuple(self._child)

    def runtime_stdio(self):
        """The Stdio object for OCIRuntime.create (the runtime's class when present)."""
        try:
            from engine.runtime.base import Stdio  # type: ignore[attr-defined]
        except ImportError:
            Stdio = RuntimeStdio
        i, o, e, t = self.runtime_fds
        return Stdio(stdin_fd=i, stdout_fd=o, stderr_fd=e, terminal_fd=t)

    def close_child_ends(self) -> None:
        """After create: the container holds its ends; ours would hide EOF/EIO."""
        for fd in self._child:
            try:
                os.close(fd)
            except OSError:
                pass
        self._child = []

    def replace_master(self, fd: int) -> None:
        """A runtime that makes its own pty (console socket) hands us its master."""
        if self.master is not None:
            os.close(self.master)
        os.set_inheritable(fd, False)
        set_nonblocking(fd)
        self.master = fd
        self.stdout_r = fd
        if self.stdin_open:
            self.stdin_w = fd

    def close_stdin(self) -> None:
        """EOF for the container's stdin (pipes only: a pty has no half-close)."""
        if self.stdin_w is not None and self.master is None:
            try:
                os.close(self.stdin_w)
            except OSError:
                pass
            self.stdin_w = None

    def output_fds(self) -> list[tuple[int, str]]:
        if self.master is not None:
            return [(self.master, "stdout")]
        return [(fd, name) for fd, name in ((self.stdout_r, "stdout"), (self.stderr_r, "stderr"))
                if fd is not None]

    def close(self) -> None:
        self.close_child_ends()
        seen = set()
        for fd in (self.master, self.stdin_w, self.stdout_r, self.stderr_r):
            if fd is not None and fd not in seen:
                seen.add(fd)
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self.stdin_w = self.stdout_r = self.stderr_r = None


def resize(fd: int, rows: int, cols: int) -> None:
    """TIOCSWINSZ on the pty master: the kernel sends SIGWINCH to the foreground group."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
