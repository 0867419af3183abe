"""fcntl.flock lock files: how separate hull processes take turns on shared state.

flock locks belong to an open file description, so two threads (or processes)
that open the lock file separately exclude each other, and the kernel drops the
lock when its holder dies - even by SIGKILL - so a crash never leaves a stale lock.

A lock file may be unlinked by its holder (`remove_lock_file`) when the thing it
guards is gone.  A waiter that opened the old inode notices after it wins the
lock that the path now names another inode (or none) and starts over, so two
holders can never believe they hold "the same" lock on different inodes.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import StorageError


def _open_lock_file(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, flags, 0o600)


def _same_inode(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


@contextmanager
def file_lock(path: Path | str, shared: bool = False, blocking: bool = True) -> Iterator[bool]:
    """Hold an flock on `path` (created 0600 if missing) for the `with` body.

    Yields True once the lock is held.  With blocking=False it yields False at
    once when another holder conflicts, and the body runs without the lock.
    """
    path = Path(path)
    op = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    if not blocking:
        op |= fcntl.LOCK_NB
    while True:
        try:
            fd = _open_lock_file(path)
        except OSError as exc:
            raise StorageError(f"cannot open lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, op)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN) and not blocking:
                yield False
                return
            raise StorageError(f"cannot lock {path}: {exc.strerror}") from None
        if _same_inode(fd, path):
            break
        os.close(fd)  # the holder before us removed the file: lock the new one
    try:
        yield True
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def remove_lock_file(path: Path | str) -> None:
    """Unlink a lock file; call only while holding its exclusive lock."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot remove lock file {path}: {exc.strerror}") from None
