"""`python -S -m engine.monitor <cid>|- [--attach]`: a container's monitor (our conmon).

Started by engine/monitor/launch.py with the store paths in the environment
(HULL_ROOT, HULL_RUNROOT, _HULL_MONITOR_ROOTLESS), PYTHONPATH naming only the
directory that holds `engine` (-S: no site, so no site-packages and no .pth files;
forked helpers add the launcher's full sys.path from _HULL_MONITOR_SYSPATH before they
import the runtime or the store), and _HULL_MONITOR_FD: a socket on which it reports
{"ready": pid} or {"error": ..., "kind": ..., "code": ...} once, after reading
the launcher's first message on it: monitor.json parsed ({"config": {...}}, or {}
to read the file).  With `-` for the container ID the monitor was started ahead of
time (`hull run`/`start` spawn it before their create work): the first message also
names the container ({"cid": ..., "attach": bool, "config": ...}), and the end of
the socket before it means the launcher has no container for us: we exit quietly.
It detaches (double fork, setsid) before anything else, so the launcher's wait()
returns at once and killing the CLI never reaches it; then it forks the helper that
will create the container, which imports the runtime while we wait for the config.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if not argv or (len(argv[0]) != 64 and argv[0] != "-"):
        print("usage: python -S -m engine.monitor <container id>|- [--attach]", file=sys.stderr)
        return 2
    cid = argv[0]
    await_attach = "--attach" in argv[1:]
    sync_fd = int(os.environ.pop("_HULL_MONITOR_FD", "-1"))
    from engine.startup import lean_imports

    lean_imports()  # before the create helper imports the runtime (pathlib)

    from engine.monitor.process import close_fds_except, daemonize, set_child_subreaper, write_pid_file

    daemonize()
    # The helper first: its runtime imports are on run's critical path, what follows
    # here is not (it closes inherited fds itself; reaping its orphans needs the
    # subreaper flag only once it has a job, which comes after the config).
    from engine.monitor.prefork import fork_create_helper

    prefork = fork_create_helper()  # imports the runtime while we wait for the config
    close_fds_except({sync_fd} | ({prefork.ctl.fileno()} if prefork else set()))  # what the launcher let through
    import socket

    sync = socket.socket(fileno=sync_fd) if sync_fd >= 0 else None
    if sync is not None:
        os.set_inheritable(sync_fd, False)
    set_child_subreaper()
    early = cid == "-"
    # Before the wait: started ahead of time, we wait for the launcher's create work, and
    # these imports would come after it, on the way to the container's start.
    from engine.monitor.config import ContainerPaths, MonitorConfig
    from engine.monitor.monitor import Monitor

    listen: list[int] = []  # socket activation (engine/monitor/listenfds.py)
    msg = _first_message(sync, timeout=None if early else 10.0, fds=listen)
    if early:
        if not msg or len(str(msg.get("cid") or "")) != 64:
            return 0  # the launcher created nothing (an error, or it was killed)
        cid = msg["cid"]
        await_attach = bool(msg.get("attach"))
    os.environ["_HULL_MONITOR_CID"] = cid
    paths = ContainerPaths(os.environ["HULL_ROOT"], os.environ["HULL_RUNROOT"], cid)
    try:
        if early:
            _stderr_to(paths.run("monitor.err"))
        write_pid_file(paths.run("monitor.pid"), os.getpid())
        doc = msg.get("config") if msg else None
        if not isinstance(doc, dict):
            doc = _load_config(paths.monitor_json)
        cfg = MonitorConfig.from_dict(doc)
    except (OSError, ValueError, TypeError) as exc:
        _fail(sync, f"container monitor: reading {paths.monitor_json}: {exc}")
        return 1
    mon = None
    try:
        mon = Monitor(paths, cfg, sync, await_attach=await_attach, prefork=prefork,
                      remover=int(msg.get("remover") or 0) if msg else 0, listen_fds=listen)
        mon.run()
    except Exception as exc:  # noqa: BLE001 - last words go to the error file
        import traceback

        traceback.print_exc()
        if mon is not None:
            mon.kill_unstarted()  # a created container nobody will start
        _fail(sync, f"container monitor: {exc}")
        return 1
    return 0


def _first_message(sync, timeout: float | None, fds: list[int] | None = None) -> dict | None:
    """The launcher's first message on the sync socket (None at its end or timeout);
    fds passed with it (socket activation) are appended to `fds`, close-on-exec."""
    if sync is None:
        return None
    import socket

    from engine.monitor.process import unpack_msgs

    buf = bytearray()
    try:
        sync.settimeout(timeout)
        while not (msgs := unpack_msgs(buf)):
            if not buf and fds is not None:  # its first byte may carry fds
                chunk, got, _flags, _addr = socket.recv_fds(sync, 65536, 64)
                for fd in got:
                    os.set_inheritable(fd, False)
                fds += got
            else:
                chunk = sync.recv(65536)
            if not chunk:
                return None
            buf += chunk
    except OSError:
        return None
    finally:
        sync.settimeout(None)
    return msgs[0]


def _stderr_to(path: str) -> None:
    """Started ahead of time, our stderr is an unnamed file of the launcher's (it had
    no container directory yet): from now on it is the container's monitor.err, with
    anything written so far copied in."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        early = os.pread(2, 65536, 0)
        if early:
            os.write(fd, early)
    except OSError:
        pass
    os.dup2(fd, 2)
    os.close(fd)


def _load_config(path: str) -> dict:
    """monitor.json parsed in a forked child: `json` (and `re`) never load in here."""
    import marshal

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            import json

            with open(path, "rb") as fh:
                doc = json.loads(fh.read())
            os.write(w, marshal.dumps(doc if isinstance(doc, dict) else str(doc)))
        except BaseException as exc:  # noqa: BLE001
            os.write(w, marshal.dumps(str(exc) or type(exc).__name__))
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    doc = marshal.loads(b"".join(chunks)) if chunks else "no data"
    if not isinstance(doc, dict):
        raise ValueError(doc)
    return doc


def _fail(sync, message: str) -> None:
    if sync is None:
        return
    from engine.monitor.process import pack_msg

    try:
        sync.sendall(pack_msg({"error": message, "kind": "HullError", "code": 125}))
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
