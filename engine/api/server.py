"""`hull system service`: the listening side of the REST API.

One process accepts; every connection is served by a forked child.  Why fork
rather than threads: the services enter Hull's user namespace (setns, which a
threaded process cannot do) and the built-in runtime forks for exec, which is
only safe from a single-threaded process; a child per connection is also
isolated (a stuck `logs -f` or a crash ends one connection, not the service).
The parent never opens the store, so no SQLite handle crosses a fork.

Only the socket's owner and root are served: the parent reads SO_PEERCRED
before forking, outside any user namespace, so the uids are the host's.

Latency: the parent imports what the handlers need before it forks anything, and
keeps one spare child forked ahead of the next connection.  The spare has joined
the user namespace and opened the state database already; the parent passes it
the accepted, peer-checked connection over a socketpair (SCM_RIGHTS), and forks
the next spare once no connection is being served (SIGCHLD wakes the loop) or,
while some stay open (logs -f, attach), after SPARE_DELAY without a new one.
Connections arriving while there is no spare get a child forked for them.
"""

from __future__ import annotations

import errno
import os
import select
import selectors
import signal
import socket
import stat
import struct
import sys
import time
from pathlib import Path

from engine.errors import HullError, InvalidArgument, StorageError

SD_LISTEN_FDS_START = 3
SPARE_DELAY = 0.05  # seconds without a new connection before forking a spare while others are served
SPARE_RETRY = 1.0   # after a spare ended on its own or could not be forked


class Listener:
    def __init__(self, sock: socket.socket, description: str, path: Path | None = None) -> None:
        self.sock = sock
        self.description = description
        self.path = path        # a unix socket file we created (removed on exit)


def default_uri() -> str:
    from engine.config import default_runroot

    return f"unix://{default_runroot() / 'hull.sock'}"


def activated_sockets() -> list[socket.socket]:
    """Sockets passed by systemd socket activation (LISTEN_PID/LISTEN_FDS)."""
    try:
        if int(os.environ.get("LISTEN_PID", "0")) != os.getpid():
            return []
        count = int(os.environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return []
    for key in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(key, None)
    socks = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + count):
        os.set_inheritable(fd, False)
        socks.append(socket.socket(fileno=fd))
    return socks


def listen(uri: str) -> Listener:
    """unix://PATH (socket 0600 in a 0700 directory) or tcp://HOST:PORT."""
    if uri.startswith("unix://"):
        return _listen_unix(Path(uri[len("unix://"):]))
    if uri.startswith("tcp://"):
        hostport = uri[len("tcp://"):].rstrip("/")
        host, sep, port = hostport.rpartition(":")
        if not sep or not port.isdigit():
            raise InvalidArgument(f"invalid URI {uri!r}: expected tcp://HOST:PORT")
        host = host.strip("[]") or "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, int(port)))
        except OSError as exc:
            sock.close()
            raise InvalidArgument(f"cannot listen on {uri}: {exc.strerror}") from None
        sock.listen(128)
        print(f"WARNING: the API is served on {uri} WITHOUT authentication or encryption: "
              "anyone who can reach that address controls your containers", file=sys.stderr)
        return Listener(sock, uri)
    raise InvalidArgument(f"invalid URI {uri!r}: only unix:// and tcp:// are supported")


