"""Following a container's log with no polling delay, for the console.

`hull logs -f` polls the log file every 100 ms; a browser watching a log wants
each line as soon as the monitor writes it.  `follow_lines` runs the same reader
(engine/monitor/logread.py: rotation, partial lines, tail, since) but waits on
inotify (the log's directory: writes, and the new file of a rotation) instead of
sleeping, so a line reaches the caller within a millisecond or so of its write.
The timeout stays as a safety net and flushes a partial line that never ends.

Blocking: run it in a thread.  `keep_going()` is checked after every wake-up;
`stop()` on the Waker (from any thread) wakes the reader at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

from engine.services.container_io import LogLine, LogOptions, _driver

IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000

_libc: Any = None


def _inotify() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


class Waker:
    """Sleeps until a file in `directory` changes, `timeout` passes, or `stop()` is called."""

    def __init__(self, directory: str) -> None:
        libc = _inotify()
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            self.fd = None  # no inotify (limits reached): plain timed polling still works
        elif libc.inotify_add_watch(self.fd, os.fsencode(directory),
                                    IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0:
            os.close(self.fd)
            self.fd = None
        self._stop_r, self._stop_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.stopped = False
        self._lock = threading.Lock()  # stop() from one thread, close() from another
        self._closed = False

    def __call__(self, timeout: float) -> None:
        if self.stopped:
            return
        watch = [self._stop_r] + ([self.fd] if self.fd is not None else [])
        try:
            ready, _, _ = select.select(watch, [], [], timeout)
        except InterruptedError:
            return
        if self.fd is not None and self.fd in ready:
            try:
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass

    def stop(self) -> None:
        self.stopped = True
        with self._lock:
            if self._closed:
                return  # the fd numbers may belong to someone else by now
            try:
                os.write(self._stop_w, b"x")
            except OSError:
                pass

    def close(self) -> None:
        """Only from the thread that waits (or after it is done)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self.fd, self._stop_r, self._stop_w):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self.fd = None


def follow_lines(store: Any, container: Any, opts: LogOptions, waker: Waker,
                 keep_going: Callable[[], bool]) -> Iterator[LogLine]:
    """The container's log lines (tail/since from `opts`), then new ones as they are
    written, while keep_going() (across restarts: the file stays the same)."""
    from engine.monitor.logs import format_utc
    from engine.monitor.logread import read_logs

    follow = (lambda: keep_going() and not waker.stopped) if opts.follow else False
    for rec in read_logs(store.containers.log_path(container.id), _driver(container),
                         since=opts.since, until=opts.until,
                         tail=opts.tail if opts.tail is not None and opts.tail >= 0 else None,
                         follow=follow, poll_interval=0.25, sleep=waker):
        data = rec.data
        partial = not data.endswith(b"\n")
        yield LogLine(container.id, container.name, rec.time / 1e9, rec.stream,
                      data if partial else data[:-1], partial, format_utc(rec.time))

