"""Idmapped mounts: a layer directory seen with its owners shifted by a container's
id maps, without touching the files (Linux >= 5.12; overlayfs over idmapped lower
layers >= 5.19).  The building block for containers whose user namespace does not
map the storage owner's ids (--uidmap/--gidmap, --userns=auto): the image layers stay
stored with the store's ids and each container sees them through its own mapping.

- `userns_fd(uid_maps, gid_maps)`: an fd of a user namespace with these maps (a child
  unshares one and waits; we write its maps directly, which needs CAP_SETUID/SETGID
  over the host ids - real root, or root of Hull's rootless namespace for ids in it);
- `idmapped_clone(path, userns)`: open_tree(OPEN_TREE_CLONE) of `path`, then
  mount_setattr(MOUNT_ATTR_IDMAP): a detached mount fd; a file owned by on-disk uid U
  shows as the host id U maps to.  The filesystem must allow it: for a host ext4/xfs
  that means CAP_SYS_ADMIN in the initial user namespace (root), so rootless callers
  get a SyscallError (EPERM) and need another way (a chowned copy).
"""

from __future__ import annotations

import os
import signal

from engine.errors import SyscallError
from engine.runtime.procfs import ProcfsHandle
from engine.runtime.syscalls import (AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, CLONE_NEWUSER, MOUNT_ATTR_IDMAP,
                                     OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE, SYSCALLS)

Maps = list[tuple[int, int, int]]  # (container id, host id, size)


def _format(maps: Maps) -> str:
    return "".join(f"{c} {h} {n}\n" for c, h, n in maps)


def userns_fd(uid_maps: Maps, gid_maps: Maps, sc=SYSCALLS) -> int:
    """An O_RDONLY fd of a fresh user namespace mapped as given (close-on-exec)."""
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(ready_r)
            sc.unshare(CLONE_NEWUSER)
            os.write(ready_w, b"u")
            signal.pause()  # killed by the parent once it holds the namespace
            code = 0
        except BaseException:  # noqa: BLE001
            pass
        finally:
            os._exit(code)
    os.close(ready_w)
    try:
        if os.read(ready_r, 1) != b"u":
            raise SyscallError("unshare", 1, "(user namespace for an idmapped mount)")
        with ProcfsHandle.open() as proc:
            proc.write(f"{pid}/uid_map", _format(uid_maps))
            proc.write(f"{pid}/setgroups", "deny")
            proc.write(f"{pid}/gid_map", _format(gid_maps))
            # ns/user is a magic link (open_file refuses those): opened beneath the handle
            return os.open(f"{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc.fd)
    finally:
        os.close(ready_r)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def idmapped_clone(path: str | os.PathLike, userns: int, *, recursive: bool = False, sc=SYSCALLS) -> int:
    """A detached, idmapped mount fd of `path` (close-on-exec); attach it with
    move_mount or use it as an overlay lower layer through /proc/self/fd/N."""
    flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (AT_RECURSIVE if recursive else 0)
    fd = sc.open_tree(AT_FDCWD, os.fspath(path), flags)
    try:
        sc.mount_setattr(fd, "", AT_EMPTY_PATH | (AT_RECURSIVE if recursive else 0), MOUNT_ATTR_IDMAP,
                         userns_fd=userns)
    except BaseException:
        os.close(fd)
        raise
    return fd
