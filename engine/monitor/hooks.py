"""What the monitor's forked helper processes do (each runs in a child of the monitor).

Everything heavy lives here: the OCI runtime, the state database, events, --rm.
Imports happen inside the helpers, never in the monitor itself.  Each helper reports
one JSON line on its result socket.  Store and services calls are guarded: what is
not there (yet) is skipped, and a failure is printed to the monitor's error file.
"""

from __future__ import annotations

import os
import socket
import sys
import time


from engine.monitor.process import add_helper_path, pack_msg


def engine_config():
    from pathlib import Path

    from engine.config import EngineConfig

    return EngineConfig(root=Path(os.environ["HULL_ROOT"]), runroot=Path(os.environ["HULL_RUNROOT"]),
                        rootless=os.environ.get("_HULL_MONITOR_ROOTLESS") == "1")


def load_runtime(name: str):
    """`module:attr` (a class or factory taking no arguments; tests) or a runtime name."""
    if ":" in name and "/" not in name:
        import importlib

        mod, _, attr = name.partition(":")
        return getattr(importlib.import_module(mod), attr)()
    from pathlib import Path

    from engine.runtime.base import get_runtime

    return get_runtime(name, Path(os.environ["HULL_RUNROOT"]))


def send(sock: socket.socket, doc: dict, fds: list[int] | None = None) -> None:
    data = pack_msg(doc)
    try:
        if fds:
            socket.send_fds(sock, [data], fds)
        else:
            sock.sendall(data)
    except OSError:
        pass


def error_doc(exc: BaseException) -> dict:
    code = getattr(exc, "exit_code", 125)
    kind = type(exc).__name__
    msg = str(exc) or kind
    return {"error": msg, "kind": kind, "code": code if isinstance(code, int) else 125}


def _warn(what: str) -> None:
    exc = sys.exc_info()[1]
    if type(exc).__name__ == "ContainerNotFound":
        return  # removed meanwhile (or a test without a row): nothing to record
    import traceback

    print(f"hull monitor {os.environ.get('_HULL_MONITOR_CID', '')[:12]}: {what}", file=sys.stderr)
    traceback.print_exc()
    sys.stderr.flush()


# --------------------------------------------------------------- create + start
def create_and_start(runtime: str, cid: str, bundle: str, pid_file: str, stdio, res_fd: int,
                     go_fd: int, listen_fds: tuple[int, ...] = ()) -> int:
    """Create the container, report {"created": pid}, wait for the go byte, start it,
    report {"started": pid}.  One process for both: a runtime may keep what create
    made (a sync pipe) in memory until start."""
    add_helper_path()
    sock = socket.socket(fileno=res_fd)
    rt = None
    pid = 0
    try:
        rt = load_runtime(runtime)
        consoles: list[int] = []
        rs = stdio.runtime_stdio()
        if listen_fds:  # socket activation: the process's fds 3.. (engine/monitor/listenfds.py)
            rs = rs.replace(extra_fds=tuple(listen_fds))
        if stdio.tty and hasattr(rs, "on_console"):
            # The runtime makes the pty inside the container (so `tty` names
            # /dev/pts/0 there) and hands us the master; ours is the fallback.
            rs = rs.replace(terminal_fd=None, on_console=consoles.append)
        from pathlib import Path

        try:
            pid = rt.create(cid, Path(bundle), rs, Path(pid_file))
        except Exception as exc:  # noqa: BLE001 - only "already exists" is retried
            # State left by a monitor killed with SIGKILL (the services checked the
            # container is not running): drop it, killing any orphan, and create again.
            if "exists" not in str(exc):  # builtin/crun "already exists", runc "container with id exists"
                raise
            rt.delete(cid, force=True)
            pid = rt.create(cid, Path(bundle), rs, Path(pid_file))
        send(sock, {"created": pid, "console": bool(consoles)}, consoles[:1])
        if os.read(go_fd, 1) != b"g":  # the monitor is gone (or gave up): never start it
            _undo_create(rt, cid, pid)
            return 0
        rt.start(cid)
        send(sock, {"started": pid})
        return 0
    except BaseException as exc:  # noqa: BLE001 - reported to the launcher
        send(sock, error_doc(exc))
        if rt is not None:
            _undo_create(rt, cid, pid)
        return 1


