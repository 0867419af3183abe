"""Reconcile a container's DB state with what is really running.

The DB says what the last hull process or monitor recorded; a monitor killed
with SIGKILL or a reboot (which wipes `{runroot}`) leaves "running" rows behind
that nobody will ever update.  Every command that reads container state passes
the row through `reconcile()` first: when the DB says running/paused but the
monitor (pid + start time from `{runroot}/containers/<id>/monitor.pid`) is gone,
the container is recorded as exited, with the exit code from the monitor's
`exit` file when it wrote one, else 137 (killed), and it can be started again.
A container process orphaned by a killed monitor is killed: nobody holds its
stdio any more and its state could never be recorded.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.errors import Conflict, ContainerNotFound
from engine.store.containers import Container, ContainerState, pid_alive, read_pid_file

S = ContainerState
KILLED_EXIT_CODE = 137


def monitor_pid_file(store: Any, cid: str) -> Path:
    return store.containers.run_dir(cid) / "monitor.pid"


def container_pid_file(store: Any, cid: str) -> Path:
    return store.containers.run_dir(cid) / "pid"


def exit_file(store: Any, cid: str) -> Path:
    return store.containers.run_dir(cid) / "exit"


def monitor_alive(store: Any, cid: str) -> bool:
    found = read_pid_file(monitor_pid_file(store, cid))
    return found is not None and pid_alive(*found)


def container_process(store: Any, container: Container) -> tuple[int, int | None] | None:
    """The container's init (pid, start time) when it is alive, else None."""
    found = read_pid_file(container_pid_file(store, container.id))
    if found is None or not pid_alive(*found):
        return None
    # A runtime's pid file has no start time: accept the pid only if that process
    # started when this container did, so a recycled pid is never killed.
    if found[1] is None and not _started_near(found[0], container.started_at):
        return None
    return found


def _started_near(pid: int, when: float, slack: float = 30.0) -> bool:
    from engine.store.containers import pid_starttime

    ticks = pid_starttime(pid)
    if ticks is None or not when:
        return False
    try:
        with open("/proc/stat") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return False
    started = btime + ticks / os.sysconf("SC_CLK_TCK")
    return when - 5 <= started <= when + slack


def read_exit_file(path: Path) -> tuple[int, float] | None:
    """(exit code, finished time) from the monitor's exit file: JSON
    {"exit_code": N, "finished_at": T} or the plain text "N [T]"."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    try:
        if text.startswith("{"):
            doc = json.loads(text)
            return int(doc["exit_code"]), float(doc.get("finished_at") or doc.get("time") or 0)
        parts = text.split()
        return int(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def reconcile(store: Any, container: Container) -> Container:
    """`container` as it really is (the row is updated when it was stale)."""
    if not container.state.active:
        return container
    monitor_up = monitor_alive(store, container.id)
    if monitor_up:
        # The monitor writes the exit file first and records the exit in the DB
        # afterwards (in the background): without a restart policy the file is final.
        if _may_restart(container) or not os.path.exists(exit_file(store, container.id)):
            return container
    # The monitor may have finished cleanly between our read and its check: re-read.
    try:
        fresh = store.containers.get(container.id)
    except ContainerNotFound:
        return container
    if not fresh.state.active:
        return fresh
    proc = None if monitor_up else container_process(store, fresh)
    if proc is not None:
        try:
            import signal  # here: it builds its enums at import (ms); only a dead monitor's container gets here

            os.kill(proc[0], signal.SIGKILL)
        except OSError:
            pass
    recorded = read_exit_file(exit_file(store, fresh.id))
    if recorded is not None and (not fresh.started_at or recorded[1] >= fresh.started_at - 1):
        code, finished = recorded
    elif monitor_up:
        return fresh  # an exit file of an earlier run: this one still runs
    else:
        code, finished = KILLED_EXIT_CODE, time.time()
    try:
        fixed = store.containers.transition(
            fresh.id, S.EXITED, expect={S.RUNNING, S.PAUSED}, exit_code=code,
            finished_at=finished or time.time(), pid=0, monitor_pid=0,
            health="" if not fresh.health else "unhealthy" if fresh.health != "healthy" else fresh.health)
    except (Conflict, ContainerNotFound):  # somebody else got there first
        try:
            return store.containers.get(container.id)
        except ContainerNotFound:
            return container
    if not monitor_up:  # nobody else will run the monitor's cleanup
        _teardown_network(store, fixed)
    from engine.services.events import container_event

    container_event(store.cfg, "died", fixed, exit_code=code)
    return fixed


def _teardown_network(store: Any, c: Container) -> None:
    cfg = store.cfg
    if not os.path.exists(store.containers.run_dir(c.id) / "network.json") and not os.path.lexists(
            cfg.runroot / "netns" / c.id):
        return
    from engine.network.lifecycle import teardown

    try:
        teardown(cfg, store, c)
    except Exception:  # noqa: BLE001  (reconcile must answer anyway)
        pass


def _may_restart(c: Container) -> bool:
    policy = ((c.options or {}).get("restart") or {}).get("name") or "no"
    return policy != "no"


def reconcile_all(store: Any, containers: list[Container]) -> list[Container]:
    return [reconcile(store, c) for c in containers]


def status_word(state: ContainerState) -> str:
    """Podman 5's State.Status (stopped shows as exited, configured as created)."""
    if state in (S.STOPPED, S.EXITED):
        return "exited"
    if state == S.CONFIGURED:
        return "created"
    return state.value


# ---------------------------------------------------------------- what the monitor records
def _open(cfg: Any) -> Any:
    from engine.services.common import open_store

    return open_store(cfg)


def record_running(cfg: Any, cid: str, pid: int, monitor_pid: int = 0, restarted: bool = False) -> Container:
    """The container's process runs (first start or a restart by policy)."""
    store = _open(cfg)
    fields: dict[str, Any] = {"pid": pid, "monitor_pid": monitor_pid or os.getpid()}
    if restarted:
        fields["started_at"] = time.time()
        store.containers.increment(cid, "restart_count")
    c = store.containers.transition(cid, S.RUNNING, **fields)
    if restarted:
        from engine.services.events import container_event

        container_event(cfg, "restart", c)
    return c


def record_exit(cfg: Any, cid: str, exit_code: int, finished_at: float | None = None,
                oom_killed: bool = False, final: bool = True) -> Container:
    """The container's process ended (the monitor wrote the exit file first).
    `final=False` when a restart policy will start it again (state stays running)."""
    store = _open(cfg)
    finished = finished_at or time.time()
    fields = {"exit_code": exit_code, "finished_at": finished, "oom_killed": oom_killed}
    if final:
        c = store.containers.transition(cid, S.EXITED, pid=0, monitor_pid=0, **fields)
    else:
        c = store.containers.update(cid, **fields)
    from engine.services.events import container_event

    container_event(cfg, "died", c, exit_code=exit_code)
    return c


def record_health(cfg: Any, cid: str, status: str, failing_streak: int, log: list[dict]) -> Container:
    """Health status ("starting", "healthy", "unhealthy"), streak and the last checks."""
    store = _open(cfg)
    before = store.containers.get(cid).health
    c = store.containers.update(cid, health=status, failing_streak=failing_streak, health_log=log[-5:])
    if status != before:
        from engine.services.events import container_event

        container_event(cfg, "health_status", c)
    return c
