"""Process plumbing for the monitor: detaching, subreaping, pid files, helpers.

Heavy work (the runtime, the state database, events, --rm) runs in short-lived
forked helper processes so the long-lived monitor keeps only the few modules its
event loop needs (see `fork_helper`).
"""

from __future__ import annotations

import marshal
import os
import signal
import struct
import sys

PR_SET_CHILD_SUBREAPER = 36
_RESET_SIGNALS = ("SIGCHLD", "SIGTERM", "SIGINT", "SIGHUP", "SIGPIPE", "SIGXFSZ", "SIGQUIT",
                  "SIGUSR1", "SIGUSR2", "SIGWINCH")


def daemonize() -> None:
    """Double fork + setsid: the caller returns in the grandchild, which no terminal,
    session or parent (the CLI) ties to.  The first two generations exit at once so
    the launcher's wait() returns and no zombie is left behind."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    if devnull > 2:
        os.close(devnull)


def set_child_subreaper() -> bool:
    """Become the reaper of orphaned descendants: an external runtime's `create`
    exits and leaves the container's init to us, and so do helper processes."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def starttime(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot): tells a recycled pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
        return int(data.rsplit(b")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def write_pid_file(path: str, pid: int) -> None:
    """`PID STARTTIME`, atomically."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, f"{pid} {starttime(pid) or 0}\n".encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_pid_file(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        with open(path, "rb") as fh:
            fields = fh.read(64).split()
        return int(fields[0]), int(fields[1]) if len(fields) > 1 else 0
    except (OSError, ValueError, IndexError):
        return None


def pid_file_alive(path: str | os.PathLike) -> int | None:
    """The pid recorded in `path` if that very process (same start time) is alive
    and not a zombie."""
    rec = read_pid_file(path)
    if rec is None or rec[0] <= 0:
        return None
    pid, start = rec
    st = starttime(pid)
    if st is None or (start and st != start):
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        if state in (b"Z", b"X"):
            return None
    except (OSError, IndexError):
        return None
    return pid


def close_fds_except(keep: set[int]) -> None:
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def reset_signals() -> None:
    """Default dispositions, as a freshly exec'd program expects (Python ignores
    SIGPIPE and SIGXFSZ, and ignored signals survive exec)."""
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:
        pass
    for name in _RESET_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass


def fork_helper(fn, keep_fds: tuple[int, ...] = ()) -> int:
    """Run `fn()` in a forked child that keeps only stdio and `keep_fds`; returns its
    pid.  The child exits with fn's int result (0 for None), 1 on an exception (the
    traceback goes to stderr, the monitor's error file)."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        reset_signals()
        close_fds_except(set(keep_fds))
        result = fn()
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    finally:
        os._exit(code)


def pack_msg(doc: dict) -> bytes:
    """Helper/launcher messages: length-prefixed marshal (builtin: no json in the monitor)."""
    data = marshal.dumps(doc)
    return struct.pack(">I", len(data)) + data


def unpack_msgs(buf: bytearray) -> list[dict]:
    """Whole messages taken off the front of `buf`."""
    out = []
    while len(buf) >= 4:
        (size,) = struct.unpack_from(">I", buf)
        if len(buf) < 4 + size:
            break
        try:
            doc = marshal.loads(bytes(buf[4:4 + size]))
        except (ValueError, EOFError, TypeError):
            doc = None
        del buf[:4 + size]
        if isinstance(doc, dict):
            out.append(doc)
    return out


def add_helper_path() -> None:
    """Helpers import the runtime, the store and the services, which need the
    launcher's full sys.path (site-packages); the monitor itself runs with -S."""
    extra = os.environ.get("_HULL_MONITOR_SYSPATH")
    if extra:
        for p in extra.split(os.pathsep):
            if p and p not in sys.path:
                sys.path.append(p)
