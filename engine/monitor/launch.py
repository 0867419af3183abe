"""Starting a container's monitor from a hull process (CLI, API, console).

`start_monitor(cfg, cid)` spawns `python -S -P -c <engine.monitor.__main__.main> <cid>` as a fresh
interpreter (never a fork of the caller: nothing of the CLI's memory, threads or
locks goes with it; -P: `-c` would put the caller's working directory first on
sys.path, and an `engine/` there would run in the monitor), waits until the container runs and returns its pid, or raises
the error the runtime gave (CommandNotFound 127, CannotInvoke 126, else HullError
125).  The monitor has detached by then: killing the caller does not touch it.
The services must have written userdata/config.json and monitor.json first, and
mounted the rootfs; rootless callers are already inside Hull's user namespace, which
the monitor inherits.
"""

from __future__ import annotations

import os
import sys
import time

import engine
from engine import errors
from engine.monitor.config import ContainerPaths
from engine.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from pathlib import Path

    from engine.config import EngineConfig
# `socket` (with its enums and selectors) is imported where used: `prespawn` runs
# before the CLI's other imports and only needs _socket's socketpair.

# os.path, not pathlib: prespawn runs before the CLI has imported pathlib (engine/cli/early.py)
_ENGINE_PARENT = os.path.dirname(os.path.dirname(os.path.realpath(engine.__file__)))
# `python -S -P -c` this, not `-m engine.monitor`: runpy (importlib.util, contextlib, the
# package lookup) cost the monitor's start-up ~4 ms, on the critical path of run/start.
MONITOR_ARGV = ("-S", "-P", "-c", "import sys; from engine.monitor.__main__ import main; sys.exit(main(sys.argv[1:]))")
STALE_FILES = ("exit", "exit.tmp", "pid", "runtime.pid", "monitor.pid", "attach", "stopped-by-user")


class MonitorHandle(Record):  # not dataclasses/subprocess here: each costs ms on every run/start
    monitor_pid: int      # the detached monitor
    pid: int              # the container's init (host pid)
    started_at: float     # seconds since the epoch
    attach_path: Path     # the monitor's attach socket

    def connect(self, timeout: float | None = 10.0) -> socket.socket:
        """A connection to the attach socket (frames: engine/monitor/attach.py)."""
        from engine.monitor.attach import connect

        return connect(str(self.attach_path), timeout)


def monitor_env(cfg: EngineConfig, sync_fd: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HULL_ROOT=str(cfg.root), HULL_RUNROOT=str(cfg.runroot),
        _HULL_MONITOR_ROOTLESS="1" if cfg.rootless else "0",
        _HULL_MONITOR_FD=str(sync_fd),
        PYTHONPATH=_ENGINE_PARENT,
        _HULL_MONITOR_SYSPATH=os.pathsep.join(p for p in sys.path if p and p != _ENGINE_PARENT),
    )
    env.pop("PYTHONSTARTUP", None)
    if "LISTEN_FDS" in env:  # socket activation is for the container (listenfds.py), never the monitor
        for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
            env.pop(key, None)
    return env


class _Early(Record):
    """A monitor spawned ahead of time (prespawn), waiting for its container."""
    key: tuple            # the store it was started for (root, runroot, rootless)
    pid: int              # its first generation (reaped by start_monitor)
    sock: socket.socket   # the sync socket
    err_fd: int           # its stderr until it knows its container (an unlinked file)
    remover: bool         # this process removes the container after its exit (run --rm)


_early: list[_Early] = []
_while_waiting: list = []  # callables: see while_waiting()


def while_waiting(fn) -> None:
    """Run `fn()` in the next start_monitor() of this process, after it has handed the
    container over and before it waits for it to run: this process idles there (the
    monitor creates and starts the container), so what the caller needs right after
    (the attach client's imports) costs no time there.  Errors in `fn` are ignored."""
    _while_waiting.append(fn)


