"""The monitor's event loop: one container's stdio, log, attach clients, exit,
restarts and healthchecks.

Single-threaded (selectors + signal wakeup fd).  Runtime calls, database writes,
events and --rm run in forked helpers (engine/monitor/hooks.py), one bookkeeping
helper at a time so their effects keep their order.  An exit that no restart can
follow reaches attached clients before any bookkeeping (the exit file is written
first, and the services read it), then one helper records it and cleans up.
"""

from __future__ import annotations

import errno
import os
import selectors
import signal
import socket
import sys
import time

from engine.monitor import attach as proto
from engine.monitor.config import ContainerPaths, MonitorConfig
from engine.monitor.exitfile import exit_code_from_status, write_exit
from engine.monitor.logs import LogWriter
from engine.monitor.minijson import dumps
from engine.monitor.process import fork_helper, pack_msg, unpack_msgs, write_pid_file
from engine.monitor.restart import Backoff, should_restart
from engine.monitor.stdio import ContainerStdio, resize

R, W = selectors.EVENT_READ, selectors.EVENT_WRITE
READ_SIZE = 65536
REPLAY_CAP = 4 << 20
ATTACH_WAIT = 30.0  # how long an exit waits for the attacher start_monitor(attach=True) promised
REMOVER_WAIT = 60.0  # how long --rm waits for the attached `hull run --rm` that removes it itself
PROXY_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Monitor:
    def __init__(self, paths: ContainerPaths, cfg: MonitorConfig, sync: socket.socket | None,
                 await_attach: bool = False, prefork=None, remover: int = 0, listen_fds=()) -> None:
        self.paths = paths
        self.cfg = cfg
        self.cid = paths.cid
        self.sync = sync
        self.sel = selectors.DefaultSelector()
        self.log = LogWriter(cfg.log_driver, cfg.log_path or paths.default_log, cfg.log_max_size,
                             cfg.log_max_file)
        self.clients: list[proto.Client] = []
        self.stdin_owner: proto.Client | None = None
        self.stdin_buf = bytearray()
        self.stdin_eof = False
        self.stdio: ContainerStdio | None = None
        self.out_paused = False
        self.init_pid = 0
        self.started_mono = 0.0
        self.restart_count = 0
        self.backoff = Backoff()
        self.force_restart = False
        self.stopping = False  # a SIGTERM with no container, or health-on-failure=stop
        self.await_attach = await_attach
        self.replay: bytearray | None = bytearray() if await_attach else None
        self.timers: dict[str, float] = {}
        self.helpers: dict[int, object] = {}  # pid -> callback(status) or None
        self.results: dict[int, list] = {}  # fd -> [socket, buffer, callback]
        self.book_queue: list = []
        self.book_busy = 0
        self.health = None
        self.health_check: int | None = None  # pid of the running check helper
        self.finishing = False
        self.pending_exit: int | None = None
        self.last_code: int | None = None
        self.last_channel = -1
        self.health_waiters: list = []
        self.go_w: int | None = None
        self.create_pending = False  # a create helper works on this run: no started/error yet
        self.listener: socket.socket | None = None
        self.prefork = prefork  # engine/monitor/prefork.py: the first run's create helper
        # The attached `hull run --rm` (its pid) that removes the container itself after
        # the exit: our --rm waits until that process has ended, and is skipped if the
        # container is gone by then (a second remover would compete for CPU and locks).
        self.remover = remover
        self.listen_fds = tuple(listen_fds)  # socket activation: fds 3.. of every run (listenfds.py)
        self.deferred_book = None
        if prefork is not None:
            self.helpers[prefork.pid] = None

    # ------------------------------------------------------------------ plumbing
    def _register(self, fileobj, events: int, data) -> None:
        try:
            self.sel.register(fileobj, events, data)
        except KeyError:
            self.sel.modify(fileobj, events, data)

    def _unregister(self, fileobj) -> None:
        try:
            self.sel.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    def _notify(self, doc: dict) -> None:
        """Tell the launcher (ready or error), then let go of it."""
        if self.sync is None:
            return
        try:
            self.sync.sendall(pack_msg(doc))
        except OSError:
            pass  # the CLI was killed: we carry on
        self.sync.close()
        self.sync = None

    def _spawn(self, fn, keep: tuple[int, ...] = (), on_exit=None) -> int:
        pid = fork_helper(fn, keep)
        self.helpers[pid] = on_exit
        return pid

    def _result_channel(self, on_message) -> socket.socket:
        """A socketpair whose far end a helper writes JSON lines (and fds) into."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours.setblocking(False)
        self.results[ours.fileno()] = [ours, bytearray(), on_message]
        self._register(ours, R, ("result", ours.fileno()))
        self.last_channel = ours.fileno()
        return theirs

    def _read_all_results(self, fd: int) -> None:
        """Everything a helper that has exited wrote.  Its end may still be open in a
        process it forked (a created container's init holds it until exec): stop at
        "nothing more now" rather than spin; the event loop sees the rest."""
        while fd in self.results and self._on_result(fd):
            pass

    def _on_result(self, fd: int) -> bool:
        """Read once from a result channel; False when nothing was there to read."""
        entry = self.results.get(fd)
        if entry is None:
            return False
        sock = entry[0]
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, READ_SIZE, 4)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data, fds = b"", []
        if not data:
            self._unregister(sock)
            sock.close()
            del self.results[fd]
            if entry[1]:
                entry[2]({"error": "helper ended mid-message", "code": 125})
            return False
        entry[1] += data
        for doc in unpack_msgs(entry[1]):
            if fds:
                doc["_fds"] = fds
                fds = []
            entry[2](doc)
        for fd_ in fds:
            os.close(fd_)
        return True

    def _book(self, fn) -> None:
        """Queue bookkeeping (DB, events, --rm): one helper at a time, in order."""
        self.book_queue.append(fn)
        self._next_book()

    def _next_book(self) -> None:
        while not self.book_busy and self.book_queue:
            fn = self.book_queue.pop(0)
            if isinstance(fn, (_Callback, _RecordExit)):
                self.book_busy = fn.run(self)
            else:
                self.book_busy = self._spawn(fn, on_exit=self._book_done)

    def _book_done(self, _status: int) -> None:
        self.book_busy = 0
        self._next_book()

    # ------------------------------------------------------------------ container runs
    def start_run(self) -> None:
        from engine.monitor.hooks import create_and_start

        cfg, paths = self.cfg, self.paths
        self.stdio = stdio = ContainerStdio(cfg.tty, cfg.stdin_open)
        if stdio.master is not None and cfg.console_size:
            resize(stdio.master, *cfg.console_size)  # before the container's first prompt
        self.stdin_eof = False
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        theirs = self._result_channel(self._on_create_message)
        res_fd = theirs.fileno()
        self.go_w = go_w
        prefork, self.prefork = self.prefork, None
        child = stdio.child_fds()
        job = {"runtime": cfg.runtime, "cid": self.cid, "bundle": paths.bundle, "pid_file": paths.run("runtime.pid"),
               "tty": stdio.tty, "layout": [None if fd is None else child.index(fd) for fd in stdio.runtime_fds]}
        channel = self.last_channel
        self.create_pending = True
        done = lambda _status: self._create_helper_done(channel)  # noqa: E731
        listen = self.listen_fds
        if listen:
            job["listen"] = len(listen)
        if prefork is not None and prefork.hand_over(job, [*child, *listen, res_fd, go_r]):
            self.helpers[prefork.pid] = done
        else:
            self._spawn(lambda: create_and_start(cfg.runtime, self.cid, paths.bundle, paths.run("runtime.pid"),
                                                 stdio, res_fd, go_r, listen_fds=listen),
                        keep=(*child, *listen, res_fd, go_r), on_exit=done)
        theirs.close()
        os.close(go_r)

    def _create_helper_done(self, channel: int) -> None:
        """The create helper ended: if it said neither started nor error (killed, crashed),
        this run failed, and a container it created must not wait for a start for ever."""
        self._read_all_results(channel)
        if not self.create_pending:
            return
        self.kill_unstarted()
        self._on_create_message({"error": "the container's create helper exited before starting it",
                                 "code": 125})

    def kill_unstarted(self) -> None:
        """A created init that was never started dies with its run (the helper is gone or
        going, or we are about to exit): only while it is our unreaped child (its helper,
        the subreaper, has ended), so never a recycled pid."""
        if not (self.create_pending and self.init_pid):
            return
        pid, self.init_pid = self.init_pid, 0
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass

    def _on_create_message(self, doc: dict) -> None:
        if "created" in doc:
            self.init_pid = int(doc["created"])
            fds = doc.get("_fds") or []
            if fds:
                self.stdio.replace_master(fds[0])
                for extra in fds[1:]:
                    os.close(extra)
            self.stdio.close_child_ends()
            try:
                write_pid_file(self.paths.run("pid"), self.init_pid)
            except OSError:
                pass
            for fd, stream in self.stdio.output_fds():
                self._register(fd, R, ("out", stream))
            os.write(self.go_w, b"g")
            os.close(self.go_w)
            self.go_w = None
        elif "started" in doc:
            self.create_pending = False
            self._on_started()
        elif "error" in doc:
            self.create_pending = False
            self.init_pid = 0  # the helper killed and reaped it
            if self.go_w is not None:
                try:
                    os.close(self.go_w)
                except OSError:
                    pass
                self.go_w = None
            self._on_start_error(doc)

    def _on_started(self) -> None:
        self.go_w = None
        self.started_mono = time.monotonic()
        started_at = time.time()
        first = self.sync is not None
        self._notify({"ready": self.init_pid, "started_at": started_at, "monitor_pid": os.getpid()})
        if self.cfg.sdnotify and first:  # systemd's Type=notify (engine/monitor/sdnotify.py)
            from engine.monitor.sdnotify import on_started

            on_started(self.cfg.sdnotify, os.getpid())
        if not first:  # the launcher records the first run itself (pid and monitor pid)
            cid, name, image, pid, count = self.cid, self.cfg.name, self.cfg.image, self.init_pid, self.restart_count
            monitor_pid = os.getpid()

            def book() -> int:
                from engine.monitor.hooks import record_started

                return record_started(cid, name, image, pid, monitor_pid, started_at, count,
                                      ["restart", "start"])

            self._book(book)
        self._start_health()

    def _on_start_error(self, doc: dict) -> None:
        if self.sync is not None:
            self._notify(doc)  # the launcher raises it; nothing ran, nothing to record
            self.stdio.close()
            self.stdio = None
            self.replay = None
            self._finish_clients(None)
            return
        self.log.write("stderr", f"{doc.get('error')}\n".encode())
        self._container_exited(int(doc.get("code") or 125))

    # ------------------------------------------------------------------ exit
    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.init_pid and self.init_pid and self.create_pending:
                self.init_pid = 0  # its helper died first (we adopted it): reported as the run's error
            elif pid == self.init_pid and self.init_pid:
                self.init_pid = 0
                self._container_exited(exit_code_from_status(status))
            elif pid in self.helpers:
                cb = self.helpers.pop(pid)
                if cb is not None:
                    cb(status)
            # else: an orphan we adopted as subreaper (a runtime's helper): just reaped

    def _drain_output(self) -> None:
        if self.stdio is None:
            return
        for fd, stream in self.stdio.output_fds():
            for _ in range(64):
                if not self._read_output(fd, stream, drain=True):
                    break

    def _container_exited(self, code: int) -> None:
        finished_ns = time.time_ns()
        ran_for = time.monotonic() - self.started_mono if self.started_mono else 0.0
        self._drain_output()
        try:
            write_exit(self.paths.run("exit"), code, finished_ns)
        except OSError:
            pass
        self._stop_health()
        self.timers.pop("kill", None)
        if self.stdio is not None:
            for fd, _ in self.stdio.output_fds():
                self._unregister(fd)
            self.stdio.close()
            self.stdio = None
        self.out_paused = False
        self.stdin_buf.clear()
        cfg, cid = self.cfg, self.cid

        def decided(doc: dict) -> None:
            marker = os.path.exists(self.paths.run("stopped-by-user"))
            by_user = marker or bool(doc.get("stopped_by_user")) or self.stopping
            forced = self.force_restart and not by_user
            self.force_restart = False
            if forced or should_restart(cfg.restart_policy, cfg.restart_max_retries, code,
                                        self.restart_count, by_user, cfg.rm):
                self.restart_count += 1
                self._finish_clients(code, keep_running=True)
                self.timers["restart"] = time.monotonic() + self.backoff.next_delay(ran_for)
                return
            self._final(code)

        self.last_code = code
        if not self.force_restart and not should_restart(cfg.restart_policy, cfg.restart_max_retries, code,
                                                         self.restart_count, False, cfg.rm):
            # No restart whatever the DB says: attached clients get the exit code now
            # and one helper does the bookkeeping (exit, event, cleanup or --rm) after.
            self._finish_clients(code)
            rm, finished_at = cfg.rm, finished_ns / 1e9

            def book() -> int:
                from engine.monitor.hooks import finish_exit

                return finish_exit(cid, cfg.name, cfg.image, cfg.runtime, code, finished_at, rm)

            if not (rm and self._await_remover(book)):
                self._book(book)
            return
        self._book(_RecordExit(cid, cfg, code, finished_ns / 1e9, decided))

    def _await_remover(self, book) -> bool:
        """Hold `book` (--rm) until the remover process has ended; False: nobody to wait for."""
        pid, self.remover = self.remover, 0
        if not pid:
            return False
        try:
            fd = os.pidfd_open(pid)
        except OSError:  # gone already
            return False
        self.deferred_book = (fd, book)
        self._register(fd, R, ("remover", fd))
        self.timers["remover"] = time.monotonic() + REMOVER_WAIT
        return True

    def _remover_done(self) -> None:
        """The remover ended (or took too long): our --rm runs unless it removed the container."""
        if self.deferred_book is None:
            return
        (fd, book), self.deferred_book = self.deferred_book, None
        self.timers.pop("remover", None)
        self._unregister(fd)
        os.close(fd)
        if os.path.isdir(os.path.join(self.paths.root, "containers", self.cid)):
            self._book(book)

    def _final(self, code: int | None) -> None:
        """No more runs: --rm or cleanup, then the exit frame, then we end."""
        cid, rm = self.cid, self.cfg.rm

        def book() -> int:
            from engine.monitor.hooks import after_exit

            return after_exit(cid, rm)

        self._book(book)
        self._book(_Callback(lambda: self._finish_clients(code)))

    def _finish_clients(self, code: int | None, keep_running: bool = False) -> None:
        """Send the exit frame (after the promised attacher came, or gave up)."""
        if self.await_attach and self.replay is not None and not keep_running:
            if "attach_wait" not in self.timers:
                self.timers["attach_wait"] = time.monotonic() + ATTACH_WAIT
                self.pending_exit = code
                return
        payload = proto.frame(proto.EXIT, str(code).encode()) if code is not None else b""
        for c in list(self.clients):
            if payload:
                c.queue(payload)
            c.closing = True
            self._flush_client(c)
        if not keep_running:
            self.finishing = True

    def _do_restart(self) -> None:
        if self.stopping or os.path.exists(self.paths.run("stopped-by-user")):
            self._final(self.last_code)
            return
        self.start_run()

    # ------------------------------------------------------------------ output / input
    def _read_output(self, fd: int, stream: str, drain: bool = False) -> bool:
        try:
            data = os.read(fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: the pty's last slave closed
                pass
            data = b""
        if not data:
            self._unregister(fd)
            return False
        self.log.write(stream, data)
        kind = proto.STDOUT if stream == "stdout" else proto.STDERR
        payload = proto.frame(kind, data)
        if self.replay is not None:
            self.replay += payload
        for c in self.clients:
            c.queue(payload)
            self._flush_client(c)
        if not drain:
            self._check_backpressure()
        return True

    def _check_backpressure(self) -> None:
        jammed = any(c.backlogged() for c in self.clients) or (
            self.replay is not None and len(self.replay) > REPLAY_CAP)
        if jammed and not self.out_paused and self.stdio is not None:
            self.out_paused = True
            for fd, _ in self.stdio.output_fds():
                self._unregister(fd)
        elif not jammed and self.out_paused and self.stdio is not None:
            self.out_paused = False
            for fd, stream in self.stdio.output_fds():
                self._register(fd, R | (W if self._stdin_fd() == fd and self.stdin_buf else 0), ("out", stream))

    def _stdin_fd(self) -> int | None:
        return self.stdio.stdin_w if self.stdio is not None else None

    def _write_stdin(self) -> None:
        fd = self._stdin_fd()
        if fd is None:
            self.stdin_buf.clear()
            return
        while self.stdin_buf:
            try:
                n = os.write(fd, self.stdin_buf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # the container closed its stdin
                self.stdin_buf.clear()
                break
            del self.stdin_buf[:n]
        master = self.stdio.master
        if self.stdin_buf:
            if fd == master:
                self._register(fd, (0 if self.out_paused else R) | W, ("out", "stdout"))
            else:
                self._register(fd, W, ("stdin", fd))
        else:
            if fd == master:
                if not self.out_paused:
                    self._register(fd, R, ("out", "stdout"))
            else:
                self._unregister(fd)
            if self.stdin_eof:
                self.stdio.close_stdin()

    # ------------------------------------------------------------------ attach clients
    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            client = proto.Client(sock)
            self.clients.append(client)
            if self.replay is not None:
                client.queue(bytes(self.replay))
                self.replay = None
                if "attach_wait" in self.timers:
                    del self.timers["attach_wait"]
                    self._finish_clients(self.pending_exit)
                self._check_backpressure()
            if client not in self.clients:
                continue  # the exit frame waiting for it went out with the replay: done
            if self.finishing:
                client.closing = True
            self._register(client.sock, R, ("client", client))
            self._flush_client(client)

    def _flush_client(self, c: proto.Client) -> None:
        if not c.flush():
            self._drop_client(c)
            return
        if c.out:
            self._register(c.sock, R | W, ("client", c))
        elif c.closing:
            self._drop_client(c)
        else:
            self._register(c.sock, R, ("client", c))
            if self.out_paused:
                self._check_backpressure()

    def _drop_client(self, c: proto.Client) -> None:
        if self.remover and self.init_pid and _peer_pid(c.sock) == self.remover:
            self.remover = 0  # the remover detached: the container runs on, our --rm stays
        self._unregister(c.sock)
        c.close()
        if c in self.clients:
            self.clients.remove(c)
        if self.stdin_owner is c:
            self.stdin_owner = None
        if self.out_paused:
            self._check_backpressure()

    def _on_client(self, c: proto.Client) -> None:
        try:
            data = c.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop_client(c)
            return
        try:
            frames = c.decoder.feed(data)
        except proto.ProtocolError:
            self._drop_client(c)
            return
        for kind, payload in frames:
            if kind in (proto.STDIN, proto.STDIN_CLOSE):
                if self.stdin_owner is None:
                    self.stdin_owner = c
                if self.stdin_owner is not c:
                    continue
                if kind == proto.STDIN:
                    if len(self.stdin_buf) < (1 << 20):
                        self.stdin_buf += payload
                else:
                    self.stdin_eof = True
                self._write_stdin()
            elif kind == proto.RESIZE:
                master = self.stdio.master if self.stdio is not None else None
                try:
                    rows, cols = (int(x) for x in payload.split())
                    if master is not None:
                        resize(master, rows, cols)
                except (ValueError, OSError):
                    pass
            elif kind == proto.HEALTH:
                self._run_health(reply_to=c)

    # ------------------------------------------------------------------ healthchecks
    def _start_health(self) -> None:
        spec = self.cfg.healthcheck
        if spec is None or spec.argv is None:
            return
        from engine.monitor.health import HealthState

        self.health = HealthState(spec.retries, spec.start_period, time.monotonic())
        self._write_health(None)
        self.timers["health"] = time.monotonic() + max(spec.interval, 0.05)

    def _stop_health(self) -> None:
        self.timers.pop("health", None)
        self.timers.pop("health_kill", None)
        if self.health_check:
            try:
                os.kill(self.health_check, signal.SIGKILL)
            except OSError:
                pass
            self.health_check = None
        self.health = None

    def _run_health(self, reply_to: proto.Client | None = None) -> None:
        spec = self.cfg.healthcheck
        if self.health is None or spec is None or not self.init_pid:
            if reply_to is not None:
                reply_to.queue(proto.frame(proto.HEALTH, dumps({"status": "", "exit_code": -1}).encode()))
                self._flush_client(reply_to)
            return
        if self.health_check:
            if reply_to is not None:
                self.health_waiters.append(reply_to)
            return
        self.health_waiters = [reply_to] if reply_to is not None else []
        from engine.monitor.hooks import run_healthcheck

        start_ns = time.time_ns()
        argv, runtime, cid, spec_path = spec.argv, self.cfg.runtime, self.cid, self.paths.spec
        timeout = spec.timeout if spec.timeout > 0 else 30.0
        theirs = self._result_channel(lambda doc: self._on_health_result(doc, start_ns))
        res_fd = theirs.fileno()
        self.health_check = self._spawn(
            lambda: run_healthcheck(runtime, cid, spec_path, argv, timeout, res_fd), keep=(res_fd,),
            on_exit=self._health_helper_done)
        theirs.close()
        self.timers.pop("health", None)
        self.timers["health_kill"] = time.monotonic() + timeout + 5.0

    def _health_helper_done(self, _status: int) -> None:
        self.health_check = None
        self.timers.pop("health_kill", None)
        if self.health is not None and "health" not in self.timers:
            self.timers["health"] = time.monotonic() + self.cfg.healthcheck.interval

    def _on_health_result(self, doc: dict, start_ns: int) -> None:
        if self.health is None:
            return
        code = int(doc.get("exit_code", 1)) if "exit_code" in doc else 1
        output = str(doc.get("output") or doc.get("error") or "")
        changed = self.health.record(code, output, start_ns, time.time_ns(), time.monotonic())
        self._write_health(changed)
        reply = dumps({"status": self.health.status, "exit_code": code, "output": output}).encode()
        for c in getattr(self, "health_waiters", []):
            if c in self.clients:
                c.queue(proto.frame(proto.HEALTH, reply))
                self._flush_client(c)
        self.health_waiters = []
        if changed == "unhealthy":
            self._on_unhealthy()
        elif changed == "healthy" and self.cfg.sdnotify == "healthy":
            from engine.monitor.sdnotify import send

            send("READY=1")

    def _write_health(self, changed: str | None) -> None:
        text = self.health.to_json()
        doc = self.health.to_dict()
        try:
            tmp = self.paths.health_json + ".tmp"
            with open(tmp, "w") as fh:
                fh.write(text)
            os.replace(tmp, self.paths.health_json)
        except OSError:
            pass
        cid, name, image = self.cid, self.cfg.name, self.cfg.image

        def book() -> int:
            from engine.monitor.hooks import record_health

            return record_health(cid, name, image, changed, doc)

        self._book(book)

    def _on_unhealthy(self) -> None:
        action = self.cfg.healthcheck.on_failure
        if not self.init_pid or action == "none":
            return
        if action == "kill":
            self._signal(signal.SIGKILL)
        elif action == "restart":
            self.force_restart = True
            self._signal(signal.SIGKILL)
        elif action == "stop":
            self.stopping = True
            self._signal(self.cfg.stop_signal)
            self.timers["kill"] = time.monotonic() + max(self.cfg.stop_timeout, 0)

    def _signal(self, sig: int) -> None:
        if self.init_pid:
            try:
                os.kill(self.init_pid, sig)
            except OSError:
                pass

    # ------------------------------------------------------------------ loop
    def _on_signal(self, signum: int) -> None:
        if signum == signal.SIGCHLD:
            self._reap()
        elif signum in PROXY_SIGNALS:
            if self.init_pid:
                self._signal(signum)  # sig-proxy
            elif "restart" in self.timers:  # stopped during the back-off
                self.timers.pop("restart")
                self.stopping = True
                self._final(self.last_code)

    def _fire_timers(self) -> None:
        now = time.monotonic()
        for name, when in list(self.timers.items()):
            if when > now or name not in self.timers:
                continue
            del self.timers[name]
            if name == "restart":
                self._do_restart()
            elif name == "health":
                self._run_health()
            elif name == "health_kill" and self.health_check:
                try:
                    os.kill(self.health_check, signal.SIGKILL)
                except OSError:
                    pass
            elif name == "kill":
                self._signal(signal.SIGKILL)
            elif name == "attach_wait":
                self.replay = None
                self._finish_clients(self.pending_exit)
            elif name == "remover":
                self._remover_done()

    def run(self) -> None:
        wake_r, wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGCHLD, *PROXY_SIGNALS):
            signal.signal(sig, _noop)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self._register(wake_r, R, ("wake", None))
        self.listener = proto.listen(self.paths.run("attach"))
        self._register(self.listener, R, ("listen", None))
        if self.cfg.sdnotify == "container":  # the container's own NOTIFY_SOCKET, proxied
            from engine.monitor.sdnotify import open_proxy

            self.sd_proxy = open_proxy(self.paths.rundir)
            self._register(self.sd_proxy, R, ("notify", None))
        self.start_run()
        while not (self.finishing and not self.clients and not self.book_busy and not self.book_queue
                   and self.deferred_book is None):
            timeout = None
            if self.timers:
                timeout = max(0.0, min(self.timers.values()) - time.monotonic())
            for key, events in self.sel.select(timeout):
                kind, obj = key.data
                if kind == "wake":
                    try:
                        sigs = os.read(wake_r, 256)
                    except (BlockingIOError, InterruptedError):
                        sigs = b""
                    for s in dict.fromkeys(sigs):
                        self._on_signal(s)
                elif kind == "out":
                    if events & W:
                        self._write_stdin()
                    if events & R:
                        self._read_output(key.fd, obj)
                elif kind == "stdin":
                    self._write_stdin()
                elif kind == "client":
                    if events & W:
                        self._flush_client(obj)
                    if events & R and obj in self.clients:
                        self._on_client(obj)
                elif kind == "listen":
                    self._accept()
                elif kind == "result":
                    self._on_result(obj)
                elif kind == "remover":
                    self._remover_done()
                elif kind == "notify":
                    from engine.monitor.sdnotify import forward

                    forward(self.sd_proxy)
            self._fire_timers()
            self._reap()  # a SIGCHLD may have arrived before our handler was set
        self.close()

    def close(self) -> None:
        self.kill_unstarted()
        if self.prefork is not None:
            self.prefork.close()
            self.prefork = None
        if self.listener is not None:
            self._unregister(self.listener)
            self.listener.close()
            try:
                os.unlink(self.paths.run("attach"))
            except OSError:
                pass
        self.log.close()


class _Callback:
    """A bookkeeping step that runs in the monitor itself (after the ones before it)."""

    keep = ()

    def __init__(self, fn) -> None:
        self.fn = fn

    def run(self, mon: Monitor) -> int:
        self.fn()
        return 0


class _RecordExit:
    """The exit bookkeeping helper, whose answer (stopped by the user?) decides the
    restart."""

    keep = ()

    def __init__(self, cid: str, cfg: MonitorConfig, code: int, finished_at: float, decided) -> None:
        self.args = (cid, cfg.name, cfg.image, cfg.runtime, code, finished_at)
        self.decided = decided

    def run(self, mon: Monitor) -> int:
        from engine.monitor.hooks import record_exit

        answer: dict = {}
        theirs = mon._result_channel(answer.update)
        ours, res_fd = mon.last_channel, theirs.fileno()
        args = self.args

        def done(_status: int) -> None:
            mon._read_all_results(ours)
            self.decided(answer)
            mon._book_done(_status)

        pid = mon._spawn(lambda: record_exit(*args, res_fd), keep=(res_fd,), on_exit=done)
        theirs.close()
        return pid


def _peer_pid(sock: socket.socket) -> int:
    try:
        return int.from_bytes(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)[:4], sys.byteorder)
    except OSError:
        return 0


def _noop(*_args) -> None:
    pass
