"""Copying trees for COPY and ADD without ever leaving either root.

Sources are read through directory fds opened with O_NOFOLLOW below a source
root (the build context, another stage's or an image's mounted rootfs): a
symlink met inside a copied directory is copied as a symlink, never followed.
The destination is resolved inside the working container's merged rootfs with
engine/archive/inroot (symlinks in the image resolve inside the image), and every
entry is made relative to an fd of its parent directory, so nothing lands
outside that root.  `digest_tree` hashes what a copy would produce (names, modes,
owners when kept, link targets, contents) for the build cache.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Callable

from engine.errors import HullError, StorageError

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


@dataclass
class CopyAttrs:
    owner: tuple[int, int] | None = (0, 0)   # None: keep the source's owners (COPY --from)
    chmod: int | None = None                  # --chmod: mode bits for every file and dir
    keep_times: bool = True
    explicit_owner: bool = False              # --chown given (ADD keeps a tar's owners otherwise)


# An `ignored(relpath) -> bool` filter for the context's .dockerignore; relpath is
# relative to the source root, slash separated.
Filter = Callable[[str], bool]


def may_hold_included(ignored: Filter, rel: str) -> bool:
    """Could a `!` pattern re-include something below the excluded directory `rel`?"""
    owner = getattr(ignored, "__self__", ignored)   # a bound SourceRoot.ignored
    check = getattr(owner, "may_hold_included", None)
    return bool(check and check(rel))


def _owner(st: os.stat_result, attrs: CopyAttrs) -> tuple[int, int]:
    return (st.st_uid, st.st_gid) if attrs.owner is None else attrs.owner


def _mode(st: os.stat_result, attrs: CopyAttrs) -> int:
    return attrs.chmod if attrs.chmod is not None else stat.S_IMODE(st.st_mode)


def _remove_existing(dst_dir: int, name: str, keep_dir: bool) -> os.stat_result | None:
    """Clear the way for a new entry: returns the stat of a directory kept for merging."""
    try:
        st = os.lstat(name, dir_fd=dst_dir)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        if keep_dir:
            return st
        from engine.store.rmtree import remove_tree

        fd = os.open(name, _DIR, dir_fd=dst_dir)
        try:
            remove_tree(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=dst_dir)
        return None
    os.unlink(name, dir_fd=dst_dir)
    return None


def _copy_data(src: int, dst: int) -> None:
    while True:
        try:
            n = os.copy_file_range(src, dst, CHUNK)
        except OSError:
            n = -1
        if n == 0:
            return
        if n < 0:
            break
    while chunk := os.read(src, CHUNK):
        os.write(dst, chunk)


def copy_entry(src_dir: int, src_name: str, dst_dir: int, dst_name: str, attrs: CopyAttrs,
               ignored: Filter | None = None, rel: str = "") -> int:
    """Copy `src_name` (not followed) under `src_dir` to `dst_name` under `dst_dir`;
    a directory is merged into an existing one.  Returns the number of entries."""
    try:
        st = os.lstat(src_name, dir_fd=src_dir)
        return _copy(src_dir, src_name, st, dst_dir, dst_name, attrs, ignored, rel)
    except HullError:
        raise
    except OSError as exc:
        raise StorageError(f"copying {rel or src_name}: {exc.strerror}") from None


def _copy(src_dir: int, src_name: str, st: os.stat_result, dst_dir: int, dst_name: str, attrs: CopyAttrs,
          ignored: Filter | None, rel: str) -> int:
    uid, gid = _owner(st, attrs)
    mode = _mode(st, attrs)
    if stat.S_ISDIR(st.st_mode):
        existing = _remove_existing(dst_dir, dst_name, keep_dir=True)
        if existing is None:
            os.mkdir(dst_name, 0o700, dir_fd=dst_dir)
        sfd = os.open(src_name, _DIR, dir_fd=src_dir)
        dfd = os.open(dst_name, _DIR, dir_fd=dst_dir)
        count = 1
        try:
            for name in sorted(os.listdir(sfd)):
                child = f"{rel}/{name}" if rel else name
                cst = os.lstat(name, dir_fd=sfd)
                if ignored is not None and ignored(child):
                    if not (stat.S_ISDIR(cst.st_mode) and may_hold_included(ignored, child)):
                        continue
                    # an excluded directory a `!` pattern may reach into: walk it,
                    # keep it only when something in it is included
                    if _copy(sfd, name, cst, dfd, name, attrs, ignored, child) == 1:
                        os.rmdir(name, dir_fd=dfd)
                    continue
                count += _copy(sfd, name, cst, dfd, name, attrs, ignored, child)
            os.chown(dfd, uid, gid)
            os.chmod(dfd, mode)
            if attrs.keep_times:
                os.utime(dfd, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(sfd)
            os.close(dfd)
        return count
    _remove_existing(dst_dir, dst_name, keep_dir=False)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(src_name, dir_fd=src_dir), dst_name, dir_fd=dst_dir)
        os.chown(dst_name, uid, gid, dir_fd=dst_dir, follow_symlinks=False)
        if attrs.keep_times:
            os.utime(dst_name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dst_dir, follow_symlinks=False)
        return 1
    if stat.S_ISREG(st.st_mode):
        sfd = os.open(src_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_dir)
        try:
            dfd = os.open(dst_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                          0o600, dir_fd=dst_dir)
            try:
                _copy_data(sfd, dfd)
                os.fchown(dfd, uid, gid)
                os.fchmod(dfd, mode)
                if attrs.keep_times:
                    os.utime(dfd, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(dfd)
        finally:
            os.close(sfd)
        return 1
    if stat.S_ISFIFO(st.st_mode):
        os.mkfifo(dst_name, mode, dir_fd=dst_dir)
        os.chown(dst_name, uid, gid, dir_fd=dst_dir, follow_symlinks=False)
        return 1
    return 0  # sockets and device nodes are not copied


def write_file(dst_dir: int, name: str, data: bytes, attrs: CopyAttrs, mode: int = 0o644,
               mtime: float | None = None) -> None:
    """A new regular file (heredoc, downloaded URL) at `name` under `dst_dir`."""
    _remove_existing(dst_dir, name, keep_dir=False)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dst_dir)
    try:
        os.write(fd, data)
        os.fchown(fd, *(attrs.owner or (0, 0)))
        os.fchmod(fd, attrs.chmod if attrs.chmod is not None else mode)
        if mtime is not None:
            os.utime(fd, (mtime, mtime))
    finally:
        os.close(fd)


def digest_tree(src_dir: int, src_name: str, keep_owner: bool, ignored: Filter | None = None,
                rel: str = "", h: "hashlib._Hash | None" = None) -> str:
    """A digest of what copying `src_name` would produce (for the cache key)."""
    top = h is None
    h = h or hashlib.sha256()
    st = os.lstat(src_name, dir_fd=src_dir)
    owner = f"{st.st_uid}:{st.st_gid}" if keep_owner else ""
    h.update(f"{rel}\0{st.st_mode:o}\0{owner}\0".encode())
    if stat.S_ISDIR(st.st_mode):
        fd = os.open(src_name, _DIR, dir_fd=src_dir)
        try:
            for name in sorted(os.listdir(fd)):
                child = f"{rel}/{name}" if rel else name
                if ignored is not None and ignored(child) and not (
                        stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode) and may_hold_included(ignored, child)):
                    continue
                digest_tree(fd, name, keep_owner, ignored, child, h)
        finally:
            os.close(fd)
    elif stat.S_ISLNK(st.st_mode):
        h.update(os.fsencode(os.readlink(src_name, dir_fd=src_dir)))
    elif stat.S_ISREG(st.st_mode):
        fd = os.open(src_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_dir)
        try:
            while chunk := os.read(fd, CHUNK):
                h.update(chunk)
        finally:
            os.close(fd)
    h.update(b"\n")
    return "sha256:" + h.hexdigest() if top else ""
