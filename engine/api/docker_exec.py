"""Docker's exec routes: POST /containers/{id}/exec, POST /exec/{id}/start,
POST /exec/{id}/resize, GET /exec/{id}/json.

Sessions live as JSON files in {runroot}/api-exec/<id>.json (written by rename, so a
reader on another connection never sees half a file): create writes one, start
runs the command through the same pieces as `hull exec` (container_io.build_process,
check_command, the container's OCI runtime; the connection's child is
single-threaded, so the built-in runtime's fork is safe) and records Pid, Running
and ExitCode, so `docker exec`'s inspect after the stream ends reads the exit code.
A TTY session listens on {runroot}/api-exec/<id>.ctl for resizes from other
connections.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import struct
import time
from pathlib import Path
from typing import Any

from engine.api import context
from engine.api.docker_containers import find, no_such
from engine.api.docker_streams import MULTIPLEXED, RAW, mux, pump, send_all
from engine.api.http import Request
from engine.api.router import route
from engine.errors import CannotInvoke, CommandNotFound, Conflict, HullError, InvalidArgument, NotFound


class NoSuchExec(NotFound):
    pass


def _dir() -> Path:
    d = context.config().runroot / "api-exec"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def _path(eid: str) -> Path:
    if not eid or not all(c in "0123456789abcdef" for c in eid) or len(eid) != 64:
        raise NoSuchExec(f"No such exec instance: {eid}")
    return _dir() / f"{eid}.json"


def load(eid: str) -> dict:
    try:
        return json.loads(_path(eid).read_text())
    except (OSError, ValueError):
        raise NoSuchExec(f"No such exec instance: {eid}") from None


def save(doc: dict) -> None:
    path = _path(doc["ID"])
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


def _update(eid: str, **fields: Any) -> dict:
    doc = load(eid)
    doc.update(fields)
    save(doc)
    return doc


def running_exec_ids(cid: str) -> list[str]:
    out = []
    try:
        names = os.listdir(_dir())
    except OSError:
        return out
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        try:
            doc = json.loads((_dir() / name).read_text())
        except (OSError, ValueError):
            continue
        if doc.get("ContainerID") == cid and doc.get("Running"):
            out.append(doc["ID"])
    return out


# ---------------------------------------------------------------- create / inspect
@route("POST", "/containers/{name}/exec")
def create(request: Request, name: str) -> None:
    body = request.json(required=True)
    if not isinstance(body, dict):
        raise InvalidArgument("the request body must be a JSON object")
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd or not isinstance(cmd, list) or not all(isinstance(x, str) for x in cmd):
        raise InvalidArgument("No exec command specified")
    env = body.get("Env") or []
    if not isinstance(env, list) or not all(isinstance(x, str) for x in env):
        raise InvalidArgument("Env must be a list of strings")
    if body.get("DetachKeys"):
        from engine.services.detach_keys import parse_detach_keys

        parse_detach_keys(body["DetachKeys"])
    c = find(name)
    if c.state.value != "running":
        raise Conflict(f"Container {c.id} is {'paused' if c.state.value == 'paused' else 'not running'}")
    eid = secrets.token_hex(32)
    save({
        "ID": eid, "ContainerID": c.id, "Running": False, "ExitCode": None, "Pid": 0,
        "OpenStdin": bool(body.get("AttachStdin")), "OpenStdout": bool(body.get("AttachStdout")),
        "OpenStderr": bool(body.get("AttachStderr")), "Tty": bool(body.get("Tty")),
        "Cmd": list(cmd), "Env": list(env), "User": str(body.get("User") or ""),
        "WorkingDir": str(body.get("WorkingDir") or ""), "Privileged": bool(body.get("Privileged")),
        "DetachKeys": str(body.get("DetachKeys") or ""), "Started": False, "CanRemove": False,
        "ConsoleSize": body.get("ConsoleSize"),
    })
    request.send_json({"Id": eid}, 201)


@route("GET", "/exec/{eid}/json")
def inspect(request: Request, eid: str) -> None:
    doc = load(eid)
    if doc.get("Running") and doc.get("Pid") and not _alive(int(doc["Pid"]), doc.get("StartTime")):
        doc["Running"] = False  # the serving child died before recording the end
    out = {
        "CanRemove": False, "ContainerID": doc["ContainerID"], "DetachKeys": doc.get("DetachKeys") or "",
        "ID": doc["ID"], "OpenStderr": doc["OpenStderr"],
        "OpenStdin": doc["OpenStdin"], "OpenStdout": doc["OpenStdout"], "Running": bool(doc.get("Running")),
        "Pid": int(doc.get("Pid") or 0),
        "ProcessConfig": {"privileged": doc["Privileged"], "user": doc["User"], "tty": doc["Tty"],
                          "entrypoint": doc["Cmd"][0], "arguments": doc["Cmd"][1:]},
    }
    if doc.get("ExitCode") is not None:  # Docker's null before the end; the swagger says integer: omitted
        out["ExitCode"] = int(doc["ExitCode"])
    request.send_json(out)


def _alive(pid: int, start: Any) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- start
def _prepare(doc: dict, tty: bool) -> tuple[Any, dict, Any]:
    """(container row, OCI process, runtime) for the session; errors as `hull exec`'s."""
    from engine.runtime.base import get_runtime
    from engine.services.common import open_store
    from engine.services.container_io import ExecOptions, _load_spec, build_process, check_command, live_proc

    cfg = context.config()
    store = open_store(cfg)
    with no_such(doc["ContainerID"]):
        c = find(doc["ContainerID"])
    with live_proc(store, c) as live:
        if live is None or c.state.value != "running":
            raise Conflict(f"Container {c.id} is not running")
        root_fd = os.open("root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=live[1])
        try:
            opts = ExecOptions(cmd=doc["Cmd"], tty=tty, env=doc["Env"], user=doc["User"] or None,
                               workdir=doc["WorkingDir"] or None, privileged=doc["Privileged"])
            process = build_process(_load_spec(store, c), opts, root_fd)
            check_command(root_fd, process)
        finally:
            os.close(root_fd)
    return c, process, get_runtime(c.runtime or None, cfg.runroot)


def _wait_pid(pid: int) -> int:
    from engine.services.container_io import _wait

    return _wait(pid)


@route("POST", "/exec/{eid}/start")
def start(request: Request, eid: str) -> None:
    body = request.json()
    if not isinstance(body, dict):
        raise InvalidArgument("the request body must be a JSON object")
    doc = load(eid)
    if doc.get("Started"):
        raise Conflict(f"Exec instance {eid} has already been started")
    tty = bool(body.get("Tty", doc["Tty"]))
    detach = bool(body.get("Detach"))
    doc = _update(eid, Started=True, Tty=tty)
    try:
        c, process, runtime = _prepare(doc, tty)
    except (CommandNotFound, CannotInvoke) as err:
        code = 127 if isinstance(err, CommandNotFound) else 126
        _update(eid, ExitCode=code, Running=False)
        if detach:
            raise
        # Docker: the stream opens, the runtime's message comes on it, the exit code
        # is the exec's (the CLI reads it from the inspect that follows)
        sock = request.hijack(RAW if tty else MULTIPLEXED)
        message = f"OCI runtime exec failed: exec failed: {err}\r\n".encode()
        send_all(sock, message if tty else mux(1, message))
        return
    except HullError:
        _update(eid, Started=False)
        raise
    if detach:
        _start_detached(request, eid, c, process, runtime)
        return
    sock = request.hijack(RAW if tty else MULTIPLEXED)
    pending = request.conn.pending_input
    if tty:
        _run_tty(sock, pending, eid, doc, c, process, runtime)
    else:
        _run_pipes(sock, pending, eid, doc, c, process, runtime)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _start_detached(request: Request, eid: str, c: Any, process: dict, runtime: Any) -> None:
    """Answer at once; a forked child runs the command and records its end."""
    from engine.runtime.base import Stdio

    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            exec_pid = runtime.exec(c.id, process, Stdio(devnull, devnull, devnull))
            _update(eid, Pid=exec_pid, Running=True)
            _update(eid, ExitCode=_wait_pid(exec_pid), Running=False)
        except BaseException:  # noqa: BLE001 - recorded, never back into the server
            with contextlib.suppress(BaseException):
                _update(eid, ExitCode=126, Running=False)
            code = 1
        os._exit(code)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not load(eid).get("Pid") and load(eid).get("ExitCode") is None:
        time.sleep(0.02)
    request.send_empty(200)


def _run_pipes(sock: socket.socket, pending: bytes, eid: str, doc: dict, c: Any, process: dict,
               runtime: Any) -> None:
    from engine.runtime.base import Stdio

    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    in_r = in_w = None
    devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    if doc["OpenStdin"]:
        in_r, in_w = os.pipe2(os.O_CLOEXEC)
    try:
        pid = runtime.exec(c.id, process, Stdio(in_r if in_r is not None else devnull, out_w, err_w))
    finally:
        for fd in (out_w, err_w, in_r, devnull):
            if fd is not None:
                os.close(fd)
    _update(eid, Pid=pid, Running=True)

    def relay(stream: int, wanted: bool):
        def handle(data: bytes) -> bool:
            if data and wanted:
                send_all(sock, mux(stream, data))
            return True
        return handle

    def to_stdin(data: bytes) -> bool:
        if in_w is not None:
            try:
                os.write(in_w, data)
            except OSError:
                pass
        return True

    def stdin_eof() -> None:
        nonlocal in_w
        if in_w is not None:
            os.close(in_w)
            in_w = None

    try:
        pump(sock, pending, read_fds={out_r: relay(1, doc["OpenStdout"]), err_r: relay(2, doc["OpenStderr"])},
             on_input=to_stdin if in_w is not None else None, on_input_eof=stdin_eof if in_w is not None else None)
    finally:
        os.close(out_r)
        os.close(err_r)
        stdin_eof()
        code = _wait_pid(pid)
        _update(eid, ExitCode=code, Running=False)


def _run_tty(sock: socket.socket, pending: bytes, eid: str, doc: dict, c: Any, process: dict,
             runtime: Any) -> None:
    from engine.monitor import attach as proto
    from engine.runtime.base import Stdio
    from engine.services.detach_keys import DEFAULT_DETACH_KEYS, DetachMatcher, parse_detach_keys

    consoles: list[int] = []
    pid = runtime.exec(c.id, process, Stdio(on_console=consoles.append))
    if not consoles:
        raise HullError("the OCI runtime gave no terminal for the exec session")
    master = consoles[0]
    size = doc.get("ConsoleSize")
    if isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
        _set_size(master, size[0], size[1])
    ctl_path = _dir() / f"{eid}.ctl"
    ctl = proto.listen(os.fspath(ctl_path))
    _update(eid, Pid=pid, Running=True)
    matcher = DetachMatcher(parse_detach_keys(doc.get("DetachKeys") or DEFAULT_DETACH_KEYS))

    def from_master(data: bytes) -> bool:
        if not data:
            return False  # EIO: the session's processes are gone
        return send_all(sock, data)

    detached = False

    def from_client(data: bytes) -> bool:
        nonlocal detached
        out, detached = matcher.feed(data)
        if out and doc["OpenStdin"]:
            with contextlib.suppress(OSError):
                os.write(master, out)
        return not detached

    def on_ctl() -> bool:
        try:
            conn, _ = ctl.accept()
        except OSError:
            return True
        with conn:
            conn.settimeout(2)
            with contextlib.suppress(OSError, ValueError):
                rows, cols = (int(x) for x in conn.recv(64).split())
                _set_size(master, rows, cols)
        return True

    try:
        pump(sock, pending, read_fds={master: from_master}, on_input=from_client,
             on_input_eof=lambda: None, extra={ctl.fileno(): on_ctl})
    finally:
        ctl.close()
        with contextlib.suppress(OSError):
            os.unlink(ctl_path)
        os.close(master)
        if not detached:
            _update(eid, ExitCode=_wait_pid(pid), Running=False)


def _set_size(fd: int, rows: int, cols: int) -> None:
    import fcntl
    import termios

    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


@route("POST", "/exec/{eid}/resize")
def resize(request: Request, eid: str) -> None:
    from engine.monitor import attach as proto

    h, w = request.int_arg("h"), request.int_arg("w")
    if h is None or w is None or h < 0 or w < 0:
        raise InvalidArgument("h and w must be given as non-negative integers")
    doc = load(eid)
    if not doc.get("Tty"):
        raise Conflict(f"Exec instance {eid} has no TTY")
    ctl_path = _dir() / f"{eid}.ctl"
    deadline = time.monotonic() + 5
    while not ctl_path.exists():  # start may not have made its terminal yet
        doc = load(eid)
        if doc.get("ExitCode") is not None or time.monotonic() > deadline:
            raise Conflict(f"Exec instance {eid} is not running")
        time.sleep(0.02)
    try:
        conn = proto.connect(os.fspath(ctl_path), timeout=5)
    except OSError:
        raise Conflict(f"Exec instance {eid} is not running") from None
    with conn:
        conn.sendall(f"{h} {w}".encode())
    request.send_bytes(b"", content_type="text/plain")
