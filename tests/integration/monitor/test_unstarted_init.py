"""A created container that is never started leaves no process behind: its init
must not wait on exec.fifo for ever once the process that created it is gone
(round 2 found such inits, PID 1 of their containers, blocked on a deleted FIFO)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import errors
from engine.monitor.launch import start_monitor
from tests.fixtures.cli import wait_for

REPO = Path(__file__).resolve().parents[3]


class DyingStartRuntime:
    """The stand-in host runtime whose `start` kills the create helper itself: the
    container is created, the helper is gone before it could start it."""

    def __new__(cls):
        from tests.integration.monitor.hostruntime import HostRuntime

        class _Dying(HostRuntime):
            def start(self, cid: str) -> None:
                os.kill(os.getpid(), signal.SIGKILL)

        return _Dying()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_create_helper_dying_before_start_kills_the_created_init(make_container):
    c = make_container(["sleep", "1000"], runtime=f"{__name__}:DyingStartRuntime")
    with pytest.raises(errors.HullError, match="create helper exited"):
        start_monitor(c.cfg, c.cid, timeout=30)
    pid = int((Path(c.cfg.runroot) / "hostruntime" / c.cid / "pid").read_text())
    wait_for(lambda: not _alive(pid), timeout=10, what=f"created init {pid} killed")
    c.wait_monitor_gone()


def _fifo_holders(cid: str) -> list[int]:
    """Processes holding the built-in runtime's exec.fifo of `cid` (its created init)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{entry}/fd/{fd}")
            except OSError:
                continue
            if f"/runtime/{cid}/exec.fifo" in target:
                found.append(int(entry))
                break
    return found


CREATE_THEN_DIE = """
import os, sys
from pathlib import Path
from engine.runtime.base import Stdio
from engine.runtime.builtin import BuiltinRuntime
from engine.runtime.builtin.state import StateDir
# The creator is killed after init reported its pid, before the state is saved.
StateDir.save = lambda self, rec: os.kill(os.getpid(), 9)
null = os.open(os.devnull, os.O_RDWR)
BuiltinRuntime(Path(sys.argv[1])).create(sys.argv[2], Path(sys.argv[3]), Stdio(null, null, null))
"""


def test_builtin_create_killed_before_saving_leaves_no_init(hull, busybox_image):
    hull.load(busybox_image)
    cid = hull("create", "--network", "none", "busybox", "sleep", "1000").ok().stdout.strip()
    hull("mount", cid).ok()
    bundle = hull.root / "containers" / cid / "userdata"
    assert json.loads((bundle / "config.json").read_text())["root"]["path"]
    runtime_root = hull.runroot / "runtime"
    proc = subprocess.run([sys.executable, "-c", CREATE_THEN_DIE, str(runtime_root), cid, str(bundle)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # What the next create (its "already exists" retry) or a cleanup does with the leftover state.
    from engine.runtime.builtin import BuiltinRuntime

    BuiltinRuntime(runtime_root).delete(cid, force=True)
    assert not (runtime_root / cid).exists()
    deadline = time.monotonic() + 10
    while _fifo_holders(cid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _fifo_holders(cid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"created init(s) {left} still wait on the deleted exec.fifo"
