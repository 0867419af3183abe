"""Named volumes: DB rows plus `{root}/volumes/<name>/_data`.

The local driver keeps data in `_data`.  Options (`-o`) follow Podman's local
driver: `type`, `device`, `o` (mount options; `o=bind` makes `device` the data
directory), and `uid`/`gid` for the owner of a fresh `_data`.  A volume is in use
while a container row references it (`container_volumes`); the foreign key makes
removing it then impossible even if a caller forgot to check.

Copy-up: the first time an empty named volume is mounted where the image has
content, that content is copied in (owners, modes, xattrs, links kept), as
Docker and Podman do; after that the volume keeps its own data.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import time
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import Conflict, InUse, InvalidArgument, StorageError, VolumeNotFound
from engine.record import DataRecord, Factory
from engine.store.db import StateDB

TYPE_CHECKING = False  # typing, dataclasses, secrets, shutil: milliseconds on every start
if TYPE_CHECKING:
    from typing import Any

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
DRIVERS = ("local",)
LOCAL_OPTIONS = ("type", "device", "o", "uid", "gid", "size", "copy", "nocopy")


class Volume(DataRecord):
    name: str
    driver: str
    mountpoint: str
    labels: dict[str, str] = Factory(dict)
    options: dict[str, str] = Factory(dict)
    created: float = 0.0
    anonymous: bool = False
    needs_copy_up: bool = True
    uid: int | None = None
    gid: int | None = None

    @property
    def bind_device(self) -> str | None:
        """`-o o=bind -o device=/path`: the data lives at `device`."""
        o = self.options.get("o", "")
        if self.options.get("device") and ("bind" in o.split(",") or "rbind" in o.split(",")):
            return self.options["device"]
        return None

    @property
    def needs_mount(self) -> bool:
        """A filesystem (tmpfs, a device) is mounted on _data at first use."""
        return bool(self.options.get("type") or self.options.get("device")) and self.bind_device is None

    @property
    def data_path(self) -> str:
        return self.bind_device or self.mountpoint


def _row(row: sqlite3.Row) -> Volume:
    return Volume(
        name=row["name"], driver=row["driver"], mountpoint=row["mountpoint"],
        labels=json.loads(row["labels"]), options=json.loads(row["options"]), created=row["created"],
        anonymous=bool(row["anonymous"]), needs_copy_up=bool(row["needs_copy_up"]),
        uid=row["uid"], gid=row["gid"],
    )


def not_found(name: str) -> VolumeNotFound:
    return VolumeNotFound(f'no volume with name "{name}" found: no such volume')


class VolumeStore:
    def __init__(self, cfg: EngineConfig, db: StateDB) -> None:
        self.cfg = cfg
        self.db = db

    def dir(self, name: str) -> Path:
        return self.cfg.volumes_dir / name

    def data_dir(self, name: str) -> Path:
        return self.dir(name) / "_data"

    def create(self, name: str | None = None, driver: str = "local", labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None, anonymous: bool = False,
               ignore_existing: bool = False) -> Volume:
        """A new volume; `name=None` makes an anonymous one (64 hex).  An existing name
        raises Conflict, or returns that volume with `ignore_existing` (create --ignore)."""
        if name is None:
            name, anonymous = os.urandom(32).hex(), True  # secrets.token_hex(32)
        if not NAME_RE.match(name):
            raise InvalidArgument(f"volume name {name!r} must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument")
        if driver not in DRIVERS:
            raise InvalidArgument(f"volume driver {driver!r} is not supported: only local: invalid argument")
        options = dict(options or {})
        for key in options:
            if key not in LOCAL_OPTIONS:
                raise InvalidArgument(f"invalid mount option {key} for driver 'local': invalid argument")
        uid = _int_option(options, "uid")
        gid = _int_option(options, "gid")
        if options.get("device") and options.get("o", "").split(",")[0] in ("bind", "rbind"):
            if not os.path.isdir(options["device"]):
                raise InvalidArgument(f"invalid volume option device={options['device']}: no such directory")
        existing = self.db.query("SELECT * FROM volumes WHERE name = ?", (name,))
        if existing:
            if ignore_existing:
                return _row(existing[0])
            raise Conflict(f"volume with name {name} already exists: volume already exists")
        self.cfg.volumes_dir.mkdir(mode=0o700, exist_ok=True)
        vdir, data = self.dir(name), self.data_dir(name)
        try:
            vdir.mkdir(mode=0o700, exist_ok=True)
            data.mkdir(mode=0o755, exist_ok=True)
            if uid is not None or gid is not None:
                os.chown(data, -1 if uid is None else uid, -1 if gid is None else gid)
        except OSError as exc:
            raise StorageError(f"creating volume directory {data}: {exc.strerror}") from None
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO volumes (name, driver, mountpoint, labels, options, created, anonymous, "
                    "uid, gid) VALUES (?,?,?,?,?,?,?,?,?)",
                    (name, driver, str(data), json.dumps(labels or {}, sort_keys=True),
                     json.dumps(options, sort_keys=True), time.time(), int(anonymous), uid, gid),
                )
        except Exception:
            if ignore_existing and self.exists(name):
                return self.get(name)
            raise
        return self.get(name)

    def get(self, name: str) -> Volume:
        rows = self.db.query("SELECT * FROM volumes WHERE name = ?", (name,))
        if not rows:
            raise not_found(name)
        return _row(rows[0])

    def lookup(self, text: str) -> Volume:
        """Exact name, then a unique name prefix (Podman accepts those too)."""
        rows = self.db.query("SELECT * FROM volumes WHERE name = ?", (text,))
        if rows:
            return _row(rows[0])
        if text:
            rows = self.db.query("SELECT * FROM volumes WHERE name >= ? AND name < ? LIMIT 2",
                                 (text, text + "\U0010ffff"))
            if len(rows) == 1:
                return _row(rows[0])
            if len(rows) > 1:
                raise InvalidArgument(f"more than one result for volume name {text}: volume already exists")
        raise not_found(text)

    def exists(self, name: str) -> bool:
        return bool(self.db.query("SELECT 1 FROM volumes WHERE name = ?", (name,)))

    def list(self) -> list[Volume]:
        return [_row(r) for r in self.db.query("SELECT * FROM volumes ORDER BY created, name")]

    # --- in-use tracking ---
    def attach(self, container_id: str, name: str, destination: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO container_volumes (container_id, volume, destination) "
                         "VALUES (?,?,?)", (container_id, name, destination))

    def users(self, name: str) -> list[str]:
        return [r[0] for r in self.db.query(
            "SELECT DISTINCT container_id FROM container_volumes WHERE volume = ? ORDER BY container_id", (name,))]

    def of_container(self, container_id: str) -> list[tuple[str, str]]:
        """(volume name, destination) pairs a container uses."""
        return [(r[0], r[1]) for r in self.db.query(
            "SELECT volume, destination FROM container_volumes WHERE container_id = ? ORDER BY destination",
            (container_id,))]

    def mark_copied(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE volumes SET needs_copy_up = 0 WHERE name = ?", (name,))

    # --- removal ---
    def remove(self, name: str, force_users: bool = False) -> Volume:
        """Delete the row and the directory; InUse while a container references it
        (unless the caller already removed those containers: `force_users`)."""
        volume = self.get(name)
        users = self.users(name)
        if users and not force_users:
            raise InUse(f"volume {name} is being used by the following container(s): "
                        f"{', '.join(users)}: volume is being used")
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM container_volumes WHERE volume = ?", (name,)) if force_users else None
            conn.execute("DELETE FROM volumes WHERE name = ?", (name,))
        self._unmount(volume)
        from engine.store.rmtree import remove_tree

        try:
            remove_tree(self.dir(name))
        except FileNotFoundError:
            pass
        return volume

    def _unmount(self, volume: Volume) -> None:
        if not volume.needs_mount:
            return
        try:
            from engine.runtime.overlay import is_mountpoint, unmount

            if is_mountpoint(Path(volume.mountpoint)):
                unmount(Path(volume.mountpoint), lazy=True)
        except Exception:  # noqa: BLE001 - removal goes on; a stale mount is the lesser evil
            pass

    def unused(self) -> list[Volume]:
        return [_row(r) for r in self.db.query(
            "SELECT * FROM volumes WHERE name NOT IN (SELECT volume FROM container_volumes) ORDER BY name")]

    # --- first use ---
    def prepare_for_use(self, volume: Volume) -> str:
        """Mount a typed volume's filesystem on _data if needed; returns the data path."""
        if volume.needs_mount:
            from engine.runtime.overlay import is_mountpoint

            target = Path(volume.mountpoint)
            if not is_mountpoint(target):
                _mount_typed(volume, target)
        return volume.data_path