def _run_while_waiting() -> None:
    while _while_waiting:
        try:
            _while_waiting.pop(0)()
        except Exception:  # noqa: BLE001 - a head start only: the caller does it again
            pass


def _key(cfg: EngineConfig) -> tuple:
    return (str(cfg.root), str(cfg.runroot), bool(cfg.rootless))


def prespawn(cfg: EngineConfig, *, remover: bool = False) -> None:
    """Spawn a monitor now, before the caller's create/mount work: it starts Python,
    detaches and imports the runtime in its create helper meanwhile, and the next
    start_monitor() for this store hands it the container.  Nothing is lost if none
    comes: at the end of this process (killed or not) its socket closes and it exits.
    Call it inside Hull's user namespace (rootless), as start_monitor.  `remover`:
    this process attaches and removes the container itself after its exit (`run
    --rm`); the monitor's own --rm then waits for it to end, and is skipped if the
    container is gone by then (and still runs if this process died first)."""
    for e in _early:
        if e.key == _key(cfg):  # spawned before the flags were parsed: now we know
            e.remover = remover
            return
    try:
        os.makedirs(cfg.runroot, mode=0o700, exist_ok=True)
        err_fd = _unnamed_file(str(cfg.runroot))
    except OSError:
        return  # start_monitor spawns one the usual way (and reports any error)
    import _socket

    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        pid = _spawn([sys.executable, *MONITOR_ARGV, "-"], err_fd, theirs.fileno(),
                     monitor_env(cfg, theirs.fileno()))
    except OSError:
        ours.close()
        os.close(err_fd)
        return
    finally:
        theirs.close()
    _early.append(_Early(key=_key(cfg), pid=pid, sock=ours, err_fd=err_fd, remover=remover))


def _unnamed_file(directory: str) -> int:
    """A file only we (and the monitor, through its stderr) hold: O_TMPFILE, or a
    name unlinked at once where the file system has no O_TMPFILE."""
    try:
        return os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError:
        path = os.path.join(directory, f".monitor-{os.getpid()}-{time.monotonic_ns()}.err")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        os.unlink(path)
        return fd


def _take_early(cfg: EngineConfig) -> _Early | None:
    for i, e in enumerate(_early):
        if e.key == _key(cfg):
            return _early.pop(i)
    return None


