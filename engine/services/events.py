"""The event log: one JSON object per line in `{root}/events.log`.

Every hull process and every monitor appends with `emit()` under a file lock,
so lines never interleave; the file is rotated to `events.log.1` past
`MAX_LOG_SIZE` (Podman's file backend does the same).  `read_events()` serves
`hull events` (since/until/filters, and `follow` to stream new lines) and the API.
Emitting never fails the command that emits: a full disk loses an event, not a
container.
"""

from __future__ import annotations

import json
import os
import time

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.record import Factory, Record

TYPE_CHECKING = False  # typing and dataclasses cost milliseconds on every start/rm (they emit)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

MAX_LOG_SIZE = 4 << 20
FILTER_KEYS = ("container", "event", "status", "image", "label", "type", "volume", "pod", "network", "since", "until")


class Event(Record):
    type: str  # container, image, volume, pod, network, system, secret
    action: str  # create, start, died, stop, remove, ...
    time_ns: int
    id: str = ""
    name: str = ""
    image: str = ""
    attributes: dict[str, str] = Factory(dict)
    exit_code: int | None = None

    @property
    def time(self) -> float:
        return self.time_ns / 1e9

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "action": self.action, "time_ns": self.time_ns}
        for key in ("id", "name", "image"):
            if getattr(self, key):
                doc[key] = getattr(self, key)
        if self.attributes:
            doc["attributes"] = self.attributes
        if self.exit_code is not None:
            doc["exit_code"] = self.exit_code
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Event":
        return cls(type=str(doc.get("type", "")), action=str(doc.get("action", "")),
                   time_ns=int(doc.get("time_ns", 0)), id=str(doc.get("id", "")), name=str(doc.get("name", "")),
                   image=str(doc.get("image", "")), attributes=dict(doc.get("attributes") or {}),
                   exit_code=doc.get("exit_code"))

    def podman(self) -> dict[str, Any]:
        """`hull events --format json` (Podman's keys)."""
        from datetime import datetime, timezone

        dt = datetime.fromtimestamp(self.time_ns / 1e9, tz=timezone.utc).astimezone()
        doc: dict[str, Any] = {"ID": self.id, "Image": self.image, "Name": self.name, "Status": self.action,
                               "Time": dt.isoformat(), "Type": self.type, "Attributes": self.attributes}
        if self.exit_code is not None:
            doc["ContainerExitCode"] = self.exit_code
        return doc

    def docker(self) -> dict[str, Any]:
        """The Docker Engine API's /events message."""
        attrs = dict(self.attributes)
        if self.name:
            attrs.setdefault("name", self.name)
        if self.image:
            attrs.setdefault("image", self.image)
        if self.exit_code is not None:
            attrs.setdefault("exitCode", str(self.exit_code))
        return {"Type": self.type, "Action": self.action, "Actor": {"ID": self.id, "Attributes": attrs},
                "scope": "local", "time": self.time_ns // 1_000_000_000, "timeNano": self.time_ns,
                "status": self.action, "id": self.id, "from": self.image}


def _paths(cfg: EngineConfig) -> tuple[str, str]:
    return str(cfg.root / "events.log"), str(cfg.locks_dir / "events.lock")


def emit(cfg: EngineConfig, type: str, action: str, id: str = "", name: str = "", image: str = "",
         attributes: dict[str, str] | None = None, exit_code: int | None = None) -> None:
    """Append one event; never raises."""
    event = Event(type, action, time.time_ns(), id, name, image, dict(attributes or {}), exit_code)
    line = (json.dumps(event.to_json(), separators=(",", ":")) + "\n").encode()
    path, lock = _paths(cfg)
    try:
        from engine.store.locks import file_lock

        with file_lock(lock):
            try:
                if os.stat(path).st_size + len(line) > MAX_LOG_SIZE:
                    os.replace(path, path + ".1")
            except FileNotFoundError:
                pass
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError:
        pass


