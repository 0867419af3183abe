"""Pause without a freezer cgroup: SIGSTOP every process of the container's pid
namespace (SIGCONT to resume).  What the built-in runtime does where it has no
cgroup, and what the external adapter falls back to when crun/runc run without
one (rootless on cgroup v1, crun with --cgroup-manager=disabled)."""

from __future__ import annotations

import os
import signal
import time


def namespace_pids(pid: int) -> list[int]:
    """Host pids of every process in the pid namespace of `pid` (it first)."""
    try:
        ns = os.stat(f"/proc/{pid}/ns/pid").st_ino
        if ns == os.stat("/proc/self/ns/pid").st_ino:
            return [pid]  # the container shares our pid namespace: only its own process
    except OSError:
        return []
    out = [pid]
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != pid:
            try:
                if os.stat(f"/proc/{name}/ns/pid").st_ino == ns:
                    out.append(int(name))
            except OSError:
                continue
    return out


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return "X"
    return data[data.rindex(b")") + 2:].split(b" ", 1)[0].decode()


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def stop_all(pid: int, timeout: float = 2.0) -> None:
    """SIGSTOP the namespace of `pid` and wait until its processes are stopped."""
    pids = namespace_pids(pid)
    _signal(pids, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_state(p) not in ("T", "t", "X", "Z") for p in pids):
        time.sleep(0.005)


def continue_all(pid: int) -> None:
    _signal(namespace_pids(pid), signal.SIGCONT)


__all__ = ["continue_all", "namespace_pids", "stop_all"]
