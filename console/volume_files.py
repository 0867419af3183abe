"""Read-only browsing of a volume's files, every path resolved inside the volume.

Paths come from the URL, so they are hostile: engine.archive.inroot resolves them
with the volume's directory as `/` (openat2 RESOLVE_IN_ROOT, or the hand walk),
so neither `..` nor a symlink planted by a container can reach a host file. Only
directories are listed and only regular files are read; entries are lstat'ed
relative to their directory fd (a symlink shows as a link with its target).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from engine.archive.inroot import InRoot
from engine.errors import HullError, SyscallError

MAX_VIEW = 256 * 1024       # shown in the page
MAX_DOWNLOAD = 64 << 20     # served as a download


@dataclass
class Entry:
    name: str
    path: str
    kind: str  # dir, file, link, other
    size: int
    mode: str
    uid: int
    gid: int
    mtime: float
    target: str = ""


@dataclass
class FileView:
    path: str
    size: int
    text: str | None       # None: not shown (binary or too big)
    truncated: bool


def clean(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "."]
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        else:
            out.append(p)
    return "/" + "/".join(out)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def stat_path(root: str, path: str) -> str:
    """'dir', 'file', 'link', 'other' for `path` (symlinks followed in-root)."""
    with InRoot(root) as r:
        fd = r.open(os.fsencode(path), os.O_PATH)
        try:
            return _kind(os.fstat(fd).st_mode)
        finally:
            os.close(fd)


def list_dir(root: str, path: str) -> list[Entry]:
    entries = []
    with InRoot(root) as r:
        fd = r.open_dir(os.fsencode(path), flags=os.O_RDONLY)
        try:
            for name in sorted(os.listdir(fd)):
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    continue
                target = ""
                if stat.S_ISLNK(st.st_mode):
                    try:
                        target = os.readlink(name, dir_fd=fd)
                    except OSError:
                        target = "?"
                entries.append(Entry(name=name, path=clean(f"{path}/{name}"), kind=_kind(st.st_mode),
                                     size=st.st_size, mode=stat.filemode(st.st_mode), uid=st.st_uid,
                                     gid=st.st_gid, mtime=st.st_mtime, target=target))
        finally:
            os.close(fd)
    entries.sort(key=lambda e: (e.kind != "dir", e.name))
    return entries


def read_file(root: str, path: str, limit: int) -> tuple[bytes, int]:
    """(first `limit` bytes, full size) of a regular file; SyscallError otherwise."""
    with InRoot(root) as r:
        fd = r.open(os.fsencode(path), os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SyscallError("open", 21, path)  # EISDIR-like: only regular files are read
            chunks, left = [], limit
            while left > 0:
                data = os.read(fd, min(left, 1 << 20))
                if not data:
                    break
                chunks.append(data)
                left -= len(data)
            return b"".join(chunks), st.st_size
        finally:
            os.close(fd)


def view_file(root: str, path: str) -> FileView:
    data, size = read_file(root, path, MAX_VIEW)
    text: str | None
    if b"\0" in data[:8192]:
        text = None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut by the size limit is not binary
            text = data[:exc.start].decode() if size > MAX_VIEW and exc.start >= len(data) - 3 else None
    return FileView(path=path, size=size, text=text, truncated=size > MAX_VIEW)


__all__ = ["Entry", "FileView", "HullError", "clean", "list_dir", "read_file", "stat_path", "view_file"]