def container_event(cfg: EngineConfig, action: str, container: Any, exit_code: int | None = None) -> None:
    """emit() for a store Container (labels become attributes, as Podman does)."""
    attrs = {str(k): str(v) for k, v in (getattr(container, "labels", None) or {}).items()}
    emit(cfg, "container", action, id=container.id, name=container.name, image=container.image_name,
         attributes=attrs, exit_code=exit_code)


def parse_filters(pairs: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or key not in FILTER_KEYS:
            raise InvalidArgument(f"{pair}: invalid filter")
        out.setdefault(key, []).append(value)
    return out


def _matches(event: Event, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key in ("since", "until"):
            continue
        if key == "container":
            ok = any(v in (event.name, event.id) or (v and event.id.startswith(v)) for v in values)
            ok = ok and event.type == "container"
        elif key in ("event", "status"):
            ok = any(v == event.action or (v == "die" and event.action == "died") for v in values)
        elif key == "image":
            ok = any(v == event.image or event.image.endswith("/" + v) or event.image.split("/")[-1].startswith(v + ":")
                     or event.image.split("/")[-1] == v or (event.type == "image" and event.id.startswith(v))
                     for v in values)
        elif key == "label":
            ok = any(_label_ok(event.attributes, v) for v in values)
        elif key == "type":
            ok = event.type in values
        else:  # volume, pod, network: the object's name or id
            ok = event.type == key and any(v in (event.name, event.id) for v in values)
        if not ok:
            return False
    return True


def _label_ok(attrs: dict[str, str], spec: str) -> bool:
    key, eq, value = spec.partition("=")
    return key in attrs and (not eq or attrs[key] == value)


def _lines(path: str, start: int = 0) -> Iterator[tuple[bytes, int]]:
    """Complete lines of `path` from offset `start`, with the offset after each."""
    try:
        with open(path, "rb") as f:
            f.seek(start)
            offset = start
            for line in f:
                if not line.endswith(b"\n"):
                    break  # a writer is mid-line; picked up on the next poll
                offset += len(line)
                yield line, offset
    except FileNotFoundError:
        return


def _decode(line: bytes) -> Event | None:
    try:
        return Event.from_json(json.loads(line))
    except (ValueError, TypeError, AttributeError):
        return None


def read_events(cfg: EngineConfig, since: float | None = None, until: float | None = None,
                filters: dict[str, list[str]] | None = None, follow: bool = False,
                poll_interval: float = 0.2, sleep: Any = time.sleep, keep_going: Any = None) -> Iterator[Event]:
    """Events oldest first; with `follow`, keep yielding new ones until `until`
    passes (or forever, or while `keep_going()`); the caller stops by closing the
    generator.  `sleep(poll_interval)` waits between polls (the console passes an
    inotify wait, engine/services/log_follow.Waker)."""
    filters = filters or {}
    path, _ = _paths(cfg)
    since_ns = int(since * 1e9) if since is not None else None
    until_ns = int(until * 1e9) if until is not None else None

    def wanted(event: Event | None) -> bool:
        if event is None:
            return False
        if since_ns is not None and event.time_ns < since_ns:
            return False
        if until_ns is not None and event.time_ns > until_ns:
            return False
        return _matches(event, filters)

    for old, _ in _lines(path + ".1"):
        if wanted(ev := _decode(old)):
            yield ev
    offset, inode = 0, _inode(path)
    for line, offset in _lines(path):
        if wanted(ev := _decode(line)):
            yield ev
    if not follow:
        return
    while (until_ns is None or time.time_ns() <= until_ns) and (keep_going is None or keep_going()):
        sleep(poll_interval)
        current = _inode(path)
        if current != inode:  # rotated: the rest of the old file is in .1 now
            for line, _ in _lines(path + ".1", offset):
                if wanted(ev := _decode(line)):
                    yield ev
            offset, inode = 0, current
        for line, offset in _lines(path, offset):
            if wanted(ev := _decode(line)):
                yield ev


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None
