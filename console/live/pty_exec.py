"""A terminal session: `hull exec -it` in a helper process on a pty we allocate.

Why a helper process and not engine/services exec_in_container here: the
built-in runtime forks (and may enter the user namespace), and fork in
daphne's threaded process is unsafe (only the forking thread survives in the
child, holding whatever locks the others held; setns into a user namespace
refuses a threaded caller outright).  So the console starts the real CLI,
`.venv/bin/hull exec -it --detach-keys= [-u USER] CONTAINER SHELL...`, through
`setsid -c`, which makes the pty we allocated its controlling terminal:
subprocess's fork+exec runs no Python between the two, so it is safe in a
threaded process.  The helper then behaves exactly as in a real terminal:
raw mode, the inner pty in the container, and SIGWINCH when we resize our pty
(TIOCSWINSZ on the master signals the pty's foreground process group).
Closing the master hangs the helper up, which ends the session.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import struct
import subprocess
import sys
import termios
import tty
from pathlib import Path

# A shell that exists in most images: bash when there is one, else sh.
AUTO_SHELL = ["/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash; else exec /bin/sh; fi"]


def hull_command() -> list[str]:
    launcher = Path(sys.executable).with_name("hull")
    if launcher.is_file() and os.access(launcher, os.X_OK):
        return [str(launcher)]
    return [sys.executable, "-c", "import sys; from engine.cli.main import main; sys.exit(main())"]


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtySession:
    def __init__(self, container: str, shell: list[str] | None, user: str | None, rows: int, cols: int) -> None:
        argv = hull_command() + ["exec", "-it", "--detach-keys="]
        if user:
            argv += ["--user", user]
        argv.append(container)  # flags end at the container name: the shell's args pass as they are
        argv += shell or AUTO_SHELL
        setsid = shutil.which("setsid") or "/usr/bin/setsid"
        master, slave = os.openpty()
        try:
            # Raw from the start: keys typed before the helper sets raw mode itself
            # would otherwise be echoed twice (by this pty, then by the container's).
            tty.setraw(slave, termios.TCSANOW)
            set_size(master, rows, cols)
            env = dict(os.environ, TERM="xterm-256color")
            env.pop("DJANGO_SETTINGS_MODULE", None)
            self.proc = subprocess.Popen([setsid, "-c"] + argv, stdin=slave, stdout=slave, stderr=slave,
                                         env=env, close_fds=True, cwd="/")
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.master = master

    def resize(self, rows: int, cols: int) -> None:
        if self.master >= 0:
            set_size(self.master, rows, cols)

    def read(self) -> bytes | None:
        """Output; None when nothing is there yet; b"" when the session ended
        (EIO: no process holds the slave any more)."""
        try:
            return os.read(self.master, 65536)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def write(self, data: bytes) -> int:
        """Bytes written (may be fewer than given when the pty is full)."""
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError:
            return len(data)  # the session is ending: drop the input

    def close(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGHUP)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float = 5.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
