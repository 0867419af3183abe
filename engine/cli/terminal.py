"""The user's side of an attached container: raw terminal mode and the signal proxy.

The attach protocol itself (frames, detach keys, SIGWINCH resizes) is
engine/services/container_io.py's `attach_socket`; this module adds what only
a command-line front end has: the local terminal, put in raw mode while a
`-t` container is attached (restored on every way out, also on errors and
signals), and `--sig-proxy`, which hands SIGINT & co. received by the CLI to
the container instead of dying.
"""

from __future__ import annotations

import os
import signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

# Podman proxies every catchable signal but these, which belong to the CLI or the terminal.
_NOT_PROXIED = {"SIGKILL", "SIGSTOP", "SIGCHLD", "SIGPIPE", "SIGWINCH", "SIGURG", "SIGPROF", "SIGVTALRM",
                "SIGTTIN", "SIGTTOU", "SIGTSTP", "SIGIO", "SIGPOLL", "SIGCONT"}
PROXIED = tuple(s for s in ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM")
                if s not in _NOT_PROXIED)


def parse_detach_keys(text: "str | None") -> bytes:
    """Validate --detach-keys early (before a container is created)."""
    from engine.services.detach_keys import parse_detach_keys as parse

    return parse(text)


class RawMode:
    """termios raw mode on `fd` for the `with` block; a no-op when `fd` is not a tty."""

    def __init__(self, fd: int, enabled: bool = True) -> None:
        self.fd = fd
        self.enabled = enabled
        self.saved: "list | None" = None

    def __enter__(self) -> "RawMode":
        if self.enabled and os.isatty(self.fd):
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: "Any") -> None:
        if self.saved is not None:
            import termios

            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            except OSError:
                pass
            self.saved = None


class SignalProxy:
    """While active, signals in PROXIED go to `forward(signum)` instead of ending the CLI."""

    def __init__(self, forward: "Callable[[int], None]", enabled: bool = True) -> None:
        self.forward = forward
        self.enabled = enabled
        self.old: "dict[int, Any]" = {}

    def _handle(self, signum: int, frame: "Any") -> None:
        try:
            self.forward(signum)
        except Exception:  # noqa: BLE001 - a container that just ended cannot take signals
            pass

    def __enter__(self) -> "SignalProxy":
        if self.enabled:
            for name in PROXIED:
                signum = getattr(signal, name)
                self.old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: "Any") -> None:
        for signum, handler in self.old.items():
            signal.signal(signum, handler)
        self.old.clear()


def attach_streams(streams: "list[str]", interactive: bool) -> "tuple[bool, bool, bool]":
    """(stdin, stdout, stderr) from -a values; none given: stdout+stderr, stdin with -i."""
    if not streams:
        return interactive, True, True
    return "stdin" in streams, "stdout" in streams, "stderr" in streams


def attach_ahead(rm: bool = False) -> None:
    """Have the next container start load what attach() (and with `rm`, the removal
    after the exit) imports while this process waits for the monitor to run the
    container, not after (engine/monitor/launch.py while_waiting)."""
    from engine.monitor.launch import while_waiting

    def load() -> None:
        import engine.monitor.attach  # noqa: F401
        import engine.services.container_io  # noqa: F401
        if rm:
            import engine.network.lifecycle  # noqa: F401
            import engine.network.reap  # noqa: F401

    while_waiting(load)


def attach(cfg: "Any", cid: str, *, tty: bool, stdin: bool, stdout: bool = True, stderr: bool = True,
           detach_keys: "str | None" = None, sig_proxy: bool = True,
           socket_path: "Any" = None) -> "Any":
    """Attach this terminal to container `cid`; returns container_io.AttachResult."""
    from engine.services import container_io as io

    opts = io.AttachOptions(stdin=stdin, stdout=stdout, stderr=stderr, detach_keys=detach_keys,
                            tty=tty and os.isatty(1))

    def forward(signum: int) -> None:
        from engine.services import containers as svc

        svc.kill(cfg, [cid], signum)

    # with a tty, ^C is a byte typed into the container's terminal, not a signal to us
    with SignalProxy(forward, enabled=sig_proxy and not tty), RawMode(0, enabled=tty and stdin):
        if socket_path is not None:
            return io.attach_socket(socket_path, opts)
        return io.attach(cfg, cid, opts)
