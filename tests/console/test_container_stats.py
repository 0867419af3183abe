"""Per-container memory and CPU (engine/services/container_stats.py), which `hull stats`
and the console's /ws/stats share.

A container the runtime could not give a memory cgroup of its own sits in its
parent's; that cgroup's usage (the user's session, the CI sandbox: 1.3 GB for a
sleeping busybox) is not the container's.  A shell holding a 50 MB string must
show about 50 MB, an idle one a few hundred kB, as root and rootless.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from tests.fixtures.cli import wait_for

pytestmark = pytest.mark.timeout(300)

HELD = 50_000_000  # bytes the shell keeps in a variable
HOLDER = ['sh', '-c', f'x=$(head -c {HELD} /dev/zero | tr "\\0" a); echo held; while :; do sleep 100; done']
UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}


def to_bytes(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)\s*([kMGT]?B)", text.strip()).groups()
    return float(number) * UNITS[unit]


def mem_usage(h, name: str) -> float:
    [row] = json.loads(h("stats", "--no-stream", "--format", "json", name).ok().stdout)
    return to_bytes(row["mem_usage"].split("/")[0])


def test_stats_memory_is_the_containers_own(hull_any, busybox_image) -> None:
    h = hull_any
    h.load(busybox_image)
    h("run", "-d", "--name", "holder", "--network", "none", "localhost/busybox", *HOLDER).ok()
    h("run", "-d", "--name", "idle", "--network", "none", "localhost/busybox", "sleep", "1000").ok()
    wait_for(lambda: "held" in h("logs", "holder").stdout, timeout=60, what="the 50 MB string")

    held = mem_usage(h, "holder")
    assert HELD * 0.95 <= held <= HELD * 2, f"{held:,.0f} bytes for a shell holding {HELD:,}"
    idle = mem_usage(h, "idle")
    assert idle < 10_000_000, f"{idle:,.0f} bytes for a sleeping busybox"
    # CPU time includes the exited `head` and `tr` (their time is in the cgroup or the
    # shell's reaped children's), not just the processes still running.
    [row] = json.loads(h("stats", "--no-stream", "--format", "json", "holder").ok().stdout)
    assert row["cpu_time"] not in ("0s", "0ms"), row
    h("rm", "-f", "-t", "0", "holder", "idle").ok()


def test_console_stats_socket_shows_the_same_memory(hull, hull_dirs, busybox_image, monkeypatch) -> None:
    """The console's /ws/stats reads the same service: the holder is ~50 MB there too."""
    from tests.console.test_live_consumers import open_socket, receive_until

    hull.load(busybox_image)
    monkeypatch.setenv("HULL_ROOT", str(hull.root))
    monkeypatch.setenv("HULL_RUNROOT", str(hull.runroot))
    cid = hull("run", "-d", "--network", "none", "localhost/busybox", *HOLDER).ok().stdout.strip()
    wait_for(lambda: "held" in hull("logs", cid).stdout, timeout=60, what="the 50 MB string")

    async def scenario() -> dict:
        comm = await open_socket(f"/ws/stats?container={cid}&interval=500")
        frames = await receive_until(comm, lambda fs: len(fs) >= 1)
        await comm.disconnect()
        return frames[-1]

    frame = asyncio.run(scenario())
    (row,) = frame["containers"]
    assert HELD * 0.95 <= row["mem"] <= HELD * 2, row
    hull("rm", "-f", "-t", "0", cid).ok()