def _undo_create(rt, cid: str, pid: int) -> None:
    """A created container that will not be started: its init killed and reaped here
    (we are its subreaper), whatever the runtime's state says (a runroot removed
    meanwhile makes delete() fail), then the runtime's state dropped."""
    if pid > 0:
        import signal

        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:  # our unreaped child: never a recycled pid
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    try:
        rt.delete(cid, force=True)
    except BaseException:  # noqa: BLE001 - gone already
        pass


# --------------------------------------------------------------- database + events
def _store():
    from engine.store import Store

    return Store.open(engine_config())


def emit(cid: str, name: str, image: str, action: str, exit_code: int | None = None,
         attributes: dict | None = None) -> None:
    try:
        from engine.services.events import emit as _emit
    except ImportError:
        return
    try:
        _emit(engine_config(), "container", action, id=cid, name=name, image=image,
              attributes=attributes or {}, exit_code=exit_code)
    except Exception:  # noqa: BLE001
        _warn(f"event {action}")


def record_started(cid: str, name: str, image: str, pid: int, monitor_pid: int, started_at: float,
                   restart_count: int, events: list[str]) -> int:
    add_helper_path()
    try:
        store = _store()
        cs = store.containers
        fields = {"pid": pid, "monitor_pid": monitor_pid}
        if restart_count:
            fields.update(started_at=started_at, restart_count=restart_count, finished_at=0.0)
            from engine.store.containers import ContainerState

            cs.transition(cid, ContainerState.RUNNING, **fields)
        else:
            cs.update(cid, **fields)
    except Exception:  # noqa: BLE001
        _warn("recording the start")
    for action in events:
        emit(cid, name, image, action)
    if restart_count:  # a restart by policy: container:X dependents follow into new namespaces
        try:
            from engine.services.container_rejoin import rejoin

            rejoin(engine_config(), _store(), cid)
        except Exception:  # noqa: BLE001
            _warn("restarting dependent containers")
    return 0


def record_exit(cid: str, name: str, image: str, runtime: str, code: int, finished_at: float,
                res_fd: int) -> int:
    """Runtime state gone, exit recorded (DB), `died` event; reports whether the user
    stopped the container (the DB flag; the monitor also checks the marker file)."""
    add_helper_path()
    sock = socket.socket(fileno=res_fd)
    try:
        load_runtime(runtime).delete(cid, force=True)
    except Exception:  # noqa: BLE001 - the runtime may have dropped it already
        pass
    stopped = False
    try:
        cs = _store().containers
        if hasattr(cs, "record_exit"):
            cs.record_exit(cid, code, finished_at)
        else:
            from engine.store.containers import ContainerState

            cs.transition(cid, ContainerState.EXITED, exit_code=code, finished_at=finished_at, pid=0)
        stopped = bool(getattr(cs.get(cid), "stopped_by_user", False))
    except Exception:  # noqa: BLE001
        _warn("recording the exit")
    emit(cid, name, image, "died", exit_code=code)
    send(sock, {"stopped_by_user": stopped})
    return 0


