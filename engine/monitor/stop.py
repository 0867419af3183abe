"""Stopping a monitored container from a hull process: the stop signal, then SIGKILL.

`stop_container(cfg, cid, timeout=None)` leaves the `stopped-by-user` marker (so the
monitor applies no restart policy), sends the container's stop signal (monitor.json)
to its init, waits up to `timeout` seconds (monitor.json's stop_timeout when None)
for the monitor's `exit` file, then sends SIGKILL and waits again.  Returns the
ExitInfo, or None when the container was not running or its monitor is gone without
writing one (the services' reconcile then records it).
"""

from __future__ import annotations

import os
import signal
import time

from engine.monitor.config import ContainerPaths, MonitorConfig
from engine.monitor.exitfile import ExitInfo, read_exit
from engine.monitor.process import pid_file_alive


def mark_stopped_by_user(paths: ContainerPaths) -> None:
    fd = os.open(paths.run("stopped-by-user"), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.close(fd)


def wait_exit(paths: ContainerPaths, timeout: float, interval: float = 0.02) -> ExitInfo | None:
    """The exit file once written; None at the timeout or when the monitor died first."""
    deadline = time.monotonic() + timeout
    while True:
        info = read_exit(paths.run("exit"))
        if info is not None:
            return info
        if pid_file_alive(paths.run("monitor.pid")) is None:
            return read_exit(paths.run("exit"))
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)


def stop_container(cfg, cid: str, timeout: float | None = None) -> ExitInfo | None:
    paths = ContainerPaths(cfg.root, cfg.runroot, cid)
    try:
        mcfg = MonitorConfig.load(paths.monitor_json)
    except (OSError, ValueError):
        mcfg = MonitorConfig()
    if timeout is None:
        timeout = mcfg.stop_timeout
    done = read_exit(paths.run("exit"))
    pid = pid_file_alive(paths.run("pid"))
    if done is not None or pid is None:
        return done
    mark_stopped_by_user(paths)
    if timeout > 0:
        _kill(pid, mcfg.stop_signal)
        done = wait_exit(paths, timeout)
        if done is not None:
            return done
    _kill(pid, signal.SIGKILL)
    return wait_exit(paths, 10.0)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
