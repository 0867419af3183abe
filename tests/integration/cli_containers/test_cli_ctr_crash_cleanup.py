"""What the monitor does without the CLI, and what survives crashes, root and
rootless: --rm after the CLI is SIGKILLed, log rotation, the rootfs released after
an exit, and a simulated reboot (monitor and container killed, runroot wiped)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import wait_for
from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor


def _inspect(h, name: str, fmt: str) -> str:
    return h("inspect", "--format", fmt, name).ok().stdout.strip()


def _cid(h, name: str) -> str:
    return _inspect(h, name, "{{.Id}}")


def _pid_and_start(path: Path) -> int:
    return int(path.read_text().split()[0])


# ---------------------------------------------------------------- --rm without the CLI
def test_rm_after_the_cli_is_killed(bb):
    proc = bb.popen("run", "--rm", "--name", "gone", "busybox", "sh", "-c", "sleep 2; exit 0")
    try:
        wait_for(lambda: bb("ps", "-q", "--filter", "name=gone").stdout.strip(), timeout=60,
                 what="the container running")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert bb("ps", "-aq").ok().stdout.strip() != ""  # still there while it runs
    wait_for(lambda: bb("ps", "-aq").ok().stdout == "", timeout=20, what="the monitor's --rm")
    assert bb("container", "exists", "gone").returncode == 1


def test_rm_waits_for_the_attached_cli_then_removes_if_it_died(bb):
    """`run --rm` removes the container itself after the exit; the monitor's --rm waits for
    that CLI to end (here: stopped, then killed, after the exit) and then removes it."""
    proc = bb.popen("run", "--rm", "--name", "held", "busybox", "sh", "-c", "sleep 2; exit 3")
    try:
        wait_for(lambda: bb("ps", "-q", "--filter", "name=held").stdout.strip(), timeout=60,
                 what="the container running")
        os.killpg(proc.pid, signal.SIGSTOP)
        wait_for(lambda: bb("ps", "-aq", "--filter", "status=exited", "--filter", "name=held").stdout.strip(),
                 timeout=30, what="the container exited")
        time.sleep(1)
        assert bb("container", "exists", "held").returncode == 0  # the monitor waits for its remover
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # well within the monitor's 60 s limit: it saw the CLI end
    wait_for(lambda: bb("container", "exists", "held").returncode == 1, timeout=20, what="the monitor's --rm")


# ---------------------------------------------------------------- logs rotate
CHATTY = "i=0; while [ $i -lt 1200 ]; do echo \"line $i of the chatty container ....\"; i=$((i+1)); done"
LAST3 = [f"line {i} of the chatty container ...." for i in (1197, 1198, 1199)]


def _log_files(h, name: str) -> tuple[Path, dict[str, int]]:
    log = Path(_inspect(h, name, "{{.HostConfig.LogConfig.Path}}"))
    assert log.name == "ctr.log", log
    return log, {p.name: p.stat().st_size for p in log.parent.iterdir() if p.name.startswith("ctr.log")}


@pytest.mark.parametrize("driver", ["k8s-file", "json-file"])
def test_logs_rotate_into_kept_files(bb, driver):
    # ~45 KiB of numbered lines; 10 KiB per file, 3 files kept (the live one and .1, .2)
    bb("run", "--name", "chatty", "--log-driver", driver, "--log-opt", "max-size=10k", "--log-opt", "max-file=3",
       "busybox", "sh", "-c", CHATTY).ok()
    log, files = _log_files(bb, "chatty")
    assert set(files) == {"ctr.log", "ctr.log.1", "ctr.log.2"}, files
    for name, size in files.items():
        assert size <= 10 * 1024 + 200, (name, size)  # rotated between lines at 10 KiB
    assert files["ctr.log.1"] > 9 * 1024
    assert bb("logs", "--tail", "3", "chatty").ok().stdout.splitlines() == LAST3
    out = bb("logs", "chatty").ok().stdout.splitlines()
    assert out[-3:] == LAST3 and 200 < len(out) < 1200  # what the kept files hold, oldest first, in order
    first = int(out[0].split()[1])
    assert [int(line.split()[1]) for line in out] == list(range(first, 1200))


def test_logs_max_size_alone_truncates_as_conmon(bb):
    bb("run", "--name", "chatty", "--log-opt", "max-size=10k", "busybox", "sh", "-c", CHATTY).ok()
    _, files = _log_files(bb, "chatty")
    assert list(files) == ["ctr.log"] and files["ctr.log"] <= 10 * 1024 + 200, files
    assert bb("logs", "--tail", "3", "chatty").ok().stdout.splitlines() == LAST3


# ---------------------------------------------------------------- rootfs released
def _mounted(target: str) -> bool:
    """Is `target` a mount point in any mount namespace we can see (root: the host's;
    rootless: Hull's namespace, through the pause process)?"""
    with open("/proc/self/mountinfo") as fh:
        if any(line.split()[4] == target for line in fh):
            return True
    return False


def _rootless_mounted(h, target: str) -> bool:
    res = h("unshare", "cat", "/proc/self/mountinfo").ok().stdout
    return any(line.split()[4] == target for line in res.splitlines() if line.strip())


def test_rootfs_unmounted_after_exit(bb):
    from engine.services import containers

    assert callable(getattr(containers, "cleanup_after_exit", None))
    bb("run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1").ok()
    cid = _cid(bb, "short")
    rootfs = str(bb.runroot / "containers" / cid / "rootfs")
    mounted = (lambda: _rootless_mounted(bb, rootfs)) if bb.rootless else (lambda: _mounted(rootfs))
    assert mounted(), "the rootfs should be mounted while the container runs"
    wait_for(lambda: _inspect(bb, "short", "{{.State.Status}}") == "exited", timeout=20, what="exit")
    wait_for(lambda: not mounted(), timeout=10, what="the monitor's cleanup to unmount the rootfs")
    # a stopped container too
    bb("run", "-d", "--name", "long", "busybox", "sleep", "1000").ok()
    long_rootfs = str(bb.runroot / "containers" / _cid(bb, "long") / "rootfs")
    bb("stop", "-t", "0", "long").ok()
    check = (lambda: _rootless_mounted(bb, long_rootfs)) if bb.rootless else (lambda: _mounted(long_rootfs))
    wait_for(lambda: not check(), timeout=10, what="unmount after stop")
    # and it starts again from its kept upper dir
    bb("start", "short").ok()
    assert bb("wait", "short").ok().stdout.strip() == "0"


# ---------------------------------------------------------------- simulated reboot
def test_ps_and_start_after_a_simulated_reboot(bb):
    bb("run", "-d", "--name", "svc", "busybox", "sh", "-c", "echo started; sleep 1000").ok()
    cid = _cid(bb, "svc")
    run = bb.runroot / "containers" / cid
    monitor = _pid_and_start(run / "monitor.pid")
    init = _pid_and_start(run / "pid")
    for pid in (monitor, init):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{init}").exists() or "Z" in _proc_state(init), timeout=10,
             what="the container process to die")
    # a reboot unmounts everything and wipes the runroot's containers dir
    rootfs = run / "rootfs"
    if bb.rootless:
        # the pause process (and its mount namespace) would be gone after a reboot too
        pause = bb.runroot / "pause.pid"
        if pause.exists():
            os.kill(_pid_and_start(pause), signal.SIGKILL)
            time.sleep(0.2)
    else:
        subprocess.run(["umount", "-l", str(rootfs)], capture_output=True)
    shutil.rmtree(bb.runroot / "containers")
    ps = bb("ps", "-a", "--format", "{{.Names}} {{.State}}").ok().stdout.split()
    assert ps == ["svc", "exited"], ps
    assert bb("ps", "-q").ok().stdout == ""
    bb("start", "svc").ok()
    assert _inspect(bb, "svc", "{{.State.Status}}") == "running"
    wait_for(lambda: bb("logs", "svc").stdout.count("started") == 2, timeout=20, what="the second run's output")
    bb("rm", "-f", "-t", "0", "svc").ok()
    assert bb("ps", "-aq").ok().stdout == ""


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"
