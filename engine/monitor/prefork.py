"""The helper that creates the container's first run, forked before the config arrives.

Importing the runtime costs a helper ~15 ms; forked at once, this one spends them
while the monitor still waits for the launcher's config (and, started ahead of time
by `hull run`, while the CLI is still creating the container).  It then waits for
its job on a socket: `{"runtime", "cid", "bundle", "pid_file", "tty", "layout"[, "listen"]}`
with the container's stdio ends, any socket-activation fds, the result socket and the go
pipe as fds, and runs
hooks.create_and_start as a helper forked at that moment would.  The end of the
socket without a job (the monitor had no container, or failed first) ends it.
"""

from __future__ import annotations

import os
import socket

from engine.monitor.process import fork_helper, pack_msg, unpack_msgs


class Prefork:
    """The monitor's side: the helper's pid and the socket its job goes down."""

    __slots__ = ("pid", "ctl")

    def __init__(self, pid: int, ctl: socket.socket) -> None:
        self.pid = pid
        self.ctl = ctl

    def hand_over(self, job: dict, fds: list[int]) -> bool:
        """Send the job; False if the helper is gone (the caller forks a new one)."""
        try:
            socket.send_fds(self.ctl, [pack_msg(job)], fds)
            return True
        except OSError:
            return False
        finally:
            self.close()

    def close(self) -> None:
        self.ctl.close()


class _Stdio:
    """What create_and_start needs of the monitor's ContainerStdio, rebuilt from fds."""

    def __init__(self, tty: bool, runtime_fds: tuple) -> None:
        self.tty = tty
        self.runtime_fds = runtime_fds

    def runtime_stdio(self):
        from engine.monitor.stdio import ContainerStdio

        return ContainerStdio.runtime_stdio(self)  # type: ignore[arg-type]


def fork_create_helper() -> Prefork | None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        pid = fork_helper(lambda: _wait_for_job(theirs), keep_fds=(theirs.fileno(),))
    except OSError:
        ours.close()
        theirs.close()
        return None
    theirs.close()
    return Prefork(pid, ours)


def _wait_for_job(ctl: socket.socket) -> int:
    from engine.monitor.process import add_helper_path

    add_helper_path()
    try:  # the default runtime and what its create needs; another one is imported when the job names it
        import engine.monitor.hooks  # noqa: F401
        import engine.monitor.stdio  # noqa: F401
        import engine.runtime.builtin  # noqa: F401
        import engine.runtime.builtin.init  # noqa: F401
        import engine.runtime.seccomp_bpf  # noqa: F401
        import engine.runtime.userns  # noqa: F401
        from engine.runtime.syscalls import SYSCALLS

        SYSCALLS.preload()  # libc's declarations and handle, and libseccomp: create's first steps
        SYSCALLS.seccomp_lib
    except BaseException:  # noqa: BLE001 - create_and_start reports it, with the job's socket
        pass
    buf = bytearray()
    fds: list[int] = []
    while not (msgs := unpack_msgs(buf)):
        try:
            data, got, _flags, _addr = socket.recv_fds(ctl, 65536, 16)
        except OSError:
            return 0
        fds += got
        if not data:
            return 0
        buf += data
    ctl.close()
    for fd in fds:  # as the monitor made them: close-on-exec (nothing leaks into the container)
        os.set_inheritable(fd, False)
    job = msgs[0]
    os.environ["_HULL_MONITOR_CID"] = job["cid"]
    layout = job["layout"]  # indexes into fds: the runtime's (stdin, stdout, stderr, terminal)
    runtime_fds = tuple(fds[i] if i is not None else None for i in layout)
    res_fd, go_fd = fds[-2], fds[-1]
    listen = job.get("listen") or 0  # socket activation: the listen fds sit before res/go
    from engine.monitor.hooks import create_and_start

    if listen:
        return create_and_start(job["runtime"], job["cid"], job["bundle"], job["pid_file"],
                                _Stdio(job["tty"], runtime_fds), res_fd, go_fd, listen_fds=tuple(fds[-2 - listen:-2]))
    return create_and_start(job["runtime"], job["cid"], job["bundle"], job["pid_file"],
                            _Stdio(job["tty"], runtime_fds), res_fd, go_fd)
