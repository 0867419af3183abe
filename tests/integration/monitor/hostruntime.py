"""A stand-in OCI runtime for monitor tests: runs config.json's process as a plain host
process (no namespaces), with the real create/start split (the child waits on a FIFO
that `start` opens) and the console-socket style terminal (`Stdio.on_console`).

The monitor loads it with `runtime: "tests.integration.monitor.hostruntime:HostRuntime"`
in monitor.json.  State lives under $HULL_RUNROOT/hostruntime/<cid>/.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import termios
from pathlib import Path

from engine.errors import CannotInvoke, CommandNotFound, ContainerNotFound

SUBREAPER = 36


def _state_dir(cid: str) -> Path:
    return Path(os.environ["HULL_RUNROOT"]) / "hostruntime" / cid


def _find(argv0: str, env: list[str]) -> str:
    path = next((e.split("=", 1)[1] for e in env if e.startswith("PATH=")), "/usr/bin:/bin")
    found = argv0 if "/" in argv0 else shutil.which(argv0, path=path)
    if not found or not os.path.exists(found):
        raise CommandNotFound(f"{argv0}: executable file not found in $PATH: No such file or directory")
    if not os.access(found, os.X_OK) or os.path.isdir(found):
        raise CannotInvoke(f"{argv0}: permission denied")
    return found


def _child(fds: tuple[int, int, int], terminal: int | None, wait_fifo: str | None,
           exe: str, args: list[str], env: list[str], cwd: str) -> None:
    try:
        os.setsid()
        if terminal is not None:
            fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)
            fds = (terminal, terminal, terminal)
        for target, fd in enumerate(fds):
            os.dup2(fd, target, inheritable=True)
        os.closerange(3, 65536)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT,
                    signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if wait_fifo:
            fd = os.open(wait_fifo, os.O_RDONLY)
            os.read(fd, 1)
            os.close(fd)
        os.chdir(cwd)
        os.execve(exe, args, dict(e.split("=", 1) for e in env if "=" in e))
    except BaseException:
        os._exit(127)


class HostRuntime:
    name = "hostruntime"

    def _prepare(self, stdio, terminal_wanted: bool):
        master = None
        terminal = getattr(stdio, "terminal_fd", None)
        if terminal_wanted and terminal is None and getattr(stdio, "on_console", None) is not None:
            master, terminal = os.openpty()
        return master, terminal

    def create(self, cid: str, bundle, stdio, pid_file=None) -> int:
        import ctypes

        ctypes.CDLL(None).prctl(SUBREAPER, 1, 0, 0, 0)
        spec = json.loads((Path(bundle) / "config.json").read_text())
        proc = spec["process"]
        env = proc.get("env", [])
        exe = _find(proc["args"][0], env)
        state = _state_dir(cid)
        state.mkdir(parents=True, exist_ok=True)
        fifo = state / "start.fifo"
        if not fifo.exists():
            os.mkfifo(fifo, 0o600)
        master, terminal = self._prepare(stdio, bool(proc.get("terminal")))
        pid = os.fork()
        if pid == 0:
            _child((stdio.stdin_fd, stdio.stdout_fd, stdio.stderr_fd), terminal, str(fifo), exe,
                   proc["args"], env, proc.get("cwd") or "/")
        (state / "pid").write_text(str(pid))
        if pid_file:
            Path(pid_file).write_text(str(pid))
        if master is not None:
            os.close(terminal)
            stdio.on_console(master)
        return pid

    def start(self, cid: str) -> None:
        fd = os.open(_state_dir(cid) / "start.fifo", os.O_WRONLY)
        os.write(fd, b"s")
        os.close(fd)

    def _pid(self, cid: str) -> int:
        try:
            return int((_state_dir(cid) / "pid").read_text())
        except (OSError, ValueError):
            raise ContainerNotFound(f"container {cid} does not exist") from None

    def kill(self, cid: str, signal: int, all: bool = False) -> None:
        os.kill(self._pid(cid), signal)

    def delete(self, cid: str, force: bool = False) -> None:
        shutil.rmtree(_state_dir(cid), ignore_errors=True)

    def exec(self, cid: str, process: dict, stdio, pid_file=None) -> int:
        env = process.get("env", [])
        exe = _find(process["args"][0], env)
        pid = os.fork()
        if pid == 0:
            _child((stdio.stdin_fd, stdio.stdout_fd, stdio.stderr_fd), None, None, exe,
                   process["args"], env, process.get("cwd") or "/")
        return pid