def start_monitor(cfg: EngineConfig, cid: str, *, attach: bool = False,
                  timeout: float = 120.0) -> MonitorHandle:
    """Start the container `cid` under a new monitor (or the one prespawn() started).
    With `attach`, the monitor keeps the container's output (and its exit) until the
    first attach client connects, so `run`/`start -a` lose nothing by connecting after
    this returns."""
    paths = ContainerPaths(cfg.root, cfg.runroot, cid)
    os.makedirs(paths.rundir, mode=0o700, exist_ok=True)
    for name in STALE_FILES:
        try:
            os.unlink(paths.run(name))
        except FileNotFoundError:
            pass
    err_path = paths.run("monitor.err")
    listen: list[int] = []
    if "LISTEN_FDS" in os.environ or os.path.exists(os.path.join(paths.userdata, "listen-env")):
        from engine.monitor import listenfds  # socket activation only: never on the usual path

        listen, names = listenfds.inherited()
        listenfds.prepare_spec(paths.userdata, paths.spec, len(listen), names)
    early = _take_early(cfg)
    if early is not None:
        ours, pid = early.sock, early.pid
        _send_config(ours, paths.monitor_json, {"cid": cid, "attach": attach,
                                                "remover": os.getpid() if early.remover and attach else 0}, listen)
    else:
        import socket

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [sys.executable, *MONITOR_ARGV, cid] + (["--attach"] if attach else [])
        try:
            err = os.open(err_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                pid = _spawn(argv, err, theirs.fileno(), monitor_env(cfg, theirs.fileno()))
            finally:
                os.close(err)
        except OSError as exc:
            ours.close()
            raise errors.HullError(f"starting the container monitor: {exc.strerror}") from None
        finally:
            theirs.close()
        _send_config(ours, paths.monitor_json, None, listen)
    _run_while_waiting()
    try:
        doc = _read_message(ours, timeout)
        if doc is None:
            last = _last_line(err_path)
            if last == "no message" and early is not None:  # it died before it knew its container
                last = _last_line_fd(early.err_fd)
            raise errors.HullError(f"the container monitor exited early: {last}")
    except BaseException:
        _kill(pid)  # a first generation that hangs (a zombie is unaffected)
        raise
    finally:
        ours.close()
        if early is not None:
            os.close(early.err_fd)
        _reap(pid)  # the first generation exits as soon as it has forked
    if "error" in doc:
        raise _error(doc)
    from pathlib import Path

    # From the message, not monitor.pid: a container that exits at once may take
    # its monitor (and that file) with it before we get here.
    return MonitorHandle(monitor_pid=int(doc.get("monitor_pid") or 0), pid=int(doc["ready"]),
                         started_at=float(doc.get("started_at") or time.time()),
                         attach_path=Path(paths.run("attach")))


def _spawn(argv: list[str], err: int, sync_fd: int, env: dict[str, str]) -> int:
    """posix_spawn the monitor: stdin/stdout /dev/null, stderr the file `err`,
    `sync_fd` inherited.  Every other fd is close-on-exec here (Python's default) and
    the monitor closes any inherited one itself (subprocess would cost ms to import)."""
    os.set_inheritable(sync_fd, True)
    return os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, err, 2)])


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except OSError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _send_config(sock: socket.socket, path: str, extra: dict | None = None, fds: list[int] | None = None) -> None:
    """monitor.json, parsed here (json is loaded already) and sent as the first
    message: the monitor then needs no json and no parsing child of its own.
    Unreadable: nothing is sent and the monitor reads the file itself (and reports)."""
    import json

    from engine.monitor.process import pack_msg

    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read())
        data = pack_msg({**(extra or {}), "config": doc}) if isinstance(doc, dict) else b""
    except (OSError, ValueError):
        data = b""
    data = data or pack_msg(extra or {})
    try:
        if fds:  # socket activation: the listen fds ride on the first byte (SCM_RIGHTS)
            import socket  # only here: its enums cost ~2 ms before the container can start

            socket.send_fds(sock, [data[:1]], fds)
            data = data[1:]
        sock.sendall(data)
    except OSError:
        pass  # the monitor is gone already: its error file says why


def _read_message(sock: socket.socket, timeout: float) -> dict | None:
    import select

    from engine.monitor.process import unpack_msgs

    buf = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise errors.HullError("timed out waiting for the container monitor")
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        data = sock.recv(65536)
        if not data:
            return None
        buf += data
        msgs = unpack_msgs(buf)
        if msgs:
            return msgs[0]


def _error(doc: dict) -> errors.HullError:
    """The runtime's error, as the class it was raised as (exit code kept)."""
    message = str(doc.get("error") or "container failed to start")
    cls = getattr(errors, str(doc.get("kind")), None)
    if isinstance(cls, type) and issubclass(cls, errors.HullError) and cls is not errors.SyscallError:
        return cls(message)
    code = doc.get("code")
    if code == 127:
        return errors.CommandNotFound(message)
    if code == 126:
        return errors.CannotInvoke(message)
    return errors.HullError(message)


def _last_line(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4096))
            lines = [l for l in fh.read().decode("utf-8", "replace").splitlines() if l.strip()]
        return lines[-1] if lines else "no message"
    except OSError:
        return "no message"


def _last_line_fd(fd: int) -> str:
    try:
        size = os.fstat(fd).st_size
        data = os.pread(fd, 4096, max(0, size - 4096))
    except OSError:
        return "no message"
    lines = [l for l in data.decode("utf-8", "replace").splitlines() if l.strip()]
    return lines[-1] if lines else "no message"
