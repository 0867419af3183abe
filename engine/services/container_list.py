"""`ps`: container summaries with Podman's filters, -a/-l/-n and -s sizes.

One query for the rows, a reconcile per active row (a stat of the monitor's
pid), and nothing else unless asked: sizes walk the upper dirs only with -s.
"""

from __future__ import annotations

import os
import re
import time
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.config import EngineConfig
from engine.errors import ContainerNotFound, InvalidArgument
from engine.record import Factory, Record
from engine.services.common import open_store, rfc3339
from engine.services.container_state import reconcile, status_word
from engine.store.containers import Container, ContainerState
from engine.humanize import human_duration

S = ContainerState
FILTERS = ("id", "name", "label", "status", "exited", "ancestor", "before", "since", "health", "volume",
           "pod", "until", "label!", "restart-policy")
STATUSES = ("created", "exited", "paused", "running", "unknown", "configured", "stopped", "removing")


class ListOptions(Record):
    all: bool = False
    latest: bool = False
    last: int = -1
    filters: dict[str, list[str]] = Factory(dict)
    size: bool = False


class ContainerSummary(Record):
    id: str
    names: list[str]
    image: str
    image_id: str
    command: list[str]
    created: float
    state: str  # Podman's State: created, running, paused, exited, ...
    status: str  # "Up 3 seconds", "Exited (0) 2 seconds ago", "Created"
    exit_code: int
    exited: bool
    pid: int
    started_at: float
    finished_at: float
    labels: dict[str, str] = Factory(dict)
    mounts: list[str] = Factory(list)
    pod: str = ""
    restarts: int = 0
    health: str = ""
    size_rw: int | None = None
    size_root_fs: int | None = None
    ports: list[dict] = Factory(list)
    auto_remove: bool = False
    _container: Any = None  # the row summarised, for callers needing more (the API's NetworkMode)

    @property
    def created_at(self) -> str:
        return rfc3339(self.created)


def status_text(c: Container, now: float | None = None) -> str:
    now = now or time.time()
    if c.state == S.RUNNING:
        text = f"Up {human_duration(now - c.started_at)}"
        return f"{text} ({c.health})" if c.health else text
    if c.state == S.PAUSED:
        return "Paused"
    if c.state in (S.EXITED, S.STOPPED):
        return f"Exited ({c.exit_code}) {human_duration(now - c.finished_at)} ago"
    if c.state == S.REMOVING:
        return "Removing"
    return "Created"


