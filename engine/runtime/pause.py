"""The per-user pause process: it holds Hull's user and mount namespaces.

Rootless, every hull command joins the same user namespace (uid 0 = the user,
1.. = the subordinate ids) and mount namespace, as Podman's pause process does:
mounts made by one command (`hull image mount` in `hull unshare`) are seen by
the next, and later the rootless network hangs on it too.

The process is `catatonit -P` (Podman's choice; `sleep infinity` when it is
missing), exec'd right after the namespaces are set up so no Python interpreter
stays resident.  Its pid file, `{runroot}/pause.pid`, holds `PID STARTTIME`:
the kernel start time tells a recycled pid from our process.  Creation is
serialised by `{runroot}/pause.lock`, so racing commands end up sharing one.
"""

from __future__ import annotations

import fcntl
import os

from engine.errors import HullError
from engine.record import Record
from engine.runtime.idmap import UserIDMaps, format_proc_map, newidmap_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
# runroot: a str or a Path (os.path only: `run`/`start` join the namespace before pathlib loads)

PID_FILE = "pause.pid"
LOCK_FILE = "pause.lock"
PAUSE_CANDIDATES = (("/usr/bin/catatonit", "-P"), ("/usr/libexec/podman/catatonit", "-P"),
                    ("/usr/bin/sleep", "infinity"), ("/bin/sleep", "infinity"))


class PauseError(HullError):
    """The pause process could not be created or used."""


class PauseProcess(Record, frozen=True):
    pid: int
    starttime: int

    def ns_path(self, kind: str) -> str:
        return f"/proc/{self.pid}/ns/{kind}"

    def alive(self) -> bool:
        """Still the same process (a recycled pid has another start time)."""
        return _starttime(self.pid) == self.starttime


def _starttime(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot), None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat[stat.rindex(b")") + 2:].split()
    if fields[0] == b"Z":
        return None  # a zombie holds no namespaces
    return int(fields[19])


def _owned_by_us(pid: int) -> bool:
    """Real uid (as seen from our namespace) is ours, and it runs a pause binary."""
    try:
        with open(f"/proc/{pid}/status") as f:
            uid_line = next(line for line in f if line.startswith("Uid:"))
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0]
    except (OSError, StopIteration):
        return False
    pause_names = {os.path.basename(p).encode() for p, _ in PAUSE_CANDIDATES}
    return int(uid_line.split()[1]) == os.getuid() and os.path.basename(argv0) in pause_names


def read_pause(runroot: str | PathLike) -> PauseProcess | None:
    """The live pause process recorded in runroot, or None (missing, stale, foreign)."""
    try:
        with open(os.path.join(runroot, PID_FILE)) as f:
            text = f.read()
        pid_text, start_text = text.split()
        proc = PauseProcess(int(pid_text), int(start_text))
    except (OSError, ValueError):
        return None
    if proc.pid <= 1 or _starttime(proc.pid) != proc.starttime or not _owned_by_us(proc.pid):
        return None
    return proc


def _write_pid_file(runroot: str | PathLike, proc: PauseProcess) -> None:
    tmp = os.path.join(runroot, f".{PID_FILE}.{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(f"{proc.pid} {proc.starttime}\n")
    os.replace(tmp, os.path.join(runroot, PID_FILE))  # readers never see a half-written file


class _Lock:
    """Exclusive flock on {runroot}/pause.lock (fd closed on exec)."""

    def __init__(self, runroot: str | PathLike) -> None:
        self.path = os.path.join(runroot, LOCK_FILE)

    def __enter__(self) -> "_Lock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _pause_argv() -> list[str]:
    for path, arg in PAUSE_CANDIDATES:
        if os.access(path, os.X_OK):
            return [path, arg]
    raise PauseError("no pause program found (install catatonit or coreutils)")


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _child(ready_w: int, go_r: int, status_w: int, argv: list[str]) -> None:
    """Runs in the grandchild: never returns, reports failures as `E<errno> <step>`."""
    import signal
    from engine.runtime.syscalls import CLONE_NEWNS, CLONE_NEWUSER, MS_REC, MS_SLAVE, SYSCALLS

    step = "unshare"
    try:
        SYSCALLS.unshare(CLONE_NEWUSER | CLONE_NEWNS)
        os.write(ready_w, b"R")
        if os.read(go_r, 1) != b"G":
            os._exit(1)  # the parent gave up (newuidmap failed)
        step = "setresuid"
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        step = "make-rslave"
        # Host mounts keep propagating in; ours never leak out.
        SYSCALLS.mount(None, "/", None, MS_REC | MS_SLAVE)
        step = "detach"
        os.setsid()
        os.chdir("/")
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        keep = sorted({0, 1, 2, status_w})
        for lo, hi in zip(keep, keep[1:] + [65536]):
            os.closerange(lo + 1, hi)
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)  # Python's SIG_IGN would survive exec
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        step = "exec"
        os.execv(argv[0], argv)  # status_w is O_CLOEXEC: the parent reads EOF on success
    except BaseException as exc:  # noqa: BLE001 - a forked child must never unwind into the caller
        err = getattr(exc, "errno", None) or 0
        try:
            os.write(status_w, f"E{err} {step}".encode())
        finally:
            os._exit(1)


