"""The `exit` file: the container's exit code and time, written by the monitor.

Written before the database is touched (atomically: temp + rename), so an exit is
never lost when the DB is busy or the monitor dies right after.  One line:
`CODE FINISHED` (finished time in seconds since the epoch, 9 decimals), which
engine/services/container_state.read_exit_file reads too.
"""

from __future__ import annotations

import os


class ExitInfo:
    __slots__ = ("code", "finished_ns")

    def __init__(self, code: int, finished_ns: int) -> None:
        self.code = code
        self.finished_ns = finished_ns

    @property
    def finished_at(self) -> float:
        """Seconds since the epoch."""
        return self.finished_ns / 1e9

    def __repr__(self) -> str:
        return f"ExitInfo(code={self.code}, finished_ns={self.finished_ns})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ExitInfo) and other.code == self.code
                and other.finished_ns == self.finished_ns)


def exit_code_from_status(status: int) -> int:
    """waitpid status -> the shell's convention (killed by signal N -> 128+N)."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 255


def write_exit(path: str, code: int, finished_ns: int) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, f"{code} {finished_ns // 1_000_000_000}.{finished_ns % 1_000_000_000:09d}\n".encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_exit(path: str | os.PathLike) -> ExitInfo | None:
    """The recorded exit, or None when there is none (yet) or it is unreadable."""
    try:
        with open(path, "rb") as fh:
            fields = fh.read(64).split()
        if len(fields) < 2:
            return ExitInfo(int(fields[0]), 0)
        sec, _, frac = fields[1].partition(b".")
        return ExitInfo(int(fields[0]), int(sec) * 1_000_000_000 + int(frac.ljust(9, b"0")[:9] or b"0"))
    except (OSError, ValueError, IndexError):
        return None
