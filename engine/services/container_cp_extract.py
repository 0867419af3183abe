"""Unpack a `cp` tar stream into an existing directory of a (hostile) root.

The root is a container's root filesystem, or the host directory a copy lands in.
Every entry's parent is resolved inside the root (engine/archive/inroot.py,
openat2 RESOLVE_IN_ROOT), afresh for each entry, and the entry's own name is then
created with dir_fd= and O_NOFOLLOW/O_EXCL.  A container that swaps a directory
for a symlink to `/` while we write (CVE-2018-15664) only redirects us to its
own `/`.  The stream is decompressed in-process (never xz/unpigz: CVE-2026-41567).

Unlike layer extraction this merges into what is there, as Docker's cp does: a
directory entry over a directory keeps it, a non-directory replaces a
non-directory, and a directory never replaces a file (nor the other way round).
Whiteout names are ordinary names here.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Any, BinaryIO

from engine.archive import tarstream as ts
from engine.archive.compression import open_decompressed
from engine.archive.extract import normalize_name
from engine.archive.inroot import InRoot
from engine.archive.limits import DEFAULT_LIMITS, Limits
from engine.errors import HullError, InvalidArgument, StorageError, SyscallError, UnsafeArchive

_CREATE_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_SETID = stat.S_ISUID | stat.S_ISGID
_XATTR_PREFIXES = (b"user.", b"security.capability")


@dataclass(frozen=True)
class Ownership:
    """Who owns what a copy creates.

    keep: the archive's uid/gid (`--archive`); else `uid`/`gid` when given (the
    container's root), else whoever runs the copy (the host side).
    strip_setid: drop setuid/setgid bits (files landing on the host without --archive).
    shift: container ids -> host ids for `keep` (a container with its own user namespace).
    """

    keep: bool = False
    uid: int | None = None
    gid: int | None = None
    strip_setid: bool = False
    shift: Any = None


def extract_into(stream: BinaryIO, root: InRoot, dest_dir: bytes, owner: Ownership,
                 limits: Limits = DEFAULT_LIMITS) -> int:
    """Unpack the (possibly compressed) tar `stream` into `dest_dir` (resolved in `root`,
    must exist); returns the number of entries written."""
    reader = open_decompressed(stream, limits)
    tar = ts.TarReader(reader, limits)
    unpacker = _Unpacker(root, dest_dir, owner)
    while (entry := tar.next()) is not None:
        unpacker.apply(entry, tar)
    unpacker.finish()
    return unpacker.count


def _show(path: bytes) -> str:
    return "/" + os.fsdecode(path).lstrip("/")


class _Unpacker:
    def __init__(self, root: InRoot, dest_dir: bytes, owner: Ownership) -> None:
        self.root = root
        self.dest = b"/".join(p for p in dest_dir.split(b"/") if p)
        self.owner = owner
        self.dirs: list[tuple[bytes, int, int]] = []  # path, mode, mtime_ns: set last
        self.count = 0
        fd = root.open_dir(self.dest)  # the destination must exist and be a directory
        os.close(fd)

    def _full(self, rel: bytes) -> bytes:
        return self.dest + b"/" + rel if self.dest else rel

    def _parent(self, path: bytes) -> tuple[int, bytes]:
        """(O_PATH fd of the parent, last name), parents created in-root as needed."""
        pfd, name = self.root.open_parent(path, create=True)
        if name is None:
            os.close(pfd)
            raise UnsafeArchive(f"archive entry {_show(path)} names a directory it cannot replace")
        return pfd, name

    def apply(self, entry: ts.Entry, tar: ts.TarReader) -> None:
        rel = normalize_name(entry.name)
        if not rel:  # "./": the destination itself; its metadata stays as it is
            if entry.type not in (ts.DIR, ts.GNU_DUMPDIR):
                raise UnsafeArchive("archive entry for the destination directory is not a directory")
            return
        path = self._full(rel)
        try:
            pfd, name = self._parent(path)
            try:
                self._entry(entry, tar, pfd, name, path)
            finally:
                os.close(pfd)
        except SyscallError as exc:
            raise UnsafeArchive(f"archive entry {_show(rel)} cannot be placed: {exc}") from None
        except HullError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot copy {_show(rel)}: {exc.strerror or exc}") from None
        self.count += 1

    # -- one entry -------------------------------------------------------------------
    def _existing(self, pfd: int, name: bytes) -> os.stat_result | None:
        try:
            return os.lstat(name, dir_fd=pfd)
        except FileNotFoundError:
            return None

    def _make_room(self, pfd: int, name: bytes, path: bytes, want_dir: bool) -> bool:
        """Clear the way for a new entry; True when a directory is there to merge into."""
        st = self._existing(pfd, name)
        if st is None:
            return False
        if stat.S_ISDIR(st.st_mode):
            if want_dir:
                return True
            raise InvalidArgument(f"cannot overwrite directory {_show(path)} with non-directory")
        if want_dir:
            raise InvalidArgument(f"cannot overwrite non-directory {_show(path)} with directory")
        os.unlink(name, dir_fd=pfd)
        return False

    def _entry(self, entry: ts.Entry, tar: ts.TarReader, pfd: int, name: bytes, path: bytes) -> None:
        kind = entry.type
        if kind in (ts.DIR, ts.GNU_DUMPDIR):
            if not self._make_room(pfd, name, path, want_dir=True):
                os.mkdir(name, 0o700, dir_fd=pfd)
            fd = os.open(name, _OPEN_DIR, dir_fd=pfd)
            try:
                self._chown(fd, entry, path)
                self._xattrs(fd, entry)
            finally:
                os.close(fd)
            self.dirs.append((path, self._mode(entry), entry.mtime_ns))
            return
        if kind == ts.GNU_VOLHDR:
            return
        self._make_room(pfd, name, path, want_dir=False)
        if kind in ts.FILE_TYPES:
            fd = os.open(name, _CREATE_FILE, 0o600, dir_fd=pfd)
            try:
                tar.write_data(entry, fd)
                self._chown(fd, entry, path)
                os.fchmod(fd, self._mode(entry))  # after chown, which clears setuid
                self._xattrs(fd, entry)
                os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
            finally:
                os.close(fd)
        elif kind == ts.SYM:
            if not entry.linkname or b"\0" in entry.linkname:
                raise UnsafeArchive(f"archive symlink {_show(path)} has an invalid target")
            os.symlink(entry.linkname, name, dir_fd=pfd)  # data: resolved in-root when walked
            self._meta_by_path(pfd, name, entry, path, chmod=False)
        elif kind == ts.LNK:
            self._hardlink(entry, pfd, name, path)
        elif kind == ts.FIFO:
            os.mkfifo(name, 0o600, dir_fd=pfd)
            self._meta_by_path(pfd, name, entry, path, chmod=True)
        elif kind in (ts.CHR, ts.BLK):
            dev = os.makedev(entry.devmajor, entry.devminor)
            kind_bits = stat.S_IFCHR if kind == ts.CHR else stat.S_IFBLK
            try:
                os.mknod(name, kind_bits | 0o600, dev, dir_fd=pfd)
            except PermissionError:  # in a user namespace: skipped, as Podman does
                return
            self._meta_by_path(pfd, name, entry, path, chmod=True)
        else:
            raise UnsafeArchive(f"archive entry {_show(path)} has unsupported type {kind!r}")

    def _hardlink(self, entry: ts.Entry, pfd: int, name: bytes, path: bytes) -> None:
        target = normalize_name(entry.linkname)
        if not target:
            raise UnsafeArchive(f"archive hardlink {_show(path)} points to the destination itself")
        tfd, tname = self.root.open_parent(self._full(target))
        try:
            if tname is None:
                raise UnsafeArchive(f"archive hardlink {_show(path)} points to a directory")
            st = os.lstat(tname, dir_fd=tfd)
            if stat.S_ISDIR(st.st_mode):
                raise UnsafeArchive(f"archive hardlink {_show(path)} points to a directory")
            os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(tfd)

    # -- metadata --------------------------------------------------------------------
    def _mode(self, entry: ts.Entry) -> int:
        mode = entry.mode & 0o7777
        return mode & ~_SETID if self.owner.strip_setid else mode

    def _ids(self, entry: ts.Entry) -> tuple[int, int] | None:
        if self.owner.keep:
            return self.owner.shift(entry.uid, entry.gid) if self.owner.shift else (entry.uid, entry.gid)
        if self.owner.uid is not None:
            return self.owner.uid, self.owner.gid if self.owner.gid is not None else self.owner.uid
        return None

    def _chown(self, fd: int, entry: ts.Entry, path: bytes) -> None:
        ids = self._ids(entry)
        if ids is None:
            return
        try:
            os.fchown(fd, *ids)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EPERM):
                raise
            raise StorageError(f"cannot chown {_show(path)} to {ids[0]}:{ids[1]}: "
                               "potentially insufficient UIDs or GIDs available in user namespace") from None

    def _meta_by_path(self, pfd: int, name: bytes, entry: ts.Entry, path: bytes, chmod: bool) -> None:
        """Owner, mode, time of a symlink, fifo or device: through an O_PATH fd, never opened."""
        ids = self._ids(entry)
        if ids is not None:
            try:
                os.chown(name, *ids, dir_fd=pfd, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.EPERM):
                    raise
                raise StorageError(f"cannot chown {_show(path)} to {ids[0]}:{ids[1]}") from None
        if chmod:
            fd = os.open(name, _PATH, dir_fd=pfd)
            try:
                os.chmod(f"/proc/self/fd/{fd}", self._mode(entry))
                os.utime(f"/proc/self/fd/{fd}", ns=(entry.mtime_ns, entry.mtime_ns))
            finally:
                os.close(fd)
        else:
            os.utime(name, ns=(entry.mtime_ns, entry.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _xattrs(self, fd: int, entry: ts.Entry) -> None:
        if not self.owner.keep:
            return
        for key, value in entry.xattrs.items():
            if key.startswith(_XATTR_PREFIXES) and not key.startswith(b"user.overlay."):
                try:
                    os.setxattr(fd, key, value)
                except OSError:
                    continue  # best effort, as tar does

    def finish(self) -> None:
        """Directory modes and times, deepest first, each parent resolved in-root again."""
        for path, mode, mtime in reversed(self.dirs):
            try:
                pfd, name = self.root.open_parent(path)
            except SyscallError:
                continue
            try:
                if name is None:
                    continue
                fd = os.open(name, _OPEN_DIR, dir_fd=pfd)
            except OSError:
                continue  # replaced meanwhile (a racing container): nothing to fix up
            finally:
                os.close(pfd)
            try:
                os.fchmod(fd, mode)
                os.utime(fd, ns=(mtime, mtime))
            finally:
                os.close(fd)
