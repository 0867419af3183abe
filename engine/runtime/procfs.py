"""Verified procfs access for the runtime (CVE-2025-52881 class).

runc's 2025 fix: a runtime that writes /proc files (sysctls, oom_score_adj,
uid_map, LSM attrs) through the container's /proc can be redirected by mounts or
symlinks the container controls - a bind over /proc/sys/..., a tmpfs over /proc, a
racing shared mount - into writing somewhere else, even another procfs file.  So,
as runc does, every procfs open here goes through a *private* procfs handle:
- `open_tree(OPEN_TREE_CLONE)` of the runtime's own /proc (taken before any mount
  of the container exists): a detached copy of that one mount, which nobody can
  mount over and which carries none of its submounts; where that is refused, a
  fresh `fsopen("proc")` instance; last, the /proc directory itself.
  Each candidate must be a procfs root (fstatfs f_type PROC_SUPER_MAGIC, inode 1).
- paths beneath it are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_XDEV |
  RESOLVE_NO_MAGICLINKS): no mount crossing, no escape, no magic links (the plain
  `self` symlink stays allowed), and the opened file must again be on procfs.
Namespaced sysctls and /proc/self follow the *opener* (its net, ipc, uts and pid
namespaces), so the handle may come from the host's /proc.
"""

from __future__ import annotations

import errno
import os

from engine.errors import SyscallError
from engine.runtime.syscalls import (AT_FDCWD, FSCONFIG_CMD_CREATE, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE,
                                     PROC_SUPER_MAGIC, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV,
                                     SYSCALLS)

PROC_ROOT_INO = 1
RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS


class NotProcfs(SyscallError):
    """A path the runtime meant to reach on procfs is somewhere else."""


def is_procfs(fd: int, sc=SYSCALLS) -> bool:
    try:
        return sc.fstatfs_type(fd) == PROC_SUPER_MAGIC
    except SyscallError:
        return False


def _verified_root(fd: int, how: str, sc) -> int:
    if not is_procfs(fd, sc) or os.fstat(fd).st_ino != PROC_ROOT_INO:
        os.close(fd)
        raise NotProcfs("fstatfs", errno.EXDEV, f"/proc ({how}) is not a procfs root")
    return fd


class ProcfsHandle:
    """An fd of a procfs root nobody else can change; close() (or `with`) frees it."""

    def __init__(self, fd: int, how: str, sc=SYSCALLS) -> None:
        self.fd, self.how, self.sc = fd, how, sc

    @classmethod
    def open(cls, proc: str = "/proc", sc=SYSCALLS) -> "ProcfsHandle":
        errors: list[str] = []
        try:
            return cls(_verified_root(sc.open_tree(AT_FDCWD, proc, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC),
                                      "open_tree", sc), "open_tree", sc)
        except SyscallError as exc:
            if isinstance(exc, NotProcfs):
                raise
            errors.append(str(exc))
        try:
            fsfd = sc.fsopen("proc")
            try:
                sc.fsconfig(fsfd, FSCONFIG_CMD_CREATE)
                mnt = sc.fsmount(fsfd)
            finally:
                os.close(fsfd)
            return cls(_verified_root(mnt, "fsopen", sc), "fsopen", sc)
        except SyscallError as exc:
            if isinstance(exc, NotProcfs):
                raise
            errors.append(str(exc))
        fd = os.open(proc, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        return cls(_verified_root(fd, "open", sc), "open", sc)

    def __enter__(self) -> "ProcfsHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def open_file(self, rel: str, flags: int) -> int:
        """`rel` (e.g. "sys/net/ipv4/ip_forward", "self/oom_score_adj") beneath the
        handle, refused unless it is a procfs file reached without leaving the mount."""
        rel = rel.lstrip("/")
        try:
            fd = self.sc.openat2(self.fd, rel, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0, RESOLVE)
        except SyscallError as exc:  # EXDEV: a mount in the way; ELOOP: a magic link
            raise SyscallError("open", exc.errno, f"/proc/{rel}") from None
        if not is_procfs(fd, self.sc):
            os.close(fd)
            raise NotProcfs("openat2", errno.EXDEV, f"/proc/{rel} is not on procfs")
        return fd

    def write(self, rel: str, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        fd = self.open_file(rel, os.O_WRONLY)
        try:
            os.write(fd, raw)
        except OSError as exc:
            raise SyscallError("write", exc.errno, f"/proc/{rel}") from None
        finally:
            os.close(fd)

    def read(self, rel: str, limit: int = 1 << 16) -> bytes:
        fd = self.open_file(rel, os.O_RDONLY)
        try:
            return os.read(fd, limit)
        finally:
            os.close(fd)


def write_proc(rel: str, data: str | bytes, proc: str = "/proc") -> None:
    """One verified write through a fresh private handle."""
    with ProcfsHandle.open(proc) as handle:
        handle.write(rel, data)
