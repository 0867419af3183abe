"""Memory each engine keeps per running detached container: unique set size (the
sum of the Private_* lines of /proc/PID/smaps_rollup, what would be freed if the
process went away) after `run -d busybox sleep 1000`.

Hull: every process the `run -d` left behind that is not the container's own
(the monitor, plus any helper it keeps).  Podman: conmon (State.ConmonPid); any
other per-container helper Podman leaves (slirp4netns for the default network) is
named in the notes, not added.  Reported side by side, no target."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.busybox import REF, Stores
from bench.harness import BenchError, Context, Engine, Measurement, rounds_interleaved

NAME = "memory"
TITLE = "memory (USS) per detached container: Hull monitor+helpers vs Podman conmon"
TARGET = None
ROUNDS = 3
SETTLE = 1.0  # seconds after `run -d` before reading: let the monitor reach its idle loop


def uss_kib(pid: int) -> int:
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Private_"):
            total += int(line.split()[1])
    return total


def _procs(uid: int) -> dict[int, tuple[int, str]]:
    """pid -> (ppid, comm) of the user's processes."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        out[int(entry.name)] = (ppid, comm)
    return out


def _tree(root: int, procs: dict[int, tuple[int, str]]) -> set[int]:
    out, todo = {root}, [root]
    while todo:
        p = todo.pop()
        kids = [c for c, (pp, _) in procs.items() if pp == p and c not in out]
        out.update(kids)
        todo.extend(kids)
    return out


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET, unit="MB")
    stores = Stores(ctx)
    seen: dict[str, dict[str, float]] = {}

    def one(eng: Engine) -> float:
        store = stores.get(eng)
        before = set(_procs(ctx.user.uid))
        cid = eng.run(store, "run", "-d", REF, "sleep", "1000").stdout.decode().strip()
        try:
            time.sleep(SETTLE)
            fmt = "{{.State.Pid}} {{.State.ConmonPid}}"
            pid, mon = map(int, eng.run(store, "inspect", "--format", fmt, cid).stdout.split())
            if not pid or not mon:
                raise BenchError(f"{eng.name}: inspect gives pid {pid}, monitor pid {mon}")
            procs = _procs(ctx.user.uid)
            new = set(procs) - before - _tree(pid, procs)
            # Reading the pid just before the file: a process that left in between is skipped.
            kept: dict[int, int] = {}
            for p in new | {mon}:
                try:
                    kept[p] = uss_kib(p)
                except OSError:
                    pass
            if mon not in kept:
                raise BenchError(f"{eng.name}: monitor pid {mon} has no smaps_rollup")
            parts = seen.setdefault(eng.name, {})
            for p, kib in kept.items():
                parts[procs.get(p, (0, str(p)))[1]] = kib / 1024
            counted = kept.values() if eng.name == "hull" else [kept[mon]]
            return sum(counted) / 1024
        finally:
            eng.run(store, "rm", "-f", "-t", "0", cid, timeout=120)

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    for name, parts in seen.items():
        m.notes.append(f"{name}: " + ", ".join(f"{c} {mb:.1f} MB" for c, mb in sorted(parts.items())))
    return m
