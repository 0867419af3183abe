"""A running container's stdio from the CLI: exec, attach, logs.

- exec: a process spec from the container's own config.json (env, user, cwd,
  capabilities, rlimits, no_new_privileges) changed by the exec options, run
  through the container's OCI runtime (which joins its namespaces); stdio is
  the caller's, or a pty the runtime allocates inside the container for -t.
  Exit code: the command's; 126/127 from the runtime's CannotInvoke /
  CommandNotFound (Podman's wording), 125 for engine errors.
- attach: a client of the monitor's attach socket (frames in
  docs/architecture.md), with detach keys and terminal resizes.
- logs: the container's log file (k8s-file or json-file), tail/since/until,
  followed until the container stops.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator

from engine.config import EngineConfig
from engine.errors import CannotInvoke, CommandNotFound, Conflict, HullError, InvalidArgument, StorageError
from engine.record import Factory, Record
from engine.services.common import enter_userns
from engine.services.detach_keys import DEFAULT_DETACH_KEYS, DetachMatcher, parse_detach_keys


# container_fs pulls in the cp machinery (tarfile, the archive package): imported on
# first use, never on the attach path `run` and `start -a` take.
def lookup(cfg: EngineConfig, name: str):
    from engine.services.container_fs import lookup as _lookup

    return _lookup(cfg, name)


def live_proc(store: Any, container: Any):
    from engine.services.container_fs import live_proc as _live_proc

    return _live_proc(store, container)

__all__ = ["ExecOptions", "exec_in_container", "AttachOptions", "AttachResult", "attach", "attach_socket",
           "LogOptions", "LogLine", "logs", "container_logs", "parse_detach_keys", "DEFAULT_DETACH_KEYS"]


# -- exec ----------------------------------------------------------------------------------------
class ExecOptions(Record):
    cmd: list[str]
    interactive: bool = False
    tty: bool = False
    detach: bool = False
    env: list[str] | dict[str, str] = Factory(list)   # "K=V" (or "K": the host's value)
    user: str | None = None
    workdir: str | None = None
    privileged: bool = False
    detach_keys: str | None = None
    stdin_fd: int = 0
    stdout_fd: int = 1
    stderr_fd: int = 2


def _load_spec(store: Any, container: Any) -> dict:
    path = Path(container.spec_path) if container.spec_path else store.containers.userdata(container.id) / "config.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read the configuration of container {container.id[:12]}: {exc}") from None


def _env_list(env: list[str] | dict[str, str]) -> list[str]:
    if isinstance(env, dict):
        return [f"{k}={v}" for k, v in env.items()]
    out = []
    for item in env:
        if "=" not in item:  # `-e NAME`: the caller's value, dropped when unset (Podman)
            if item in os.environ:
                out.append(f"{item}={os.environ[item]}")
            continue
        out.append(item)
    return out


def merge_env(base: list[str], extra: list[str]) -> list[str]:
    merged = {e.partition("=")[0]: e for e in base}
    merged.update({e.partition("=")[0]: e for e in extra})
    return list(merged.values())


def build_process(spec: dict, opts: ExecOptions, root_fd: int) -> dict:
    """The OCI process object for this exec."""
    from engine.runtime.capabilities import NAMES

    base = dict(spec.get("process") or {})
    if not opts.cmd:
        raise InvalidArgument("must provide a non-empty command to start an exec session: invalid argument")
    process: dict[str, Any] = {
        "terminal": bool(opts.tty),
        "args": list(opts.cmd),
        "cwd": opts.workdir or base.get("cwd") or "/",
    }
    user = dict(base.get("user") or {"uid": 0, "gid": 0})
    env = list(base.get("env") or [])
    if opts.user:
        from engine.spec.users import resolve_user

        resolved = resolve_user(root_fd, opts.user)
        user = {"uid": resolved.uid, "gid": resolved.gid}
        if resolved.additional_gids:
            user["additionalGids"] = list(resolved.additional_gids)
        env = [e for e in env if not e.startswith("HOME=")] + [f"HOME={resolved.home or '/'}"]
    process["user"] = user
    env = merge_env(env, _env_list(opts.env))
    if opts.tty and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")
    process["env"] = env
    if opts.privileged:  # every capability we have ourselves (Podman: the bounding set)
        caps = _own_bounding() or list(NAMES)
        process["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
    elif base.get("capabilities"):
        process["capabilities"] = base["capabilities"]
    for key in ("rlimits", "noNewPrivileges", "apparmorProfile", "selinuxLabel", "oomScoreAdj"):
        if key in base:
            process[key] = base[key]
    if opts.privileged:
        process.pop("noNewPrivileges", None)
    return process


def check_command(root_fd: int, process: dict) -> None:
    """Find the program as execvp would, inside the container's root: not found -> 127,
    not executable -> 126, with Podman's wording, whatever runtime runs it next."""
    import stat as st_

    from engine.archive.inroot import InRoot

    prog = process["args"][0]
    env = dict(e.partition("=")[::2] for e in process.get("env") or [])
    if "/" in prog:
        candidates = [prog if prog.startswith("/") else os.path.join(process.get("cwd") or "/", prog)]
    else:
        from engine.spec.defaults import DEFAULT_PATH

        candidates = [os.path.join(d or ".", prog) for d in env.get("PATH", DEFAULT_PATH).split(":")]
    denied = False
    with InRoot(root_fd) as root:
        for path in candidates:
            try:
                fd = root.open(os.fsencode(path), os.O_PATH)
            except HullError:
                continue
            try:
                mode = os.fstat(fd).st_mode
            finally:
                os.close(fd)
            if st_.S_ISREG(mode) and mode & 0o111:
                return
            denied = True
    if denied:
        raise CannotInvoke(f"{prog}: permission denied: OCI permission denied")
    if "/" in prog:
        raise CommandNotFound(f"{prog}: no such file or directory: OCI runtime attempted to invoke a "
                              "command that was not found")
    raise CommandNotFound(f"{prog}: executable file not found in $PATH: No such file or directory: "
                          "OCI runtime attempted to invoke a command that was not found")