def upper_size(store: Any, c: Container) -> int:
    """Bytes in the container's upper dir (its changes), without following links."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(store.containers.upper(c.id)):
        for name in filenames + dirnames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size if not os.path.isdir(os.path.join(dirpath, name)) else 0
    return total


def summarize(store: Any, c: Container, with_size: bool = False, now: float | None = None) -> ContainerSummary:
    # Every field in ContainerSummary's order, set without Record.__init__'s generic loop
    # (a third of a listed row's cost); c.option(): a listed row answers from the few
    # option values SQLite extracted, without decoding the options.
    state = c.state
    summary = ContainerSummary.__new__(ContainerSummary)
    summary.__dict__.update({
        "id": c.id, "names": [c.name], "image": c.image_name,
        "image_id": (c.image_id or "").removeprefix("sha256:"), "command": list(c.command),
        "created": c.created, "state": status_word(state), "status": status_text(c, now),
        "exit_code": c.exit_code, "exited": state is S.EXITED or state is S.STOPPED,
        "pid": c.pid if state.active else 0, "started_at": c.started_at, "finished_at": c.finished_at,
        "labels": dict(c.labels), "mounts": [m.get("destination", "") for m in c.option("mounts", [])],
        "pod": c.pod, "restarts": c.restart_count, "health": c.health, "size_rw": None, "size_root_fs": None,
        "ports": [], "auto_remove": bool(c.option("rm")), "_container": c,
    })
    publish = c.option("publish")
    if publish:  # the host ports in force while running, else the requested ones
        from engine.network.ports import published, requested, to_dicts

        opts = {"publish": publish}  # all these two read
        live = published(store.containers.run_dir(c.id), opts) if c.state.active else None
        summary.ports = to_dicts(live if live is not None else requested(opts))
    if with_size:
        summary.size_rw = upper_size(store, c)
        image_size = 0
        if c.image_id:
            try:
                image_size = int(store.images.get(c.image_id).size or 0)
            except Exception:  # noqa: BLE001 - the image row is guarded by a foreign key; be lenient in ps
                image_size = 0
        summary.size_root_fs = image_size + summary.size_rw
    return summary


def list_containers(cfg: EngineConfig, opts: ListOptions | None = None, store: Any = None) -> list[ContainerSummary]:
    """`store`: one the caller has open already (the API service keeps one per connection)."""
    opts = opts or ListOptions()
    for key in opts.filters:
        if key not in FILTERS:
            raise InvalidArgument(f"{key} is an invalid filter")
    store = store or open_store(cfg)
    rows = store.containers.listing()  # newest first
    quiet = _quiet(rows)
    containers = [c if c.id in quiet else reconcile(store, c) for c in rows]
    if opts.latest:
        containers = containers[:1]
    elif opts.last >= 0:
        containers = containers[: opts.last]
    elif not opts.all and "status" not in opts.filters and "exited" not in opts.filters:
        containers = [c for c in containers if c.state.active]
    by_ref = {c.id: c for c in containers}
    containers = [c for c in containers if _matches(store, c, opts.filters, by_ref)]
    now = time.time()
    return [summarize(store, c, opts.size, now) for c in containers]


# The API's spare child opens a pidfd on each running row's monitor and container
# process ahead of its request (watch_active, from engine/api/context.warm_up); the
# request then learns with one poll() which of them exited: the others are as listed
# (reconcile would read two pid files and /proc for each, to change nothing).
_watched: dict[str, tuple[Container, list[int]]] = {}


def watch_active(store: Any, rows: list[Container]) -> None:
    """Watch the running rows whose monitor and container process are alive now.
    Read-only: a row that is stale already is left to reconcile at the request."""
    from engine.services.container_state import container_process, monitor_pid_file
    from engine.store.containers import pid_alive, read_pid_file

    for c in rows:
        if not c.state.active or c.id in _watched:
            continue
        monitor = read_pid_file(monitor_pid_file(store, c.id))
        proc = container_process(store, c) if monitor is not None else None
        if proc is None:
            continue
        fds: list[int] = []
        try:
            for pid, start in (monitor, proc):
                fds.append(os.pidfd_open(pid))
                if not pid_alive(pid, start):  # checked after opening: the fd is that process
                    raise ProcessLookupError
        except OSError:
            for fd in fds:
                os.close(fd)
            continue
        _watched[c.id] = (c, fds)


def _quiet(rows: list[Container]) -> set[str]:
    """IDs of the watched rows (the very objects watched: the DB has not changed since)
    whose monitor and container process both still run."""
    if not _watched:
        return set()
    import select

    poller = select.poll()
    candidates = []
    for c in rows:
        watched = _watched.get(c.id)
        if watched is not None and watched[0] is c:
            candidates.append((c.id, watched[1]))
            for fd in watched[1]:
                poller.register(fd, select.POLLIN)
    ended = {fd for fd, _ in poller.poll(0)}
    return {cid for cid, fds in candidates if not ended.intersection(fds)}


def _find(store: Any, text: str) -> Container:
    try:
        return store.containers.lookup(text)
    except ContainerNotFound:
        raise ContainerNotFound(f'no container with name or ID "{text}" found: no such container') from None


def _label_match(labels: dict[str, str], spec: str) -> bool:
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)


def _ancestor_match(store: Any, c: Container, value: str) -> bool:
    if c.image_id and c.image_id.removeprefix("sha256:").startswith(value.removeprefix("sha256:")):
        return True
    name = c.image_name
    short = name.rsplit("/", 1)[-1]
    if value in (name, short, short.split(":")[0], name.rsplit(":", 1)[0]):
        return True
    try:
        from engine.services.images import find_image

        return find_image(store, value).id == c.image_id
    except Exception:  # noqa: BLE001 - an unknown image simply matches nothing
        return False


def _one(store: Any, c: Container, key: str, value: str) -> bool:
    if key == "id":
        return c.id.startswith(value)
    if key == "name":
        try:
            return re.search(value, c.name) is not None
        except re.error:
            return value == c.name
    if key == "label":
        return _label_match(c.labels, value)
    if key == "label!":
        return not _label_match(c.labels, value)
    if key == "status":
        if value not in STATUSES:
            raise InvalidArgument(f"{value} is not a valid status")
        return status_word(c.state) == value or c.state.value == value
    if key == "exited":
        try:
            return c.state in (S.EXITED, S.STOPPED) and c.exit_code == int(value)
        except ValueError:
            raise InvalidArgument(f"exited code out of range \"{value}\"") from None
    if key == "ancestor":
        return _ancestor_match(store, c, value)
    if key in ("before", "since"):
        other = _find(store, value)
        return c.created < other.created if key == "before" else c.created > other.created
    if key == "health":
        return (c.health or "none") == value
    if key == "volume":
        return any(value in (name, dest) for name, dest in store.volumes.of_container(c.id))
    if key == "pod":
        if c.pod == value or (bool(value) and c.pod.startswith(value)):
            return True
        return bool(c.pod) and store.pods.names().get(c.pod) == value  # or the pod's name
    if key == "restart-policy":  # Podman's filter (hull-restart.service starts `always` ones at boot)
        return ((c.options or {}).get("restart") or {}).get("name", "") == value
    if key == "until":
        from engine.services.images import _parse_until

        return c.created < _parse_until(value)
    raise InvalidArgument(f"{key} is an invalid filter")


def _matches(store: Any, c: Container, filters: dict[str, list[str]], _: dict) -> bool:
    # values of one key are ORed (label: ANDed, as Podman), keys ANDed
    for key, values in filters.items():
        if key in ("label", "label!"):
            if not all(_one(store, c, key, v) for v in values):
                return False
        elif not any(_one(store, c, key, v) for v in values):
            return False
    return True


def matches_prune_filters(c: Container, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key not in ("label", "label!", "until"):
            raise InvalidArgument(f"{key} is an invalid filter")
        for v in values:
            if key == "until":
                from engine.services.images import _parse_until

                if not c.created < _parse_until(v):
                    return False
            elif (key == "label") != _label_match(c.labels, v):
                return False
    return True
