"""Kill a helper process (pasta, slirp4netns, the port forwarder) and wait until it is gone.

The helpers are detached (not our children), so waitpid cannot be used: a pidfd becomes
readable when the process has exited (a zombie has closed its sockets already), which is
what teardown waits for -- the published port is closed when stop/rm returns.
"""

from __future__ import annotations

import os
import select
import signal
import time


def alive(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pid: int, timeout: float = 2.0) -> bool:
    """Wait (at most `timeout` seconds) for `pid` to exit; True when it did."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:  # no pidfd (old kernel): poll /proc
        deadline = time.monotonic() + timeout
        while alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(int(timeout * 1000)))
    finally:
        os.close(fd)


def kill_and_wait(pid: int, sig: int = signal.SIGKILL, timeout: float = 2.0) -> bool:
    """Send `sig` to `pid` and wait for it to exit; True when it is gone."""
    return wait_killed([kill(pid, sig)], timeout)


def kill(pid: int, sig: int = signal.SIGKILL) -> int | None:
    """Send `sig` to `pid` without waiting: a pidfd for `wait_killed`, -pid where the
    kernel has no pidfd, None when it is gone already.  (A helper's exit can take
    50 ms -- closing its tap device -- which the caller may spend on other work.)"""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    except OSError:
        fd = -1
    try:
        if fd >= 0:
            signal.pidfd_send_signal(fd, sig)  # no recycled pid can be hit between open and kill
            return fd
        os.kill(pid, sig)
        return -pid
    except ProcessLookupError:
        if fd >= 0:
            os.close(fd)
        return None


def wait_killed(handles: list[int | None], timeout: float = 2.0) -> bool:
    """Wait (at most `timeout` seconds in all) until every process `kill` returned a
    handle for has exited, closing the pidfds; True when all are gone."""
    deadline = time.monotonic() + timeout
    gone = True
    for h in handles:
        if h is None:
            continue
        left = max(0.0, deadline - time.monotonic())
        if h < 0:
            gone = wait_gone(-h, left) and gone
            continue
        try:
            poller = select.poll()
            poller.register(h, select.POLLIN)
            gone = bool(poller.poll(int(left * 1000))) and gone
        finally:
            os.close(h)
    return gone