def _own_bounding() -> list[str]:
    from engine.runtime.capabilities import names_of

    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    return names_of(int(line.split()[1], 16))
    except (OSError, ValueError):
        pass
    return []


def exec_in_container(cfg: EngineConfig, name: str, opts: ExecOptions) -> int:
    """Run the command in the running container; its exit code (0 at once with detach)."""
    from engine.runtime.base import Stdio, get_runtime

    keys = parse_detach_keys(opts.detach_keys if opts.detach_keys is not None else DEFAULT_DETACH_KEYS)
    enter_userns(cfg)  # before any thread: the pty pump may start one
    store, container = lookup(cfg, name)
    with live_proc(store, container) as live:
        if live is None or str(getattr(container.state, "value", container.state)) not in ("running",):
            raise Conflict("can only create exec sessions on running containers: container state improper")
        root_fd = os.open("root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=live[1])
        try:
            process = build_process(_load_spec(store, container), opts, root_fd)
            check_command(root_fd, process)
        finally:
            os.close(root_fd)
    runtime = get_runtime(container.runtime or None, cfg.runroot)
    devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    try:
        if opts.detach:
            runtime.exec(container.id, process, Stdio(devnull, devnull, devnull))
            return 0
        if not opts.tty:
            stdin = opts.stdin_fd if opts.interactive else devnull
            pid = runtime.exec(container.id, process, Stdio(stdin, opts.stdout_fd, opts.stderr_fd))
            return _wait(pid)
        consoles: list[int] = []
        pid = runtime.exec(container.id, process, Stdio(on_console=consoles.append))
        if not consoles:
            raise HullError("the OCI runtime gave no terminal for the exec session")
        master = consoles[0]
        try:
            detached = _pump_pty(master, opts.stdin_fd if opts.interactive else None, opts.stdout_fd, keys)
        finally:
            os.close(master)
        if detached:
            return 0
        return _wait(pid)
    finally:
        os.close(devnull)


def _wait(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return 0  # reaped elsewhere: nothing more to know
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.WEXITSTATUS(status)


def _winsize(fd: int) -> bytes | None:
    import fcntl
    import termios

    try:
        return fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None


def _pump_pty(master: int, stdin_fd: int | None, stdout_fd: int, keys: bytes) -> bool:
    """Copy between the caller's terminal and the pty master until the process ends
    (EIO/EOF on the master); True when the user typed the detach keys."""
    import fcntl
    import termios

    def resize(*_: object) -> None:
        size = _winsize(stdout_fd) or (_winsize(stdin_fd) if stdin_fd is not None else None)
        if size:
            try:
                fcntl.ioctl(master, termios.TIOCSWINSZ, size)
            except OSError:
                pass

    resize()
    old = signal.signal(signal.SIGWINCH, resize)
    matcher = DetachMatcher(keys)
    watch = [master] + ([stdin_fd] if stdin_fd is not None else [])
    try:
        while True:
            try:
                ready, _, _ = select.select(watch, [], [])
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if not data:
                    return False
                _write_all(stdout_fd, data)
            if stdin_fd is not None and stdin_fd in ready:
                data = os.read(stdin_fd, 65536)
                if not data:
                    watch.remove(stdin_fd)
                    stdin_fd = None
                    _write_all(master, b"\x04")  # EOF for the terminal's reader
                    continue
                out, detached = matcher.feed(data)
                if out:
                    _write_all(master, out)
                if detached:
                    return True
    finally:
        signal.signal(signal.SIGWINCH, old)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        view = view[n:]


# -- attach --------------------------------------------------------------------------------------
# The monitor's frame types (engine/monitor/attach.py).
STDIN, STDOUT, STDERR, EXIT, STDIN_CLOSE, RESIZE, ERROR = 0, 1, 2, 3, 4, 5, 7


class AttachOptions(Record):
    stdin: bool = True
    stdout: bool = True
    stderr: bool = True
    detach_keys: str | None = None
    tty: bool | None = None        # None: resize only when our stdout is a terminal
    stdin_fd: int = 0
    stdout_fd: int = 1
    stderr_fd: int = 2


class AttachResult(Record):
    exit_code: int | None          # None when detached (or the monitor went away without one)
    detached: bool = False


def frame(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack(">BI", kind, len(payload)) + payload


def attach(cfg: EngineConfig, name: str, opts: AttachOptions = AttachOptions()) -> AttachResult:
    """`hull attach`: until the container exits (its code) or the user detaches."""
    enter_userns(cfg)
    store, container = lookup(cfg, name)
    state = str(getattr(container.state, "value", container.state))
    with live_proc(store, container) as live:
        if live is None or state not in ("running", "paused"):
            raise Conflict("you can only attach to running containers")
    return attach_socket(store.containers.run_dir(container.id) / "attach", opts)


def attach_socket(path: Path, opts: AttachOptions) -> AttachResult:
    """Pump stdio through the monitor's attach socket at `path` (also for start -a / run)."""
    from engine.monitor import attach as proto

    keys = parse_detach_keys(opts.detach_keys if opts.detach_keys is not None else DEFAULT_DETACH_KEYS)
    try:
        sock = proto.connect(os.fspath(path), timeout=10.0)  # long paths go through /proc/self/fd
    except OSError as exc:
        raise Conflict(f"cannot attach to the container: {exc.strerror}") from None
    try:
        return _AttachPump(sock, opts, keys, proto.FrameDecoder()).run()
    finally:
        sock.close()


class _AttachPump:
    def __init__(self, sock: Any, opts: AttachOptions, keys: bytes, decoder: Any) -> None:
        self.sock = sock
        self.opts = opts
        self.matcher = DetachMatcher(keys)
        self.decoder = decoder
        self.tty = opts.tty if opts.tty is not None else os.isatty(opts.stdout_fd)

    def send_resize(self, *_: object) -> None:
        size = _winsize(self.opts.stdout_fd)
        if size:
            rows, cols = struct.unpack("HHHH", size)[:2]
            try:
                self.sock.sendall(frame(RESIZE, f"{rows} {cols}".encode()))
            except OSError:
                pass

    def run(self) -> AttachResult:
        old = None
        if self.tty:
            self.send_resize()
            old = signal.signal(signal.SIGWINCH, self.send_resize)
        stdin = self.opts.stdin_fd if self.opts.stdin else None
        try:
            while True:
                watch = [self.sock] + ([stdin] if stdin is not None else [])
                try:
                    ready, _, _ = select.select(watch, [], [])
                except InterruptedError:
                    continue
                if self.sock in ready:
                    data = self.sock.recv(65536)
                    if not data:
                        return AttachResult(None)
                    result = self._frames(data)
                    if result is not None:
                        return result
                if stdin is not None and stdin in ready:
                    data = os.read(stdin, 65536)
                    if not data:
                        self.sock.sendall(frame(STDIN_CLOSE))
                        stdin = None
                        continue
                    out, detached = self.matcher.feed(data)
                    if out:
                        self.sock.sendall(frame(STDIN, out))
                    if detached:
                        return AttachResult(None, detached=True)
        finally:
            if old is not None:
                signal.signal(signal.SIGWINCH, old)

    def _frames(self, data: bytes) -> AttachResult | None:
        try:
            frames = self.decoder.feed(data)
        except Exception as exc:  # the monitor's ProtocolError: a frame too big
            raise HullError(f"attach: {exc}") from None
        for kind, payload in frames:
            if kind == STDOUT and self.opts.stdout:
                _write_all(self.opts.stdout_fd, payload)
            elif kind == STDERR and self.opts.stderr:
                _write_all(self.opts.stderr_fd, payload)
            elif kind == EXIT:
                return AttachResult(_exit_code(payload))
            elif kind == ERROR:
                try:
                    doc = json.loads(payload)
                except ValueError:
                    doc = {}
                raise HullError(str(doc.get("message") or "the container monitor reported an error"))
        return None


def _exit_code(payload: bytes) -> int:
    text = payload.strip()
    if text.lstrip(b"-").isdigit():
        return int(text)
    return -1


# -- logs ----------------------------------------------------------------------------------------
class LogOptions(Record):
    follow: bool = False
    tail: int = -1                  # -1: all lines
    since: float | None = None      # Unix seconds
    until: float | None = None
    timestamps: bool = False        # for container_logs
    names_prefix: bool = False      # container_logs of several containers: name (--names), else short ID


class LogLine(Record):
    id: str
    name: str
    time: float
    stream: str                     # "stdout" | "stderr"
    data: bytes
    partial: bool = False
    time_text: str = ""


def _driver(container: Any) -> str:
    return (container.options or {}).get("log_driver") or "k8s-file"


def _lines(store: Any, container: Any, opts: LogOptions) -> Iterator[LogLine]:
    """One container's log through the monitor's reader (rotation, partial lines joined)."""
    from engine.monitor.logs import format_utc, read_logs

    def alive() -> bool:
        with live_proc(store, container) as live:
            return live is not None

    for rec in read_logs(store.containers.log_path(container.id), _driver(container),
                         since=opts.since, until=opts.until,
                         tail=opts.tail if opts.tail is not None and opts.tail >= 0 else None,
                         follow=alive if opts.follow else False):
        data = rec.data
        partial = not data.endswith(b"\n")
        yield LogLine(container.id, container.name, rec.time / 1e9, rec.stream,
                      data if partial else data[:-1], partial, format_utc(rec.time))


def logs(cfg: EngineConfig, names: list[str], opts: LogOptions = LogOptions()) -> Iterator[LogLine]:
    """Each container's log lines in turn; with follow and several containers, lines as
    they come from all of them until every one has stopped."""
    enter_userns(cfg)
    targets = [lookup(cfg, name) for name in names]  # every name checked before any output
    if not opts.follow or len(targets) == 1:
        for store, container in targets:
            yield from _lines(store, container, opts)
        return
    import queue
    import threading

    q: "queue.Queue[Any]" = queue.Queue(maxsize=1024)
    done = object()

    def reader(store: Any, container: Any) -> None:
        try:
            for line in _lines(store, container, opts):
                q.put(line)
        except BaseException as exc:  # noqa: BLE001 - raised by the consumer
            q.put(exc)
        finally:
            q.put(done)

    for store, container in targets:
        threading.Thread(target=reader, args=(store, container), daemon=True).start()
    left = len(targets)
    while left:
        item = q.get()
        if item is done:
            left -= 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield item


def container_logs(cfg: EngineConfig, names: list[str], opts: LogOptions, stdout: Any, stderr: Any) -> None:
    """`logs` written to binary writers; with several containers each line starts with
    the short ID, or the name with names_prefix (libpod's LogLine.String: one container
    gets no prefix, --names or not); RFC 3339 time first with timestamps."""
    multi = len(names) > 1
    for line in logs(cfg, names, opts):
        prefix = ((line.name if opts.names_prefix else line.id[:12]).encode() + b" ") if multi else b""
        if opts.timestamps:
            prefix += line.time_text.encode() + b" "
        out = stderr if line.stream == "stderr" else stdout
        out.write(prefix + line.data + (b"" if line.partial else b"\n"))
        if opts.follow:
            out.flush()