def _find_tool(name: str) -> str | None:
    for directory in (os.environ.get("PATH") or "").split(":") + ["/usr/bin", "/usr/sbin"]:
        path = os.path.join(directory or ".", name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _write_maps(pid: int, maps: UserIDMaps) -> None:
    """Give the new namespace its maps: the setuid helpers, or direct writes for one id."""
    if maps.single:
        # An unprivileged process may map just its own ids, after denying setgroups.
        from engine.errors import SyscallError
        from engine.runtime.procfs import ProcfsHandle

        try:  # verified procfs writes (engine/runtime/procfs.py)
            with ProcfsHandle.open() as proc:
                proc.write(f"{pid}/uid_map", format_proc_map(maps.uid_maps))
                proc.write(f"{pid}/setgroups", "deny")
                proc.write(f"{pid}/gid_map", format_proc_map(maps.gid_maps))
        except OSError as exc:
            raise PauseError(f"cannot write the id map of the user namespace: {exc.strerror}") from None
        except SyscallError as exc:
            raise PauseError(f"cannot write the id map of the user namespace: {os.strerror(exc.errno)}") from None
        return
    import subprocess  # only on the creation path: keeps the join path lean

    for tool, id_maps in (("newuidmap", maps.uid_maps), ("newgidmap", maps.gid_maps)):
        binary = _find_tool(tool)
        if binary is None:
            raise PauseError(f"{tool} not found: install the uidmap package (Debian) or shadow-utils")
        # newgidmap leaves setgroups allowed, so the namespace may still call setgroups.
        result = subprocess.run([binary, str(pid), *newidmap_args(id_maps)],
                                stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
            raise PauseError(f"{tool} failed: {detail} (check /etc/sub{tool[3:6]})")


def _spawn(maps: UserIDMaps) -> PauseProcess:
    """Create the pause process; the caller holds the lock."""
    import signal  # not at the top: every rootless command imports this module, few spawn or kill
    from engine.runtime.syscalls import SYSCALLS

    argv = _pause_argv()
    SYSCALLS.preload()  # parse once here, not again in the child
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    go_r, go_w = os.pipe2(os.O_CLOEXEC)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
    middle = os.fork()
    if middle == 0:
        # Double fork: the pause process is never our child, so it is never our zombie.
        try:
            for fd in (ready_r, go_w, status_r, pid_r):
                os.close(fd)
            grandchild = os.fork()
            if grandchild == 0:
                os.close(pid_w)
                _child(ready_w, go_r, status_w, argv)
            os.write(pid_w, str(grandchild).encode())
        finally:
            os._exit(0)
    for fd in (ready_w, go_r, status_w, pid_w):
        os.close(fd)
    try:
        os.waitpid(middle, 0)
        pid_text = _read_exact(pid_r, 16)
        if not pid_text:
            raise PauseError("cannot fork the pause process")
        pid = int(pid_text)
        if _read_exact(ready_r, 1) != b"R":
            raise PauseError(f"cannot create a user namespace: {_child_error(status_r)}")
        try:
            _write_maps(pid, maps)
        except PauseError:
            os.kill(pid, signal.SIGKILL)
            raise
        os.write(go_w, b"G")
        failure = _read_exact(status_r, 256)
        if failure:
            raise PauseError(f"cannot start the pause process: {_describe(failure)}")
        start = _starttime(pid)
        if start is None:
            raise PauseError("the pause process exited right after it started")
        return PauseProcess(pid, start)
    finally:
        for fd in (ready_r, go_w, status_r, pid_r):
            os.close(fd)


def _child_error(status_r: int) -> str:
    return _describe(_read_exact(status_r, 256)) or "the child exited"


def _describe(raw: bytes) -> str:
    """`E<errno> <step>` from the child -> `step: strerror`."""
    try:
        code, step = raw.decode()[1:].split(" ", 1)
        return f"{step}: {os.strerror(int(code))}" if int(code) else step
    except ValueError:
        return raw.decode(errors="replace")


def ensure_pause(runroot: str | PathLike, maps_factory) -> tuple[PauseProcess, bool]:
    """The live pause process, creating it under the lock if needed.

    Returns (process, created).  `maps_factory()` builds the id maps; it runs
    only when a new process is made (reading /etc/subuid costs nothing otherwise).
    """
    if proc := read_pause(runroot):
        return proc, False
    with _Lock(runroot):
        if proc := read_pause(runroot):  # another command made it while we waited
            return proc, False
        proc = _spawn(maps_factory())
        _write_pid_file(runroot, proc)
        return proc, True


def stop_pause(runroot: str | PathLike) -> bool:
    """Kill the pause process (`hull system migrate`/`reset`); True if one was running."""
    import signal

    with _Lock(runroot):
        proc = read_pause(runroot)
        try:
            os.unlink(os.path.join(runroot, PID_FILE))
        except FileNotFoundError:
            pass
        if proc is None:
            return False
        os.kill(proc.pid, signal.SIGKILL)
        return True
