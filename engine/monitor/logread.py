"""Reading a container's log back for `hull logs` (k8s-file and json-file).

`read_logs` yields `LogLine(stream, time, data)`: one per line of output, the
pieces of a partial line (P records) joined to the record that ended it; `time` is
nanoseconds since the epoch (of the line's first piece), `data` the bytes with their
newline (none for a last line that never got one).  Rotated files (`ctr.log.N` ...
`ctr.log.1`) are read first, oldest first.  Follow polls (100 ms by default) and
notices rotation (the path gets a new inode, or shrinks).
"""

from __future__ import annotations

import calendar
import json
import os
import time
from collections import deque
from typing import Callable, Iterator, NamedTuple

from engine.errors import HullError, InvalidArgument
from engine.monitor.logs import format_local


class LogLine(NamedTuple):
    stream: str
    time: int  # ns since the epoch
    data: bytes


def parse_timestamp(ts: bytes | str) -> int:
    """RFC 3339 (with up to 9 fractional digits, Z or +HH:MM) -> ns since the epoch."""
    if isinstance(ts, str):
        ts = ts.encode()
    try:
        secs = calendar.timegm((int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]),
                                int(ts[14:16]), int(ts[17:19]), 0, 0, 0))
        i = 19
        frac = 0
        if ts[i:i + 1] in (b".", b","):
            j = i + 1
            while j < len(ts) and 48 <= ts[j] <= 57:
                j += 1
            digits = ts[i + 1:j][:9]
            frac = int(digits.ljust(9, b"0")) if digits else 0
            i = j
        tz = ts[i:]
        offset = 0
        if tz and tz not in (b"Z", b"z"):
            sign = -1 if tz[:1] == b"-" else 1
            offset = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    except (ValueError, IndexError):
        raise ValueError(f"bad log timestamp {ts[:40]!r}") from None
    return (secs - offset) * 1_000_000_000 + frac


def _to_ns(value) -> int | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return int(value.timestamp() * 1e9)
    if isinstance(value, int) and value > 10**15:
        return value  # already nanoseconds
    return int(float(value) * 1e9)


class _Record(NamedTuple):
    stream: str
    time: int
    full: bool
    data: bytes  # without newline


def _parse_k8s(line: bytes) -> _Record | None:
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    try:
        ns = parse_timestamp(parts[0])
    except ValueError:
        return None
    return _Record(parts[1].decode("ascii", "replace"), ns, parts[2] != b"P",
                   parts[3] if len(parts) > 3 else b"")


def _parse_json(line: bytes) -> _Record | None:
    try:
        doc = json.loads(line)
        text = doc["log"].encode("utf-8")
        ns = parse_timestamp(doc["time"])
        stream = str(doc.get("stream", "stdout"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if text.endswith(b"\n"):
        return _Record(stream, ns, True, text[:-1])
    return _Record(stream, ns, False, text)


def log_files(path: str) -> list[str]:
    """The rotated files (oldest first), then the live one."""
    rotated = []
    i = 1
    while os.path.exists(f"{path}.{i}"):
        rotated.append(f"{path}.{i}")
        i += 1
    return rotated[::-1] + [path]


class _Tail:
    """Reads whole records from a file that may still be growing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh = None
        self.ino = None
        self.buf = b""
        self._open()

    def _open(self) -> None:
        try:
            self.fh = open(self.path, "rb")
            self.ino = os.fstat(self.fh.fileno()).st_ino
        except FileNotFoundError:
            self.fh = None
        self.buf = b""

    def read_lines(self) -> list[bytes]:
        if self.fh is None:
            self._open()
            if self.fh is None:
                return []
        data = self.fh.read()
        if not data:
            return []
        data = self.buf + data
        lines = data.split(b"\n")
        self.buf = lines.pop()
        return lines

    def rotated(self) -> bool:
        """True when the path now names another file (rotated or truncated)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        if self.fh is None:
            return True
        return st.st_ino != self.ino or st.st_size < self.fh.tell()

    def reopen(self) -> None:
        if self.fh is not None:
            self.fh.close()
        self._open()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def _merge(records: Iterator[_Record], pending: dict, flush: bool) -> Iterator[LogLine]:
    for rec in records:
        if rec.full:
            start = pending.pop(rec.stream, None)
            if start is None:
                yield LogLine(rec.stream, rec.time, rec.data + b"\n")
            else:
                yield LogLine(rec.stream, start[0], start[1] + rec.data + b"\n")
        else:
            start = pending.get(rec.stream)
            pending[rec.stream] = (rec.time, rec.data) if start is None else (start[0], start[1] + rec.data)
    if flush:
        for stream, (ns, data) in list(pending.items()):
            yield LogLine(stream, ns, data)
        pending.clear()


def read_logs(path, driver: str = "k8s-file", *, since=None, until=None, tail: int | None = None,
              timestamps: bool = False, follow: bool | Callable[[], bool] = False,
              poll_interval: float = 0.1, sleep: Callable[[float], None] = time.sleep) -> Iterator[LogLine]:
    """Lines of the log at `path`.  `since`/`until`: datetime, epoch seconds or ns;
    `tail`: only the last N lines (None or negative: all); `timestamps`: prefix each
    line's data with its local RFC 3339 stamp and a space; `follow`: keep polling for
    new lines, forever (True) or while `follow()` is true (then read what is left);
    `sleep(poll_interval)` waits between polls (the console passes an inotify wait
    that returns as soon as the file changes)."""
    if driver == "none":
        raise HullError("this container is using the 'none' log driver, cannot read logs: "
                        "this container is not logging output")
    if driver not in ("k8s-file", "json-file"):
        raise InvalidArgument(f"unsupported log driver {driver!r}")
    parse = _parse_k8s if driver == "k8s-file" else _parse_json
    path = os.fspath(path)
    since_ns, until_ns = _to_ns(since), _to_ns(until)

    def keep(line: LogLine) -> bool:
        return (since_ns is None or line.time >= since_ns) and (until_ns is None or line.time <= until_ns)

    def out(line: LogLine) -> LogLine:
        if timestamps:
            return LogLine(line.stream, line.time, format_local(line.time) + b" " + line.data)
        return line

    def parsed(lines: list[bytes]) -> Iterator[_Record]:
        for raw in lines:
            rec = parse(raw)
            if rec is not None:
                yield rec

    pending: dict = {}
    files = log_files(path)
    existing: list[LogLine] = []
    last = _Tail(path)
    for name in files[:-1]:
        try:
            with open(name, "rb") as fh:
                existing.extend(_merge(parsed(fh.read().split(b"\n")), pending, False))
        except FileNotFoundError:
            continue  # rotated away while we read
    first = last.read_lines()
    existing.extend(_merge(parsed(first), pending, not follow))
    lines = [l for l in existing if keep(l)]
    if tail is not None and tail >= 0:
        lines = list(deque(lines, maxlen=tail)) if tail else []
    try:
        for line in lines:
            yield out(line)
        if not follow:
            return
        idle = 0
        while True:
            alive = follow() if callable(follow) else True
            new = last.read_lines()
            if not new and last.rotated():
                last.reopen()
                new = last.read_lines()
            got = list(_merge(parsed(new), pending, False))
            idle = 0 if new else idle + 1
            if idle >= 1 or not alive:  # a partial line waits one poll for its end
                got.extend(_merge(iter(()), pending, True))
            for line in got:
                if until_ns is not None and line.time > until_ns:
                    return
                if keep(line):
                    yield out(line)
            if not alive:
                return
            sleep(poll_interval)
    finally:
        last.close()
