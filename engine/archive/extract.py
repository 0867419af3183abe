"""Apply one layer blob to an empty directory, in overlay form, safely.

Every entry's parent directory is resolved inside `dest` (engine/archive/inroot.py)
and the entry's own name is then created with dir_fd= and never followed, so no
name, symlink or hardlink in the layer can reach outside `dest`.  Whiteouts
become overlay whiteouts (0/0 character devices), `.wh..wh..opq` becomes the
opaque xattr on its directory.  The diff ID is the sha256 of every uncompressed
byte, hashed while reading.  Never `tarfile.extractall`.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from engine.archive import tarstream as ts
from engine.archive.compression import open_decompressed
from engine.archive.inroot import InRoot, split_path
from engine.archive.limits import DEFAULT_LIMITS, Limits
from engine.archive.prefetch import HashingPrefetcher
from engine.errors import HullError, StorageError, SyscallError, UnsafeArchive

WHITEOUT_PREFIX = b".wh."
WHITEOUT_META_PREFIX = b".wh..wh."
WHITEOUT_OPAQUE = b".wh..wh..opq"
_CREATE_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_PARENT_CACHE_MAX = 512
# Xattrs a layer may never set: overlayfs' own (a layer could forge redirects,
# metacopy or opaque marks) and trusted.* (root-only, meaningful to the host).
_FORBIDDEN_XATTRS = (b"trusted.", b"user.overlay.")


@dataclass(frozen=True)
class ApplyResult:
    diff_id: str              # "sha256:<hex>" of the whole uncompressed tar stream
    size: int                 # bytes of that stream (Podman's "uncompressed size")
    skipped: tuple[str, ...] = ()   # what could not be created here (devices, xattrs)


def apply_layer(stream: BinaryIO, dest: str | Path, limits: Limits = DEFAULT_LIMITS, *,
                opaque_xattr: str = "user.overlay.opaque",
                ignore_chown_errors: bool = False) -> ApplyResult:
    """Unpack the (gzip/zstd/xz/bzip2/plain) layer `stream` into the empty dir `dest`."""
    source = HashingPrefetcher(open_decompressed(stream, limits))
    try:
        tar = ts.TarReader(source, limits)
        with _Applier(dest, opaque_xattr.encode(), ignore_chown_errors) as applier:
            while (entry := tar.next()) is not None:
                applier.apply(entry, tar)
            tar.drain()
            applier.finish()
    finally:
        source.close()
    return ApplyResult(diff_id="sha256:" + source.hasher.hexdigest(), size=source.total,
                       skipped=tuple(applier.skipped))


def normalize_name(raw: bytes) -> bytes:
    """An entry name as a path relative to the root; refuses any `..` component."""
    if b"\0" in raw:
        raise UnsafeArchive(f"layer entry {_show(raw)} has a NUL byte in its name")
    parts = split_path(raw)
    if b".." in parts:
        raise UnsafeArchive(f"layer entry {_show(raw)} has a '..' component")
    return b"/".join(parts)


def _show(name: bytes) -> str:
    return repr(os.fsdecode(name))


class _Applier:
    def __init__(self, dest: str | Path, opaque_xattr: bytes, ignore_chown_errors: bool) -> None:
        self.root = InRoot(dest)
        self.opaque_xattr = opaque_xattr
        self.ignore_chown_errors = ignore_chown_errors
        self.parents: dict[bytes, int] = {}      # parent path -> O_PATH fd (see _invalidate)
        self.seen: set[bytes] = set()             # entries of this layer (hardlink sources)
        self.dirs: dict[bytes, tuple[int, int, int]] = {}  # path -> mode, atime, mtime: set last
        self.skipped: list[str] = []

    def __enter__(self) -> "_Applier":
        return self

    def __exit__(self, *exc: object) -> None:
        self._invalidate()
        self.root.close()

    # -- parent directories ----------------------------------------------------------
    def _parent(self, path: bytes) -> tuple[int, bytes]:
        """(fd of the parent directory, last component), creating missing parents."""
        cut = path.rfind(b"/")
        parent, name = (path[:cut], path[cut + 1:]) if cut >= 0 else (b"", path)
        fd = self.parents.get(parent)
        if fd is None:
            fd = self.root.open_dir(parent, create=True)
            self.parents[parent] = fd
        return fd, name

    def _invalidate(self) -> None:
        """Forget cached parents: after a removal a path may resolve elsewhere."""
        for fd in self.parents.values():
            os.close(fd)
        self.parents.clear()

    def _remove(self, pfd: int, name: bytes) -> None:
        st = os.lstat(name, dir_fd=pfd)
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(os.fsdecode(name), dir_fd=pfd)  # fd-based: never follows symlinks
        else:
            os.unlink(name, dir_fd=pfd)
        self._invalidate()

    def _create(self, path: bytes, make: Callable[[int, bytes], object]):
        """Run `make(parent_fd, name)`; if the name exists, replace it once."""
        pfd, name = self._parent(path)
        try:
            return make(pfd, name)
        except FileExistsError:
            self._remove(pfd, name)
        pfd, name = self._parent(path)
        return make(pfd, name)

    # -- entries ---------------------------------------------------------------------
    def apply(self, entry: ts.Entry, tar: ts.TarReader) -> None:
        path = normalize_name(entry.name)
        if len(self.parents) >= _PARENT_CACHE_MAX:
            self._invalidate()  # only between entries: callers hold cached fds
        try:
            base = path[path.rfind(b"/") + 1:]
            if base.startswith(WHITEOUT_PREFIX):
                self._whiteout(entry, path, base)
                return
            kind = entry.type
            if kind in ts.FILE_TYPES:
                self._file(entry, path, tar)
            elif kind == ts.DIR or kind == ts.GNU_DUMPDIR:
                self._dir(entry, path)
            elif kind == ts.SYM:
                self._symlink(entry, path)
            elif kind == ts.LNK:
                self._hardlink(entry, path)
            elif kind in (ts.CHR, ts.BLK, ts.FIFO):
                self._special(entry, path)
            elif kind == ts.GNU_VOLHDR:
                return
            else:
                raise UnsafeArchive(f"layer entry {_show(entry.name)} has unsupported type {kind!r}")
            self.seen.add(path)
        except SyscallError as exc:  # a parent that cannot be a directory, a symlink loop
            raise UnsafeArchive(f"layer entry {_show(entry.name)} cannot be placed: {exc}") from None
        except HullError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot unpack layer entry {_show(entry.name)}: "
                               f"{exc.strerror or exc}") from None

    def _file(self, entry: ts.Entry, path: bytes, tar: ts.TarReader) -> None:
        if not path:
            raise UnsafeArchive("layer entry for the root directory is not a directory")
        fd = self._create(path, lambda pfd, name: os.open(name, _CREATE_FILE, 0o600, dir_fd=pfd))
        try:
            tar.write_data(entry, fd)
            self._chown(lambda: os.fchown(fd, entry.uid, entry.gid), entry, path)
            os.fchmod(fd, entry.mode & 0o7777)   # after chown, which clears setuid
            self._xattrs(fd, entry, path)        # after chown, which drops capabilities
            os.utime(fd, ns=(entry.atime_ns, entry.mtime_ns))
        finally:
            os.close(fd)

    def _dir(self, entry: ts.Entry, path: bytes) -> None:
        if path:
            def make(pfd: int, name: bytes) -> None:
                try:
                    os.mkdir(name, 0o700, dir_fd=pfd)
                except FileExistsError:
                    if not stat.S_ISDIR(os.lstat(name, dir_fd=pfd).st_mode):
                        raise
            self._create(path, make)
            pfd, name = self._parent(path)
            fd = os.open(name, _OPEN_DIR, dir_fd=pfd)
        else:  # "./": the layer's root directory itself
            fd = os.open(".", _OPEN_DIR, dir_fd=self.root.fd)
        try:
            self._chown(lambda: os.fchown(fd, entry.uid, entry.gid), entry, path)
            self._xattrs(fd, entry, path)
        finally:
            os.close(fd)
        # Mode and times last: a 0555 dir must stay writable while we fill it, and
        # every entry created inside would bump its mtime.
        self.dirs[path] = (entry.mode & 0o7777, entry.atime_ns, entry.mtime_ns)

    def _symlink(self, entry: ts.Entry, path: bytes) -> None:
        if not path:
            raise UnsafeArchive("layer entry for the root directory is not a directory")
        # The target is data: stored verbatim, resolved in-root whenever we walk it.
        if b"\0" in entry.linkname or not entry.linkname:
            raise UnsafeArchive(f"layer symlink {_show(entry.name)} has an invalid target")
        self._create(path, lambda pfd, name: os.symlink(entry.linkname, name, dir_fd=pfd))
        pfd, name = self._parent(path)
        self._chown(lambda: os.chown(name, entry.uid, entry.gid, dir_fd=pfd, follow_symlinks=False),
                    entry, path)
        if entry.xattrs:
            self._xattrs(b"/proc/self/fd/%d/%s" % (pfd, name), entry, path, follow=False)
        os.utime(name, ns=(entry.atime_ns, entry.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, entry: ts.Entry, path: bytes) -> None:
        target = normalize_name(entry.linkname)
        if not target or target not in self.seen:
            raise UnsafeArchive(f"layer hardlink {_show(entry.name)} points to {_show(entry.linkname)},"
                                " which is not an earlier entry of this layer")
        if not path or target == path:
            raise UnsafeArchive(f"layer hardlink {_show(entry.name)} points to itself")

        def make(pfd: int, name: bytes) -> None:
            tfd, tname = self._parent(target)   # resolved in-root like every parent
            os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        self._create(path, make)

    def _special(self, entry: ts.Entry, path: bytes) -> None:
        if not path:
            raise UnsafeArchive("layer entry for the root directory is not a directory")
        if entry.type == ts.FIFO:
            self._create(path, lambda pfd, name: os.mkfifo(name, 0o600, dir_fd=pfd))
        else:
            kind = stat.S_IFCHR if entry.type == ts.CHR else stat.S_IFBLK
            dev = os.makedev(entry.devmajor, entry.devminor)
            try:
                self._create(path, lambda pfd, name: os.mknod(name, kind | 0o600, dev, dir_fd=pfd))
            except PermissionError:  # in a user namespace: skipped, as Podman does
                self.skipped.append(f"device {os.fsdecode(path)}")
                return
        pfd, name = self._parent(path)
        self._chown(lambda: os.chown(name, entry.uid, entry.gid, dir_fd=pfd, follow_symlinks=False),
                    entry, path)
        fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)
        try:  # chmod through the fd's magic link: never opens the fifo or device
            proc = f"/proc/self/fd/{fd}"
            os.chmod(proc, entry.mode & 0o7777)
            if entry.xattrs:
                self._xattrs(proc, entry, path)
            os.utime(proc, ns=(entry.atime_ns, entry.mtime_ns))
        finally:
            os.close(fd)

    def _whiteout(self, entry: ts.Entry, path: bytes, base: bytes) -> None:
        if entry.size:
            raise UnsafeArchive(f"layer whiteout {_show(entry.name)} is not empty")
        parent = path[:len(path) - len(base)].rstrip(b"/")
        if base == WHITEOUT_OPAQUE:
            fd = self.root.open_dir(parent, create=True, flags=os.O_RDONLY)
            try:
                os.setxattr(fd, self.opaque_xattr, b"y")
            finally:
                os.close(fd)
            return
        if base.startswith(WHITEOUT_META_PREFIX):
            return  # aufs bookkeeping (.wh..wh.plnk, ...): meaningless here
        victim = base[len(WHITEOUT_PREFIX):]
        if victim in (b"", b".", b".."):
            raise UnsafeArchive(f"layer whiteout {_show(entry.name)} has an invalid name")
        target = parent + b"/" + victim if parent else victim
        # Overlay whiteout: a 0/0 char device; allowed in a user namespace since Linux 5.8.
        self._create(target, lambda pfd, name: os.mknod(name, stat.S_IFCHR, 0, dir_fd=pfd))

    # -- metadata --------------------------------------------------------------------
    def _chown(self, call: Callable[[], None], entry: ts.Entry, path: bytes) -> None:
        try:
            call()
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EPERM):
                raise
            if self.ignore_chown_errors:
                return
            raise StorageError("potentially insufficient UIDs or GIDs available in user namespace "
                               f"(requested {entry.uid}:{entry.gid} for /{os.fsdecode(path)}): "
                               f"lchown: {exc.strerror}") from None

    def _xattrs(self, target, entry: ts.Entry, path: bytes, follow: bool = True) -> None:
        for key, value in entry.xattrs.items():
            if key.startswith(_FORBIDDEN_XATTRS) or key == self.opaque_xattr:
                self.skipped.append(f"xattr {os.fsdecode(key)} on /{os.fsdecode(path)}")
                continue
            try:
                os.setxattr(target, key, value, follow_symlinks=follow)
            except OSError as exc:
                # user.* must work (opaque dirs need it too); security.*/system.* may
                # be refused where we lack the privilege or the filesystem support.
                if key.startswith(b"user.") or exc.errno not in (
                        errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise StorageError(f"cannot set xattr {os.fsdecode(key)} on "
                                       f"/{os.fsdecode(path)}: {exc.strerror}") from None
                self.skipped.append(f"xattr {os.fsdecode(key)} on /{os.fsdecode(path)}")

    def finish(self) -> None:
        """Directory modes and times, deepest first, without following any name."""
        self._invalidate()
        for path, (mode, atime, mtime) in reversed(self.dirs.items()):
            try:
                if path:
                    pfd, name = self._existing_parent(path)
                    fd = os.open(name, _OPEN_DIR, dir_fd=pfd)
                else:
                    fd = os.open(".", _OPEN_DIR, dir_fd=self.root.fd)
            except (OSError, SyscallError):
                continue  # replaced by a later entry: that one's metadata stands
            try:
                os.fchmod(fd, mode)
                os.utime(fd, ns=(atime, mtime))
            finally:
                os.close(fd)

    def _existing_parent(self, path: bytes) -> tuple[int, bytes]:
        cut = path.rfind(b"/")
        parent, name = (path[:cut], path[cut + 1:]) if cut >= 0 else (b"", path)
        fd = self.parents.get(parent)
        if fd is None:
            if len(self.parents) >= _PARENT_CACHE_MAX:
                self._invalidate()  # safe here: no other fd of the cache is held
            fd = self.root.open_dir(parent)
            self.parents[parent] = fd
        return fd, name
