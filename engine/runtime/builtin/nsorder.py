"""Which namespaces with a path are joined before the user namespace.

setns() needs CAP_SYS_ADMIN in the user namespace that owns the target.  Once a
process has created or joined a user namespace it holds capabilities there and
below only, so a namespace owned by the outer user namespace -- the netns file the
engine made for pasta, slirp4netns or a bridge, a `container:X` whose X has no user
namespace of its own -- must be joined first.  crun and runc do the same: join the
existing namespaces that belong to the outer user namespace, then create (or join)
the user namespace, then the rest.  A namespace owned by the target user namespace
(exec into a container that has one) can only be joined from inside it: after.
"""

from __future__ import annotations

import fcntl
import os

NS_GET_USERNS = 0xB701  # _IO(0xb7, 0x1): an fd of the namespace's owning user namespace


def owner_ino(fd: int) -> int | None:
    """Inode of the user namespace owning the namespace open at `fd`; None when the
    kernel will not tell (the owner lies outside our user namespace)."""
    try:
        owner = fcntl.ioctl(fd, NS_GET_USERNS)
    except OSError:
        return None
    try:
        return os.fstat(owner).st_ino
    finally:
        os.close(owner)


def joined_before_user(path: str, target_user_ino: int | None) -> bool:
    """True when the namespace at `path` must be joined before entering the user
    namespace whose inode is `target_user_ino` (None: a new one, which owns nothing yet)."""
    if target_user_ino is None:
        return True
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return owner_ino(fd) != target_user_ino
    finally:
        os.close(fd)


__all__ = ["joined_before_user", "owner_ino"]
