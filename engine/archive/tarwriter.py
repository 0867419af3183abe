"""Deterministic tar streams of a directory tree (export, save, commit, push).

Same tree, same bytes: names sorted bytewise, numeric owners only, whole-second
mtimes, no atime/ctime, PAX records only where ustar cannot say it.  The tree may
be hostile (a container's root filesystem): every name is opened relative to its
parent's fd with O_NOFOLLOW, and a file is first opened O_PATH and fstat'ed, then
reopened through its fd only if it is still a regular file, so no symlink, FIFO
or device swapped in meanwhile can make us read or block on anything else.
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO

from engine.errors import StorageError

BLOCK = 512
CHUNK = 1024 * 1024
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_KEPT_XATTR_PREFIXES = ("security.capability", "user.")
_DROPPED_XATTR_PREFIXES = ("user.overlay.",)


class _Out:
    """Counts what goes to `out`."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.count = 0

    def write(self, data: bytes | memoryview) -> None:
        self.out.write(data)
        self.count += len(data)


def write_tar(root_dir: str | Path, out: BinaryIO, *, overlay_whiteouts: bool = False,
              opaque_xattr: str = "user.overlay.opaque", xattrs: bool = True,
              root_entry: bool = False, id_map=None) -> int:
    """Write the tree under `root_dir` to `out` as a tar stream; returns its length.

    overlay_whiteouts: turn 0/0 character devices into `.wh.NAME` entries and directories
    carrying `opaque_xattr`="y" into a `DIR/.wh..wh..opq` entry (a layer diff).
    root_entry: also emit "./" for the root directory itself.
    id_map: `(uid, gid) -> (uid, gid)` for the recorded owners (a container's own user
    namespace: host ids back to its ids).
    """
    writer = _Writer(_Out(out), overlay_whiteouts, opaque_xattr, xattrs)
    writer.id_map = id_map
    try:
        root = os.open(os.fspath(root_dir), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise StorageError(f"cannot read {root_dir}: {exc.strerror}") from None
    try:
        if root_entry:
            writer.header(b"./", os.fstat(root), tarfile.DIRTYPE, fd=root)
        writer.tree(root, b"")
    except OSError as exc:
        raise StorageError(f"cannot archive {root_dir}: {exc.filename or ''} {exc.strerror}") from None
    finally:
        os.close(root)
    writer.out.write(bytes(2 * BLOCK))  # end of archive, no record padding (as Go writes it)
    return writer.out.count


class _Writer:
    def __init__(self, out: _Out, overlay_whiteouts: bool, opaque_xattr: str, xattrs: bool) -> None:
        self.out = out
        self.overlay_whiteouts = overlay_whiteouts
        self.opaque_xattr = opaque_xattr
        self.xattrs = xattrs
        self.links: dict[tuple[int, int], bytes] = {}  # (dev, ino) -> first name
        self.id_map = None

    def tree(self, dfd: int, prefix: bytes) -> None:
        for name in sorted(os.fsencode(n) for n in os.listdir(dfd)):
            self.entry(dfd, prefix, name)

    def entry(self, dfd: int, prefix: bytes, name: bytes) -> None:
        path = prefix + name
        pfd = os.open(name, _PATH, dir_fd=dfd)
        try:
            st = os.fstat(pfd)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                fd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    self.header(path + b"/", st, tarfile.DIRTYPE, fd=fd)
                    if self.overlay_whiteouts and _getxattr(fd, self.opaque_xattr) == b"y":
                        self.header(path + b"/.wh..wh..opq", st, tarfile.REGTYPE, size=0)
                    self.tree(fd, path + b"/")
                finally:
                    os.close(fd)
            elif stat.S_ISREG(mode):
                first = self.links.get((st.st_dev, st.st_ino)) if st.st_nlink > 1 else None
                if first is not None:
                    self.header(path, st, tarfile.LNKTYPE, linkname=first)
                    return
                if st.st_nlink > 1:
                    self.links[(st.st_dev, st.st_ino)] = path
                fd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    self.header(path, st, tarfile.REGTYPE, fd=fd, size=st.st_size)
                    self.data(fd, st.st_size)
                finally:
                    os.close(fd)
            elif stat.S_ISLNK(mode):
                self.header(path, st, tarfile.SYMTYPE, linkname=os.readlink(b"", dir_fd=pfd),
                            proc=f"/proc/self/fd/{dfd}/{os.fsdecode(name)}", follow=False)
            elif stat.S_ISCHR(mode) and self.overlay_whiteouts and st.st_rdev == 0:
                self.header(prefix + b".wh." + name, st, tarfile.REGTYPE, size=0)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                kind = tarfile.CHRTYPE if stat.S_ISCHR(mode) else (
                    tarfile.BLKTYPE if stat.S_ISBLK(mode) else tarfile.FIFOTYPE)
                self.header(path, st, kind, proc=f"/proc/self/fd/{pfd}")
            # sockets cannot be archived: skipped, as Docker and Podman do
        finally:
            os.close(pfd)

    def header(self, name: bytes, st: os.stat_result, kind: bytes, *, fd: int | None = None,
               proc: str | None = None, follow: bool = True, size: int = 0,
               linkname: bytes = b"") -> None:
        """`fd` or `proc` (a /proc/self/fd path, `follow`ed unless it names a symlink
        itself) is where xattrs are read from; never a name that could be swapped."""
        info = tarfile.TarInfo(os.fsdecode(name))
        info.type = kind
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = self.id_map(st.st_uid, st.st_gid) if self.id_map else (st.st_uid, st.st_gid)
        info.uname = info.gname = ""
        info.mtime = int(st.st_mtime)
        info.size = size
        info.linkname = os.fsdecode(linkname)
        if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        if self.xattrs and kind != tarfile.LNKTYPE and (fd is not None or proc is not None):
            target = fd if fd is not None else proc
            for key, value in _xattrs(target, follow=follow):
                info.pax_headers["SCHILY.xattr." + key] = value.decode("utf-8", "surrogateescape")
        self.out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def data(self, fd: int, size: int) -> None:
        left = size
        while left:
            chunk = os.read(fd, min(CHUNK, left))
            if not chunk:  # the file shrank meanwhile: keep the stream consistent
                self.out.write(bytes(left))
                break
            self.out.write(chunk)
            left -= len(chunk)
        if size % BLOCK:
            self.out.write(bytes(BLOCK - size % BLOCK))


def _getxattr(fd: int, key: str) -> bytes | None:
    try:
        return os.getxattr(fd, key)
    except OSError:
        return None


def _xattrs(target: int | str, follow: bool) -> list[tuple[str, bytes]]:
    """Archivable xattrs, sorted: file capabilities and user.* (not overlay's own)."""
    try:
        names = os.listxattr(target, follow_symlinks=follow)
    except OSError:
        return []
    out = []
    for key in sorted(names):
        if key.startswith(_KEPT_XATTR_PREFIXES) and not key.startswith(_DROPPED_XATTR_PREFIXES):
            try:
                out.append((key, os.getxattr(target, key, follow_symlinks=follow)))
            except OSError:
                continue
    return out
