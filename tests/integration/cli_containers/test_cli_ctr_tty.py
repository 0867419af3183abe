"""`hull run -it` through a real pty: raw mode, a shell prompt, ctrl-p ctrl-q detach
(exit 0, container still running), `hull attach` again, `exit`."""

from __future__ import annotations

import os
import subprocess
import termios
import time

import pytest

from tests.fixtures.pty import PtyProcess
from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor


class Pty(PtyProcess):
    """A hull process on the slave side of a fresh pty; we type and read on the master."""

    def __init__(self, hull, *args: str, size: tuple[int, int] | None = None) -> None:
        super().__init__(size=size)
        termios.tcsetattr(self.slave, termios.TCSANOW, termios.tcgetattr(self.slave))
        self.slave_attrs = termios.tcgetattr(self.slave)
        self.proc = hull.popen(*args, stdin=self.slave, stdout=self.slave, stderr=self.slave)

    def wait_raw(self, timeout: float = 30.0) -> None:
        """Until hull has put the terminal in raw mode (typing earlier would be echoed
        by the line discipline)."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.slave)[3] & termios.ICANON:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                pytest.fail(f"hull never set raw mode; output {self.seen[-2000:]!r}")
            time.sleep(0.02)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"hull did not exit; output {self.seen[-2000:]!r}")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def test_run_it_detach_and_attach_again(bb):
    term = Pty(bb, "run", "-it", "--name", "tty1", "busybox", "sh")
    try:
        term.read_until(b"# ")
        # the CLI put our terminal in raw mode: no local echo, no line discipline
        attrs = termios.tcgetattr(term.slave)
        assert not attrs[3] & termios.ICANON and not attrs[3] & termios.ECHO
        term.type(b"echo $((6*7))\r")
        term.read_until(b"42")
        term.type(b"\x10\x11")  # ctrl-p ctrl-q
        assert term.wait() == 0
        assert termios.tcgetattr(term.slave) == term.slave_attrs  # restored
    finally:
        term.close()
    assert bb("ps", "--format", "{{.Names}} {{.State}}").ok().stdout == "tty1 running\n"

    again = Pty(bb, "attach", "tty1")
    try:
        again.wait_raw()
        again.type(b"echo again$((1+1))\r")
        seen = again.read_until(b"again2")
        assert seen.count(b"echo again$((1+1))") == 1  # echoed by the container's tty only
        again.type(b"exit 5\r")
        assert again.wait() == 5
    finally:
        again.close()
    assert bb("ps", "-a", "--format", "{{.Names}} {{.State}} {{.ExitCode}}").ok().stdout == "tty1 exited 5\n"
    bb("rm", "tty1").ok()


def test_the_first_instruction_sees_the_terminal_size(bb):
    # the container's pty has our terminal's size from the start, not only after a resize
    term = Pty(bb, "run", "--rm", "-t", "busybox", "stty", "size", size=(27, 93))
    try:
        term.read_until(b"27 93")
        assert term.wait() == 0
    finally:
        term.close()


def test_custom_detach_keys(bb):
    term = Pty(bb, "run", "-it", "--detach-keys", "ctrl-a", "--name", "tty2", "busybox", "sh")
    try:
        term.read_until(b"# ")
        term.type(b"\x10\x11echo still$((2+3))\r")  # ctrl-p ctrl-q is no longer special
        term.read_until(b"still5")
        term.type(b"\x01")
        assert term.wait() == 0
    finally:
        term.close()
    assert bb("ps", "--format", "{{.Names}}").ok().stdout == "tty2\n"
    bb("rm", "-f", "tty2").ok()


def test_exec_it_in_running_container(bb):
    bb("run", "-d", "--name", "ex", "busybox", "sleep", "1000").ok()
    try:
        term = Pty(bb, "exec", "-it", "ex", "sh")
        try:
            term.read_until(b"# ")
            term.type(b"echo in$((3*3))\r")
            term.read_until(b"in9")
            term.type(b"exit 4\r")
            assert term.wait() == 4
        finally:
            term.close()
        assert bb("exec", "ex", "sh", "-c", "echo hi; exit 2").returncode == 2
        assert bb("exec", "-w", "/tmp", "-e", "V=1", "-u", "33", "ex", "sh", "-c",
                  "echo $(pwd) $V $(id -u)").ok().stdout == "/tmp 1 33\n"
    finally:
        bb("rm", "-f", "ex")


def test_run_t_dev_console_is_the_containers_pty(bb):
    # as runc and crun: a terminal container's /dev/console is its own pty slave
    term = Pty(bb, "run", "--rm", "-t", "busybox", "sh", "-c", "tty; ls -lL /dev/console; echo done")
    try:
        seen = term.read_until(b"done").decode(errors="replace").replace("\r", "")
        assert term.wait() == 0
    finally:
        term.close()
    lines = seen.splitlines()
    assert "/dev/pts/0" in lines, seen
    console = next(line for line in lines if line.endswith("/dev/console"))
    assert console.startswith("c") and " 136, " in console, seen  # a pts node, not ENOENT
