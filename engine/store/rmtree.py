"""Removing unpacked layer trees, which are not shaped like ordinary directories.

A layer may hold read-only directories (0555 /usr, 0000 dirs), files of other
uids and 0/0 character devices (whiteouts).  Directories lacking u+rwx are
opened up first, then shutil.rmtree (fd-based on Linux, never follows
symlinks) deletes everything.  Rootless, files of subordinate uids can only be
removed from inside Hull's user namespace: callers run storage-mutating
commands there (as Podman does).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.errors import StorageError

_USER_RWX = stat.S_IRWXU


def _open_up(path: str) -> None:
    """chmod u+rwx every directory below `path` that lacks it; no symlink followed."""
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue  # rmtree reports what really cannot be removed
        for entry in entries:
            try:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                mode = entry.stat(follow_symlinks=False).st_mode
                if mode & _USER_RWX != _USER_RWX:
                    os.chmod(entry.path, stat.S_IMODE(mode) | _USER_RWX)
            except OSError:
                continue
            stack.append(entry.path)


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
        if st.st_mode & _USER_RWX != _USER_RWX:
            os.chmod(path, stat.S_IMODE(st.st_mode) | _USER_RWX)
        _open_up(path)
        import shutil  # lazily: it pulls in bz2/lzma, and listing images never removes

        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        where = exc.filename or path
        raise StorageError(f"cannot remove {where}: {exc.strerror}") from None