def _int_option(options: dict[str, str], key: str) -> int | None:
    if key not in options:
        return None
    try:
        value = int(options[key])
    except ValueError:
        raise InvalidArgument(f"cannot convert {key} {options[key]!r} to integer: invalid argument") from None
    if value < 0:
        raise InvalidArgument(f"invalid {key} {value}: must not be negative")
    return value


def _mount_typed(volume: Volume, target: Path) -> None:
    from engine.errors import SyscallError
    from engine.runtime.syscalls import SYSCALLS

    fstype = volume.options.get("type") or "none"
    device = volume.options.get("device") or fstype
    data = volume.options.get("o", "")
    flags = 0
    flag_words = {"ro": 1, "nosuid": 2, "nodev": 4, "noexec": 8}
    rest = []
    for word in filter(None, data.split(",")):
        if word in flag_words:
            flags |= flag_words[word]
        elif word not in ("rw", "bind", "rbind"):
            rest.append(word)
    try:
        SYSCALLS.mount(device, str(target), fstype, flags, ",".join(rest) or None)
    except SyscallError as exc:
        raise StorageError(f"mounting volume {volume.name} ({fstype} {device}): {os.strerror(exc.errno)}") from None


def copy_up(source: str | int, dest: str) -> bool:
    """Copy the tree at `source` (a path or an O_PATH/directory fd, already resolved
    inside the container's rootfs) into the empty directory `dest`, keeping owners,
    modes, times, symlinks and hardlinks; never follows a symlink.  Returns False when
    `dest` is not empty (nothing copied)."""
    with os.scandir(dest) as it:
        if next(it, None) is not None:
            return False
    src = f"/proc/self/fd/{source}" if isinstance(source, int) else source
    src_real = os.path.realpath(src)  # pin the directory the fd names; the walk below never follows links
    st = os.lstat(src_real)
    os.chown(dest, st.st_uid, st.st_gid)
    os.chmod(dest, stat.S_IMODE(st.st_mode))
    links: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(src_real, followlinks=False):
        rel = os.path.relpath(dirpath, src_real)
        out_dir = dest if rel == "." else os.path.join(dest, rel)
        for name in list(dirnames):
            s, d = os.path.join(dirpath, name), os.path.join(out_dir, name)
            sst = os.lstat(s)
            if stat.S_ISLNK(sst.st_mode):
                os.symlink(os.readlink(s), d)
                _own(d, sst, link=True)
                dirnames.remove(name)
                continue
            os.mkdir(d, 0o700)
            _own(d, sst)
        for name in filenames:
            s, d = os.path.join(dirpath, name), os.path.join(out_dir, name)
            sst = os.lstat(s)
            key = (sst.st_dev, sst.st_ino)
            if sst.st_nlink > 1 and key in links:
                os.link(links[key], d)
                continue
            if stat.S_ISLNK(sst.st_mode):
                os.symlink(os.readlink(s), d)
                _own(d, sst, link=True)
            elif stat.S_ISREG(sst.st_mode):
                _copy_file(s, d)
                _own(d, sst)
                _copy_xattrs(s, d)
            elif stat.S_ISCHR(sst.st_mode) or stat.S_ISBLK(sst.st_mode) or stat.S_ISFIFO(sst.st_mode):
                try:
                    os.mknod(d, sst.st_mode, sst.st_rdev)
                    _own(d, sst)
                except OSError:
                    continue  # devices cannot be made in a user namespace; skip as Podman does
            else:
                continue  # sockets
            if sst.st_nlink > 1:
                links[key] = d
    # directory times last: creating entries changed them
    for dirpath, dirnames, _ in os.walk(src_real, topdown=False, followlinks=False):
        rel = os.path.relpath(dirpath, src_real)
        out_dir = dest if rel == "." else os.path.join(dest, rel)
        sst = os.lstat(dirpath)
        os.utime(out_dir, ns=(sst.st_atime_ns, sst.st_mtime_ns), follow_symlinks=False)
    return True


def _copy_file(src: str, dst: str) -> None:
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with open(fd_in, "rb", closefd=False) as fin, open(fd_out, "wb", closefd=True) as fout:
            import shutil

            shutil.copyfileobj(fin, fout, 1 << 20)
    finally:
        os.close(fd_in)


def _own(path: str, st: os.stat_result, link: bool = False) -> None:
    os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)
    if not link:
        os.chmod(path, stat.S_IMODE(st.st_mode))  # after chown, which clears setuid bits
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _copy_xattrs(src: str, dst: str) -> None:
    """security.capability and user.* (not overlay's own) travel with the file."""
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        return
    for name in names:
        if name.startswith(("user.overlay.", "trusted.")):
            continue
        try:
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False)
        except OSError:
            continue


def volume_options(pairs: list[str]) -> dict[str, Any]:
    """`-o key=value` strings -> dict (a later key wins, as Podman)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not key:
            raise InvalidArgument(f"invalid volume option {pair!r}")
        out[key] = value if eq else ""
    return out