def finish_exit(cid: str, name: str, image: str, runtime: str, code: int, finished_at: float,
                rm: bool) -> int:
    """A final exit in one helper: runtime state gone, exit recorded with its `died`
    event (unless a hull command read the exit file and recorded it first), then --rm
    or the cleanup."""
    add_helper_path()
    try:
        load_runtime(runtime).delete(cid, force=True)
    except Exception:  # noqa: BLE001 - the runtime may have dropped it already
        pass
    recorded = False
    try:
        from engine.store.containers import ContainerState as S

        _store().containers.transition(cid, S.EXITED, expect={S.CREATED, S.RUNNING, S.PAUSED, S.STOPPED},
                                       exit_code=code, finished_at=finished_at, pid=0)
        recorded = True
    except Exception as exc:  # noqa: BLE001
        kind = type(exc).__name__
        if kind == "ContainerNotFound":
            # No row: removed by `run --rm` (which recorded the exit first, and its
            # userdata is gone), or a monitor started without a database row.
            recorded = os.path.isdir(os.path.join(os.environ["HULL_ROOT"], "containers", cid, "userdata"))
        elif kind != "Conflict":  # Conflict: a hull command read the exit file first
            _warn("recording the exit")
    if recorded:
        emit(cid, name, image, "died", exit_code=code)
    return after_exit(cid, rm)


def after_exit(cid: str, rm: bool) -> int:
    """--rm: remove the container; else the services' cleanup (unmount...) if any."""
    add_helper_path()
    try:
        from engine.services import containers as svc
    except ImportError:
        return 0
    try:
        if rm and hasattr(svc, "remove_after_exit"):
            svc.remove_after_exit(engine_config(), cid)
        elif not rm and hasattr(svc, "cleanup_after_exit"):
            svc.cleanup_after_exit(engine_config(), cid)
    except Exception:  # noqa: BLE001
        _warn("--rm" if rm else "cleanup")
    return 0


def record_health(cid: str, name: str, image: str, status: str | None, doc: dict) -> int:
    add_helper_path()
    try:
        _store().containers.update(cid, health=doc["Status"], health_log=doc["Log"],
                                   failing_streak=doc["FailingStreak"])
    except Exception:  # noqa: BLE001
        _warn("recording health")
    if status:
        emit(cid, name, image, "health_status", attributes={"health_status": status})
    return 0


# --------------------------------------------------------------- healthcheck exec
def run_healthcheck(runtime: str, cid: str, spec_path: str, argv: list[str], timeout: float,
                    res_fd: int) -> int:
    """Exec `argv` in the container (env, cwd, user of its process), capture up to
    4 KiB of output, kill it at `timeout`; report {"exit_code", "output"}."""
    add_helper_path()
    sock = socket.socket(fileno=res_fd)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    import json

    try:
        with open(spec_path, "rb") as fh:
            spec_proc = json.loads(fh.read()).get("process", {})
        process = {k: v for k, v in spec_proc.items() if k in ("env", "cwd", "user", "capabilities",
                                                                "noNewPrivileges", "rlimits",
                                                                "apparmorProfile", "selinuxLabel")}
        process.update(args=argv, terminal=False)
        process.setdefault("cwd", "/")
        from engine.monitor.stdio import RuntimeStdio

        try:
            from engine.runtime.base import Stdio
        except ImportError:
            Stdio = RuntimeStdio
        rt = load_runtime(runtime)
        pid = rt.exec(cid, process, Stdio(stdin_fd=null, stdout_fd=out_w, stderr_fd=out_w), None)
    except BaseException as exc:  # noqa: BLE001 - a check that cannot run fails
        doc = error_doc(exc)
        send(sock, {"exit_code": doc["code"] if doc["code"] in (126, 127) else 1,
                    "output": doc["error"]})
        return 0
    os.close(out_w)
    os.set_blocking(out_r, False)
    deadline = time.monotonic() + timeout
    output = bytearray()
    status = None
    import select

    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            send(sock, {"exit_code": -1, "output": f"Health check exceeded timeout of {timeout:g}s",
                        "timeout": True})
            return 0
        select.select([out_r], [], [], min(left, 0.05))
        _drain(out_r, output)
        try:
            done, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, st = pid, 0
        if done == pid:
            status = st
    _drain(out_r, output)
    from engine.monitor.exitfile import exit_code_from_status

    send(sock, {"exit_code": exit_code_from_status(status),
                "output": bytes(output[:4096]).decode("utf-8", "replace")})
    return 0


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            return
        if len(into) < 4096:
            into += data
