"""The OCI runtime contract every runtime (built-in, crun, runc, a path) fulfils.

One instance per runtime name, from `get_runtime(name_or_path, runroot)`.  The
caller (the monitor) owns the container's stdio and waits for its exit:
`create` makes the calling process a child subreaper, so the container's first
process is (or becomes) its child and `os.waitpid(pid)` gives its exit status.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import InvalidArgument
from engine.record import Record

TYPE_CHECKING = False  # typing and dataclasses cost ~15 ms in the monitor's create helper
if TYPE_CHECKING:
    from typing import Callable, Protocol

STATUSES = ("creating", "created", "running", "paused", "stopped")


class Stdio(Record, frozen=True):
    """File descriptors the container's process gets as 0, 1, 2.

    With `terminal_fd` (a pty slave) the process gets a new session with that
    terminal as its controlling tty on 0, 1 and 2; the std*_fd are ignored then.
    With `on_console` instead (needed for crun/runc, which make the pty themselves),
    the runtime allocates the pty inside the container (so `tty` says /dev/pts/0) and
    calls `on_console(master_fd)` before create/exec returns; the caller owns the fd.
    `extra_fds` (create only) become the process's fds 3, 4, ... in that order."""

    stdin_fd: int | None = None
    stdout_fd: int | None = None
    stderr_fd: int | None = None
    terminal_fd: int | None = None
    on_console: Callable[[int], None] | None = None
    # systemd socket activation: fds the process gets as 3, 4, ... (LISTEN_FDS, as Podman)
    extra_fds: tuple[int, ...] = ()


class RuntimeState(Record, frozen=True):
    status: str           # one of STATUSES
    pid: int              # host pid of the container's first process (0 when stopped)
    bundle: str = ""


if TYPE_CHECKING:  # the contract, for readers and type checkers; nothing checks it at run time
    class OCIRuntime(Protocol):
        name: str

        def create(self, cid: str, bundle: Path, stdio: Stdio, pid_file: Path | None = None) -> int:
            """Create the container; its process waits for `start`. Returns its host pid."""

        def start(self, cid: str) -> None: ...

        def state(self, cid: str) -> RuntimeState: ...

        def kill(self, cid: str, signal: int, all: bool = False) -> None: ...

        def delete(self, cid: str, force: bool = False) -> None: ...

        def pause(self, cid: str) -> None: ...

        def resume(self, cid: str) -> None: ...

        def exec(self, cid: str, process: dict, stdio: Stdio, pid_file: Path | None = None) -> int:
            """Run `process` (an OCI process object) in the container; returns its host pid,
            a child of the caller."""

        def update(self, cid: str, resources: dict) -> None: ...


def runtime_root(runroot: Path, name: str) -> Path:
    """Where a runtime keeps its state: {runroot}/runtime (built-in) or {runroot}/<name>."""
    return Path(runroot) / name


def get_runtime(name_or_path: str | None = None, runroot: Path | None = None) -> OCIRuntime:
    """`builtin` (the default, also for None/""), `crun`, `runc`, or a path to an OCI runtime."""
    if runroot is None:
        from engine.config import EngineConfig

        runroot = EngineConfig().runroot
    name = name_or_path or "builtin"
    if name in ("builtin", "hull"):
        from engine.runtime.builtin import BuiltinRuntime

        return BuiltinRuntime(runtime_root(runroot, "runtime"))
    import shutil

    from engine.runtime.external import ExternalRuntime

    path = name if "/" in name else shutil.which(name)
    if not path or not Path(path).is_file():
        raise InvalidArgument(f"cannot find OCI runtime {name!r}: no such file or directory")
    return ExternalRuntime(Path(path).name if "/" not in name else Path(path).name, Path(path),
                           runtime_root(runroot, Path(path).name))
