"""Removing unpacked layer trees, which are not shaped like ordinary directories.

A layer may hold read-only directories (0555 /usr, 0000 dirs), files of other
uids and 0/0 character devices (whiteouts).  One walk, through directory fds
(never a path that a symlink could redirect), opens up each directory lacking
u+rwx and deletes its entries, then the directory.  Not shutil.rmtree: that
costs two walks here, and importing shutil (bz2, lzma) ms on every `run --rm`.
Rootless, files of subordinate uids can only be removed from inside Hull's user
namespace: callers run storage-mutating commands there (as Podman does).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.errors import StorageError

_USER_RWX = stat.S_IRWXU
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC  # through /proc/self/fd: no O_NOFOLLOW


def _open_dir(name: str, dir_fd: int | None) -> int | None:
    """The directory `name` opened for listing, u+rwx given first where it lacks
    that; None when it is not a directory (a symlink put there meanwhile)."""
    pfd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        st = os.fstat(pfd)
        if not stat.S_ISDIR(st.st_mode):
            return None
        own = f"/proc/self/fd/{pfd}"  # this very inode, whatever the name points at now
        if st.st_mode & _USER_RWX != _USER_RWX:
            os.chmod(own, stat.S_IMODE(st.st_mode) | _USER_RWX)
        return os.open(own, _DIR_FLAGS)
    finally:
        os.close(pfd)


def _empty(fd: int, path: str) -> None:
    """Delete everything in the directory open as `fd` (`path` names it in errors)."""
    with os.scandir(fd) as it:
        entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
    for name, is_dir in entries:
        try:
            sub = _open_dir(name, fd) if is_dir else None
            if sub is None:
                os.unlink(name, dir_fd=fd)
                continue
            try:
                _empty(sub, f"{path}/{name}")
            finally:
                os.close(sub)
            os.rmdir(name, dir_fd=fd)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if not str(exc.filename or "").startswith(path + "/"):  # a bare name, /proc/self/fd/N
                exc.filename = f"{path}/{name}"
            raise


def remove_tree(path: Path | str) -> None:
    """Delete `path` (a directory tree, a file or a symlink); missing is fine."""
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(path)
            return
        fd = _open_dir(path, None)
        if fd is None:
            os.unlink(path)
            return
        try:
            _empty(fd, path)
        finally:
            os.close(fd)
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        where = path if str(exc.filename or "/proc/self/fd/").startswith("/proc/self/fd/") else exc.filename
        raise StorageError(f"cannot remove {where}: {exc.strerror}") from None