def _listen_unix(path: Path) -> Listener:
    if not path.is_absolute():
        raise InvalidArgument(f"socket path {path} must be absolute")
    from engine.config import ensure_private_dir

    ensure_private_dir(path.parent)
    try:
        if stat.S_ISSOCK(path.lstat().st_mode):
            refuse_if_live(path)
            path.unlink()
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound and listening under a temporary name, then renamed: the socket file
    # appears only once connections are accepted (clients poll for the file).
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    old = os.umask(0o177)  # the socket file is born 0600: no window where others may connect
    try:
        sock.bind(str(temp))
        sock.listen(128)
        os.rename(temp, path)
    except OSError as exc:
        sock.close()
        try:
            temp.unlink()
        except OSError:
            pass
        raise StorageError(f"cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(old)
    return Listener(sock, f"unix://{path}", path)


def refuse_if_live(path: Path) -> None:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return  # stale socket file: take it over
    finally:
        probe.close()
    raise StorageError(f"{path}: another service is already listening there")


def peer_allowed(conn: socket.socket) -> bool:
    if conn.family != socket.AF_UNIX:
        return True  # tcp:// was asked for explicitly, with a warning
    try:
        _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except OSError:
        return False
    return uid in (0, os.geteuid())


class Service:
    """Accept loop with an idle timer: `idle_timeout` seconds without a connection
    open and without a new one ends the service (0 = never), as Podman's --time."""

    def __init__(self, listeners: list[Listener], idle_timeout: float, ctx_factory) -> None:
        self.listeners = listeners
        self.idle_timeout = idle_timeout
        self.ctx_factory = ctx_factory   # -> EngineConfig, called in each child
        self.children: set[int] = set()
        self.spare: Spare | None = None
        self.busy_until = 0.0   # while children run: no spare before this time.monotonic()
        self.retry_at = 0.0     # nor before this one, after a spare failed
        self.wakeup: tuple[int, ...] = ()
        self.stopping = False

    def serve(self) -> None:
        sel = selectors.DefaultSelector()
        for listener in self.listeners:
            listener.sock.setblocking(False)
            sel.register(listener.sock, selectors.EVENT_READ, listener)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        # A child's exit wakes select (through the wakeup pipe): reap it, fork the spare.
        self.wakeup = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self.wakeup[1], warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda _s, _f: None)
        sel.register(self.wakeup[0], selectors.EVENT_READ, None)
        last_activity = time.monotonic()
        try:
            while not self.stopping:
                self._reap()
                if self.children:
                    last_activity = time.monotonic()
                timeout = 1.0
                if self.idle_timeout > 0:
                    remaining = self.idle_timeout - (time.monotonic() - last_activity)
                    if remaining <= 0 and not self.children:
                        break
                    timeout = max(0.05, min(timeout, remaining))
                if self.spare is None:
                    now = time.monotonic()
                    wait = max(self.retry_at - now, self.busy_until - now if self.children else 0.0)
                    if wait <= 0:
                        self._start_spare()
                    else:
                        timeout = min(timeout, wait)
                for key, _ in sel.select(timeout):
                    if key.data is None:
                        _drain(self.wakeup[0])
                        continue
                    try:
                        self._accept(key.data)
                    except Exception as exc:  # noqa: BLE001 - one bad accept must not end the service
                        print(f"hull service: accept failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                    last_activity = time.monotonic()
        finally:
            sel.close()
            signal.set_wakeup_fd(-1)
            if self.spare is not None:
                self.spare.sock.close()  # the spare sees EOF and exits
            for listener in self.listeners:
                listener.sock.close()
                if listener.path is not None:
                    try:
                        listener.path.unlink()
                    except OSError:
                        pass

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _reap(self) -> None:
        for pid in list(self.children):
            if _exited(pid):
                self.children.discard(pid)
        if self.spare is not None and _exited(self.spare.pid):
            self.spare.sock.close()  # it gave up (its namespaces went away): fork another, later
            self.spare = None
            self.retry_at = time.monotonic() + SPARE_RETRY

    def _accept(self, listener: Listener) -> None:
        try:
            conn, _ = listener.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                time.sleep(0.1)  # out of descriptors: let children finish
            return
        self.busy_until = time.monotonic() + SPARE_DELAY
        if not peer_allowed(conn):
            conn.close()
            return
        if self._hand_over(conn):
            conn.close()
            return
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes/memory: drop this connection, keep serving
            print(f"hull service: cannot serve a connection: fork: {exc.strerror}", file=sys.stderr)
            conn.close()
            time.sleep(0.1)
            return
        if pid:
            conn.close()
            self.children.add(pid)
            return
        # child: serve this connection, then exit without running the parent's cleanup
        self._child(lambda: self._serve_one(conn))

    def _serve_one(self, conn: socket.socket) -> None:
        from engine.api import context

        context.set_factory(self.ctx_factory)
        conn.setblocking(True)
        serve_connection(conn)

    def _child(self, body) -> None:
        """In a forked child: drop the parent's sockets and signal handlers, run
        `body`, and exit without ever returning into the accept loop."""
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(signum, signal.SIG_DFL)
            for fd in self.wakeup:
                os.close(fd)
            for other in self.listeners:
                other.sock.close()
            if self.spare is not None:
                self.spare.sock.close()  # else the spare would not see EOF when the parent ends
            body()
        except BaseException:  # noqa: BLE001 - a child must never return into the accept loop
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)

    # -- the spare child -------------------------------------------------------------
    def _start_spare(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            self.retry_at = time.monotonic() + SPARE_RETRY
            return
        if pid:
            theirs.close()
            self.spare = Spare(pid, ours)
            return
        ours.close()
        self._child(lambda: self._spare_main(theirs))

    def _spare_main(self, sock: socket.socket) -> None:
        from engine.api import context

        context.set_factory(self.ctx_factory)
        pause = context.warm_up()
        _warm_http()
        watch = None
        if pause is not None:  # its namespaces joined: watch it, they go stale when it exits
            try:
                watch = os.pidfd_open(pause)
            except ProcessLookupError:
                return  # gone already: the parent forks another spare
        conn = wait_for_connection(sock, watch)
        if conn is not None:
            serve_connection(conn)

    def _hand_over(self, conn: socket.socket) -> bool:
        """Pass `conn` to the spare; False when there is none or it is gone."""
        spare, self.spare = self.spare, None
        if spare is None:
            return False
        try:
            socket.send_fds(spare.sock, [b"c"], [conn.fileno()])
            passed = True
        except OSError:  # it shut its end: it is exiting (see wait_for_connection)
            passed = False
        spare.sock.close()
        self.children.add(spare.pid)  # reaped with the connection children
        return passed


class Spare:
    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock   # the parent's end of the socketpair the connection is passed on


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _exited(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return bool(done)


def wait_for_connection(sock: socket.socket, watch: int | None) -> socket.socket | None:
    """The spare's wait: the connection the parent passes, or None when the parent
    ended or the pause process went away (its namespaces would be stale: refuse
    further hand-overs by shutting our end, then take only what was sent already)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if watch is not None:
        poller.register(watch, select.POLLIN)
    while True:
        ready = {fd for fd, _ in poller.poll()}
        if sock.fileno() in ready:
            break
        if watch in ready:
            sock.shutdown(socket.SHUT_RD)  # the parent's send fails now: it forks a child instead
            sock.setblocking(False)
            break
    try:
        _msg, fds, _flags, _addr = socket.recv_fds(sock, 1, 1)
    except (BlockingIOError, ConnectionError):
        return None
    finally:
        sock.close()
        if watch is not None:
            os.close(watch)
    if not fds:
        return None  # EOF: the service ended
    conn = socket.socket(fileno=fds[0])
    conn.setblocking(True)
    return conn


def _warm_http() -> None:
    """Serve one `HEAD /_ping` (what the docker CLI sends first) over a socketpair in the
    spare: h11, the router and the response path run once before the client waits, their
    pages copied from the parent and their first-call work done (~1 ms of a fresh child)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        ours.sendall(b"HEAD /_ping HTTP/1.1\r\nHost: spare\r\n\r\n")
        ours.shutdown(socket.SHUT_WR)
        serve_connection(theirs)
        while ours.recv(4096):
            pass
    except OSError:
        pass
    finally:
        ours.close()
        theirs.close()


def serve_connection(conn: socket.socket) -> None:
    """Serve the requests of one connection (keep-alive) until the client is done;
    the API context's factory is set already."""
    from engine.api.http import ClientGone, Connection
    from engine.api.router import dispatch

    connection = Connection(conn)
    try:
        for request in connection.requests():
            dispatch(request)
    except (ClientGone, ConnectionError):
        pass
    finally:
        if not connection.hijacked:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        conn.close()


# What most requests touch beyond the handler modules (router.HANDLER_MODULES).
PRELOAD = (
    "engine.services.common", "engine.services.containers", "engine.services.container_list",
    "engine.services.container_create", "engine.services.container_inspect", "engine.services.container_state",
    "engine.services.container_io", "engine.services.networks", "engine.services.volumes",
    "engine.services.images", "engine.services.image_inspect", "engine.services.system",
    "engine.services.events", "engine.spec.parse", "engine.spec.generate", "engine.store",
    "engine.runtime.userns", "engine.runtime.syscalls", "engine.network.lifecycle", "engine.network.pasta",
    "engine.network.ports",
    "engine.monitor.launch", "shutil",
)


def preload() -> None:
    """Import the handlers and the services they call in the parent, before any fork, so
    each connection's child starts warm (shared copy-on-write) instead of importing them
    itself.  Imports only: the parent still never opens the store nor enters the user
    namespace, and no import here starts a thread."""
    import importlib

    from engine.api import router

    router._load()
    for name in PRELOAD:
        importlib.import_module(name)
    from engine.runtime.syscalls import SYSCALLS

    SYSCALLS.preload()  # setns through cffi: the declarations parsed and libc opened once
    import gc

    gc.freeze()  # children's collections skip all this: no walk over it, no pages copied for it


def run(uris: list[str], idle_timeout: float, ctx_factory) -> None:
    listeners = [Listener(s, "socket-activated") for s in activated_sockets()]
    if not listeners:
        listeners = [listen(u) for u in (uris or [default_uri()])]
    preload()
    try:
        Service(listeners, idle_timeout, ctx_factory).serve()
    except HullError:
        raise
