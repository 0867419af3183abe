"""The built-in runtime's record of one container: {root}/<cid>/state.json + exec.fifo.

The pid is stored with its start time (field 22 of /proc/<pid>/stat): a recycled
pid never passes for the container.  Status comes from the kernel each time:
no process -> stopped; exec.fifo still there -> created; frozen -> paused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.errors import ContainerNotFound, InvalidArgument, StorageError
from engine.record import Record

_ID_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ID_CHARS = _ID_FIRST | frozenset("_.-")
FIFO = "exec.fifo"
INIT_PID = "init.pid"  # "PID STARTTIME" of init, written as soon as create learns it


def check_id(cid: str) -> str:
    # ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ without `re` (not loaded in the monitor's helpers)
    if not (isinstance(cid, str) and 0 < len(cid) <= 128 and cid[0] in _ID_FIRST
            and all(c in _ID_CHARS for c in cid)):
        raise InvalidArgument(f"invalid container ID {cid!r}")
    return cid


def proc_start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # exited, not yet reaped
        return None
    return fields[19]


def proc_state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


class ContainerRecord(Record):
    id: str
    pid: int
    start_time: str
    bundle: str
    cgroup: str = ""          # cgroup v2 directory we made, or ""
    paused_by_signal: bool = False
    created: float = 0.0

    def alive(self) -> bool:
        return self.pid > 0 and proc_start_time(self.pid) == self.start_time


class StateDir:
    """{runtime root}/<cid>/ of one container."""

    def __init__(self, root: Path, cid: str) -> None:
        self.cid = check_id(cid)
        self.path = Path(root) / cid

    @property
    def fifo(self) -> Path:
        return self.path / FIFO

    def exists(self) -> bool:
        return (self.path / "state.json").exists()

    def load(self) -> ContainerRecord:
        try:
            data = json.loads((self.path / "state.json").read_text())
            return ContainerRecord(**data)
        except FileNotFoundError:
            raise ContainerNotFound(f"container {self.cid!r} does not exist") from None
        except (ValueError, TypeError) as exc:
            raise StorageError(f"reading state of container {self.cid}: {exc}") from None

    def save(self, rec: ContainerRecord) -> None:
        tmp = self.path / ".state.json.tmp"
        tmp.write_text(json.dumps(rec.as_dict()))
        os.replace(tmp, self.path / "state.json")

    def save_init_pid(self, pid: int) -> None:
        tmp = self.path / ".init.pid.tmp"
        tmp.write_text(f"{pid} {proc_start_time(pid) or ''}")
        os.replace(tmp, self.path / INIT_PID)

    def kill_unsaved_init(self) -> None:
        """SIGKILL the init that init.pid names (same start time: never a recycled pid)."""
        import signal

        try:
            fields = (self.path / INIT_PID).read_text().split()
            pid, start = int(fields[0]), fields[1]
        except (OSError, ValueError, IndexError):
            return
        if pid > 0 and proc_start_time(pid) == start:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)  # ours when we are its subreaper; else its reaper's
            except ChildProcessError:
                pass

    def status(self, rec: ContainerRecord) -> str:
        if not rec.alive():
            return "stopped"
        if self.fifo.exists():
            return "created"
        if rec.cgroup:
            try:
                if (Path(rec.cgroup) / "cgroup.freeze").read_text().strip() == "1":
                    return "paused"
            except OSError:
                pass
        if rec.paused_by_signal and proc_state(rec.pid) in ("T", "t"):
            return "paused"
        return "running"

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)
