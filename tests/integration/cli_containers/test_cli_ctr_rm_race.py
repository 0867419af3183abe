"""`rm -f` racing `start` of the same container: whichever wins the container's
lock first, `rm -f` ends with the container gone and nothing of it running."""

from __future__ import annotations

import os

from tests.fixtures.cli import wait_for

MARK = "4711"  # a sleep length no other test uses, to find the container's process


def _sleepers() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"sleep", MARK.encode()]:
            found.append(int(entry))
    return found


def test_rm_force_racing_start_leaves_nothing(bb):
    for round_ in range(3):
        name = f"race{round_}"
        bb("create", "--name", name, "localhost/busybox", "sleep", MARK).ok()
        start = bb.popen("start", name)
        rm = bb.popen("rm", "-f", "-t", "0", name)
        rm_out, rm_err = rm.communicate(timeout=120)
        start.communicate(timeout=120)
        assert rm.returncode == 0, rm_err.decode()
        assert b"Traceback" not in rm_err
        assert bb("container", "exists", name).returncode == 1
        assert bb("ps", "-a", "-q").ok().stdout.strip() == ""
    wait_for(lambda: not _sleepers(), 20, what="no process of the removed containers")
