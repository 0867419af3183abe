"""cgroup v2 for the built-in runtime: one cgroup per container where the host lets us.

We look for a writable cgroup v2 directory of our own (/proc/self/cgroup "0::/x"
under the cgroup2 mount).  Limits need their controller enabled there; where they
are not (no delegation for rootless users, a hybrid host with no v2 controllers)
we print Podman's one-line warning once per process and run without them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_warned = False
WARNING = "Resource limits are not supported and ignored on cgroups V1 rootless systems"


def warn_once(text: str = WARNING) -> None:
    global _warned
    if not _warned:
        _warned = True
        print(f'time="{_now()}" level=warning msg="{text}"', file=sys.stderr)


def _now() -> str:
    import datetime

    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def v2_mount() -> Path | None:
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                if right.split(" ", 1)[0] == "cgroup2":
                    return Path(left.split()[4])
    except OSError:
        pass
    return None


def own_cgroup() -> str | None:
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return None


def wanted_limits(resources: dict | None) -> dict[str, str]:
    """cgroup v2 file -> value for the OCI `linux.resources` we support."""
    out: dict[str, str] = {}
    res = resources or {}
    mem = (res.get("memory") or {})
    if mem.get("limit") and mem["limit"] > 0:
        out["memory.max"] = str(mem["limit"])
        swap = mem.get("swap")
        if swap is not None and swap > 0:
            out["memory.swap.max"] = str(max(swap - mem["limit"], 0))
    cpu = res.get("cpu") or {}
    if cpu.get("quota") and cpu["quota"] > 0:
        out["cpu.max"] = f"{cpu['quota']} {cpu.get('period') or 100000}"
    if cpu.get("shares"):
        # runc's conversion of cgroup v1 shares to v2 weight
        out["cpu.weight"] = str(1 + ((int(cpu["shares"]) - 2) * 9999) // 262142)
    pids = res.get("pids") or {}
    if pids.get("limit") and pids["limit"] > 0:
        out["pids.max"] = str(pids["limit"])
    return out


def create(cid: str, resources: dict | None) -> Path | None:
    """Make the container's cgroup and write its limits; None (and a warning when
    limits were asked for) where that is not possible."""
    limits = wanted_limits(resources)
    mount, own = v2_mount(), own_cgroup()
    if mount is None or own is None:
        if limits:
            warn_once()
        return None
    parent = mount / own.lstrip("/")
    if not os.access(parent, os.W_OK):
        if limits:
            warn_once()
        return None
    path = parent / f"hull-{cid}"
    try:
        path.mkdir(exist_ok=True)
    except OSError:
        if limits:
            warn_once()
        return None
    missing = False
    for name, value in limits.items():
        try:
            (path / name).write_text(value)
        except OSError:
            missing = True
    if missing:
        warn_once()
    return path


def join(path: Path | None, pid: int = 0) -> None:
    if path is not None:
        try:
            (path / "cgroup.procs").write_text(str(pid))
        except OSError:
            pass


def remove(path: str) -> None:
    if path:
        try:
            os.rmdir(path)
        except OSError:
            pass


def freeze(path: str, on: bool) -> bool:
    """Freeze/thaw through cgroup.freeze; False when the cgroup cannot (caller uses signals)."""
    if not path:
        return False
    try:
        (Path(path) / "cgroup.freeze").write_text("1" if on else "0")
        return True
    except OSError:
        return False


def update(path: str, resources: dict) -> None:
    limits = wanted_limits(resources)
    if not path:
        if limits:
            warn_once()
        return
    for name, value in limits.items():
        try:
            (Path(path) / name).write_text(value)
        except OSError:
            warn_once()
