"""Persistent network namespaces: {runroot}/netns/<name>, a bind mount of a netns.

A namespace file outlives the process that made it (the CLI exits right after the
start), so the helpers (pasta, slirp4netns, bridge veths) and the runtime can join
it by path.  Rootless, the caller has joined the pause process's user + mount
namespace (enter_userns): the namespace is owned by that user namespace and the
bind mount lives in that mount namespace, as long as the pause process does.

The namespace is made without a child process: a short-lived thread unshares
CLONE_NEWNET (namespaces belong to threads), brings its loopback up and binds
/proc/thread-self/ns/net onto the file, then ends; the caller's own threads never
leave their namespace, so nothing has to setns back (rootless it could not: the
host's namespace belongs to the initial user namespace).  A fork of the CLI cost
10-30 ms here; a thread, well under 1 ms.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.config import EngineConfig

MNT_DETACH = 2


def netns_dir(cfg: EngineConfig) -> Path:
    return cfg.runroot / "netns"


def netns_path(cfg: EngineConfig, name: str) -> Path:
    return netns_dir(cfg) / name


def is_mounted(path: Path | str) -> bool:
    """A namespace is bound on `path` (an nsfs file has another device than its directory)."""
    try:
        st = os.stat(path)
        parent = os.stat(os.path.dirname(path))
    except OSError:
        return False
    return st.st_dev != parent.st_dev


def bring_loopback_up() -> None:
    import fcntl
    import socket
    import struct

    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def create(cfg: EngineConfig, name: str) -> Path:
    """A new network namespace (loopback up) bound on {runroot}/netns/<name>;
    the existing one when it is there already (idempotent)."""
    import threading

    from engine.errors import SyscallError

    path = netns_path(cfg, name)
    if is_mounted(path):
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    failed: list[BaseException] = []
    worker = threading.Thread(target=_bind_new_netns, args=(str(path), failed), name="netns")
    worker.start()
    worker.join()
    if failed:
        _unlink(path)
        exc = failed[0]
        if isinstance(exc, (SyscallError, OSError)):
            raise exc
        raise SyscallError("unshare", errno.EPERM, f"(new network namespace: {exc})")
    return path


def _bind_new_netns(path: str, failed: list[BaseException]) -> None:
    """On its own thread: a new netns for this thread alone, loopback up, bound on `path`.
    The thread ends right after, so the namespace lives on only through the mount."""
    from engine.runtime.syscalls import CLONE_NEWNET, MS_BIND, SYSCALLS

    try:
        SYSCALLS.unshare(CLONE_NEWNET)
        bring_loopback_up()
        SYSCALLS.mount("/proc/thread-self/ns/net", path, None, MS_BIND)
    except BaseException as exc:  # noqa: BLE001  (the caller raises it)
        failed.append(exc)


def remove(cfg: EngineConfig, name: str) -> None:
    """Unmount and delete the namespace file; nothing to do when it is gone."""
    remove_path(netns_path(cfg, name))


def remove_path(path: Path) -> None:
    if not os.path.lexists(path):
        return
    if is_mounted(path):
        from engine.errors import SyscallError
        from engine.runtime.syscalls import SYSCALLS

        try:
            SYSCALLS.umount2(str(path), MNT_DETACH)
        except SyscallError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOENT):
                raise
    _unlink(path)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
