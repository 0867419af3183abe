"""Container logs: the writer the monitor uses, and `read_logs` for `hull logs`.

Formats (one record per line):
- k8s-file (Podman's default, CRI format): `2024-01-01T10:00:00.123456789+01:00 stdout F text`
  with `P` instead of `F` for a piece of a line that had no newline yet (each read of
  the container's output is written at once: nothing waits in the monitor).
- json-file (Docker's): `{"log":"text\\n","stream":"stdout","time":"2024-01-01T09:00:00.123456789Z"}`;
  a partial line is a record whose `log` does not end in a newline.
- none: nothing is written.
Rotation (`max_size` > 0): before a record would take the file past max_size, the file
is renamed to `.1` (older ones shift to `.2`... up to max_file-1) or, with max_file 1,
started afresh.  A record is never split across files.

The reader lives in engine/monitor/logread.py (imported lazily: the monitor never needs
it).
"""

from __future__ import annotations

import os
import time

from _json import encode_basestring_ascii as _quote

_local_cache: list = [None, b""]  # (second, b"YYYY-mm-ddTHH:MM:SS") for local time
_tz_cache: list = [None, b""]


def _tz_suffix(lt: time.struct_time) -> bytes:
    off = lt.tm_gmtoff or 0
    if _tz_cache[0] == off:
        return _tz_cache[1]
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    text = f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}".encode()
    _tz_cache[0], _tz_cache[1] = (lt.tm_gmtoff or 0), text
    return text


def format_local(ns: int) -> bytes:
    """RFC 3339 with nanoseconds in local time, as conmon writes k8s-file stamps."""
    sec, frac = divmod(ns, 1_000_000_000)
    if _local_cache[0] != sec:
        lt = time.localtime(sec)
        _local_cache[0] = sec
        _local_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", lt).encode() + b".%09d" + _tz_suffix(lt)
    return _local_cache[1] % frac


def format_utc(ns: int) -> str:
    sec, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{frac:09d}Z"


class LogWriter:
    def __init__(self, driver: str, path: str, max_size: int = 0, max_file: int = 1) -> None:
        self.driver = driver
        self.path = path
        self.max_size = max_size
        self.max_file = max(1, max_file)
        self.fd: int | None = None
        self.size = 0
        if driver != "none" and path:
            self._open()

    def _open(self, truncate: bool = False) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        if truncate:
            flags |= os.O_TRUNC
        self.fd = os.open(self.path, flags, 0o600)
        self.size = os.fstat(self.fd).st_size

    def _rotate(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.max_file > 1:
            for i in range(self.max_file - 1, 1, -1):
                try:
                    os.replace(f"{self.path}.{i - 1}", f"{self.path}.{i}")
                except FileNotFoundError:
                    pass
            os.replace(self.path, f"{self.path}.1")
            self._open()
        else:
            self._open(truncate=True)

    def _emit(self, record: bytes) -> None:
        if self.max_size > 0 and self.size > 0 and self.size + len(record) > self.max_size:
            try:
                self._rotate()
            except OSError:
                if self.fd is None:
                    return
        view = memoryview(record)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError:
                return  # disk full or gone: the container must not stop for its log
            view = view[n:]
            self.size += n

    def write(self, stream: str, data: bytes, now_ns: int | None = None) -> None:
        """Log one chunk of the container's output; `stream` is stdout or stderr."""
        if self.fd is None or not data:
            return
        ns = now_ns if now_ns is not None else time.time_ns()
        records = (k8s_records if self.driver == "k8s-file" else json_records)(stream, data, ns)
        total = sum(map(len, records))
        if self.max_size <= 0 or self.size + total <= self.max_size:
            self._emit(b"".join(records))  # one write for the whole chunk
        else:
            for record in records:  # rotation falls between lines
                self._emit(record)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines (without their newline) and the trailing partial piece."""
    lines = data.split(b"\n")
    return lines[:-1], lines[-1]


def k8s_records(stream: str, data: bytes, ns: int) -> list[bytes]:
    stamp = format_local(ns) + b" " + stream.encode() + b" "
    full, partial = _split(data)
    out = [stamp + b"F " + line + b"\n" for line in full]
    if partial:
        out.append(stamp + b"P " + partial + b"\n")
    return out


def json_records(stream: str, data: bytes, ns: int) -> list[bytes]:
    tail = ',"stream":' + _quote(stream) + ',"time":"' + format_utc(ns) + '"}\n'
    full, partial = _split(data)
    pieces = [line + b"\n" for line in full]
    if partial:
        pieces.append(partial)
    return [('{"log":' + _quote(p.decode("utf-8", "replace")) + tail).encode() for p in pieces]


def read_logs(path, driver: str = "k8s-file", since=None, until=None, tail: int | None = None,
              timestamps: bool = False, follow=False, poll_interval: float = 0.1):
    """Iterate over (stream, time_ns, data) of a container's log; see logread.read_logs."""
    from engine.monitor.logread import read_logs as _read

    return _read(path, driver, since=since, until=until, tail=tail, timestamps=timestamps,
                 follow=follow, poll_interval=poll_interval)
