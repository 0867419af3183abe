"""The ID maps of Hull's rootless user namespace, built as Podman builds them.

Container id 0 is the user's own id; ids 1.. are the user's subordinate ranges
from /etc/subuid and /etc/subgid, one after the other in file order.  Without a
range the map is the single id 0 -> user (and Hull says so once).

Pure parsing and arithmetic: no namespace is touched here, so it is unit tested
with fake file contents.
"""

from __future__ import annotations

import os
import pwd

from engine.errors import HullError
from engine.record import Record

SUBUID_FILE = "/etc/subuid"  # str, not Path: the rootless join path runs before pathlib loads
SUBGID_FILE = "/etc/subgid"
MAX_ID = 2**32 - 1  # (uid_t)-1 is never a valid id
MAX_MAP_LINES = 340  # kernel limit on lines in /proc/PID/uid_map (Linux >= 4.15)


class IDMapError(HullError):
    """/etc/subuid or /etc/subgid cannot be used as written."""


class SubIDRange(Record, frozen=True):
    start: int
    count: int


class IDMap(Record, frozen=True):
    """One line of /proc/PID/uid_map: `container_id host_id size`."""

    container_id: int
    host_id: int
    size: int


class UserIDMaps(Record, frozen=True):
    """Both maps of one user; `warning` is set when a map is single-id."""

    uid_maps: tuple[IDMap, ...]
    gid_maps: tuple[IDMap, ...]
    warning: str | None = None

    @property
    def single(self) -> bool:
        return len(self.uid_maps) == 1 and len(self.gid_maps) == 1 and self.uid_maps[0].size == 1


def _parse_id(text: str, what: str, where: str) -> int:
    if not text.isdigit():
        raise IDMapError(f"{where}: {what} {text!r} is not a number")
    return int(text)


def parse_subid_text(text: str, user: str, uid: int, source: str = "/etc/subuid") -> list[SubIDRange]:
    """Ranges that `text` (subuid/subgid syntax) gives to `user` (by name or uid number).

    Only lines of this user are validated: another user's typo must not stop us.
    """
    ranges: list[SubIDRange] = []
    owners = {user, str(uid)}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if fields[0] not in owners:
            continue
        where = f"{source} line {lineno}"
        if len(fields) != 3:
            raise IDMapError(f"{where}: expected NAME:START:COUNT, got {line!r}")
        start = _parse_id(fields[1], "start", where)
        count = _parse_id(fields[2], "count", where)
        if count == 0:
            continue  # an empty range is harmless; shadow's tools skip it too
        if start + count - 1 >= MAX_ID:
            raise IDMapError(f"{where}: range {start}+{count} goes past the largest id")
        for other in ranges:
            if start < other.start + other.count and other.start < start + count:
                raise IDMapError(f"{where}: range {start}+{count} overlaps {other.start}+{other.count}")
        ranges.append(SubIDRange(start, count))
    return ranges


def read_subid_ranges(path: str | os.PathLike, user: str, uid: int) -> list[SubIDRange]:
    """Ranges of `user` in `path`; a missing file means no ranges."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise IDMapError(f"cannot read {path}: {exc.strerror}") from None
    return parse_subid_text(text, user, uid, str(path))


def build_id_maps(own_id: int, ranges: list[SubIDRange]) -> tuple[IDMap, ...]:
    """0 -> own_id, then each range stacked from container id 1."""
    maps = [IDMap(0, own_id, 1)]
    next_id = 1
    for r in ranges:
        if r.start <= own_id < r.start + r.count:
            raise IDMapError(f"subordinate range {r.start}+{r.count} contains the user's own id {own_id}")
        maps.append(IDMap(next_id, r.start, r.count))
        next_id += r.count
    if next_id - 1 >= MAX_ID:
        raise IDMapError("subordinate ranges add up to more ids than a namespace holds")
    if len(maps) > MAX_MAP_LINES:
        raise IDMapError(f"too many subordinate ranges ({len(maps) - 1}); the kernel takes {MAX_MAP_LINES - 1}")
    return tuple(maps)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)  # no passwd entry (containers, LDAP outages): match by number only


def user_id_maps(uid: int | None = None, gid: int | None = None, user: str | None = None,
                 subuid_file: str | os.PathLike = SUBUID_FILE, subgid_file: str | os.PathLike = SUBGID_FILE) -> UserIDMaps:
    """The maps Hull's pause process gets for this user (default: the caller)."""
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    user = user or _user_name(uid)
    uid_ranges = read_subid_ranges(subuid_file, user, uid)
    gid_ranges = read_subid_ranges(subgid_file, user, uid)
    warning = None
    missing = [str(f) for f, r in ((subuid_file, uid_ranges), (subgid_file, gid_ranges)) if not r]
    if missing:
        warning = (f"no subordinate ids for user {user} in {' and '.join(missing)}: "
                   "using a single-id map, images with other owners will fail")
    return UserIDMaps(build_id_maps(uid, uid_ranges), build_id_maps(gid, gid_ranges), warning)


def newidmap_args(maps: tuple[IDMap, ...]) -> list[str]:
    """Arguments after PID for newuidmap/newgidmap."""
    args: list[str] = []
    for m in maps:
        args += [str(m.container_id), str(m.host_id), str(m.size)]
    return args


def format_proc_map(maps: tuple[IDMap, ...]) -> str:
    """Text for writing /proc/PID/uid_map directly (single-id maps need no helper)."""
    return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)


def parse_proc_map(text: str) -> tuple[IDMap, ...]:
    """Read /proc/PID/uid_map back (tests, `hull info`)."""
    maps = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3:
            maps.append(IDMap(int(fields[0]), int(fields[1]), int(fields[2])))
    return tuple(maps)


def is_identity_map(maps: tuple[IDMap, ...]) -> bool:
    """True in the initial user namespace (`0 0 4294967295`)."""
    return len(maps) == 1 and maps[0].container_id == 0 and maps[0].host_id == 0 and maps[0].size == MAX_ID


def host_id(maps: tuple[IDMap, ...], container_id: int) -> int | None:
    """The host id a container id lands on, or None when unmapped."""
    for m in maps:
        if m.container_id <= container_id < m.container_id + m.size:
            return m.host_id + container_id - m.container_id
    return None
