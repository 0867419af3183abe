"""Persistent network namespaces: {runroot}/netns/<name>, a bind mount of a netns.

A namespace file outlives the process that made it (the CLI exits right after the
start), so the helpers (pasta, slirp4netns, bridge veths) and the runtime can join
it by path.  Rootless, the caller has joined the pause process's user + mount
namespace (enter_userns): the namespace is owned by that user namespace and the
bind mount lives in that mount namespace, as long as the pause process does.

The namespace is made without a child process: unshare(CLONE_NEWNET) on this
thread, bind /proc/thread-self/ns/net onto the file, setns back to where we were.
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
    from engine.errors import SyscallError
    from engine.runtime.syscalls import MS_BIND, SYSCALLS

    path = netns_path(cfg, name)
    if is_mounted(path):
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    SYSCALLS.preload()  # parse the declarations once, not in the child
    child, ready, release = _unshared_child()
    try:
        if os.read(ready, 64) != b"ok":
            raise SyscallError("unshare", errno.EPERM, "(new network namespace)")
        SYSCALLS.mount(f"/proc/{child}/ns/net", str(path), None, MS_BIND)
    except (SyscallError, OSError):
        _unlink(path)
        raise
    finally:
        os.close(ready)
        os.close(release)
        os.waitpid(child, 0)
    return path


def _unshared_child() -> tuple[int, int, int]:
    """A child in a new network namespace (loopback up) that says "ok" on the first
    pipe and exits when the second one closes.  Not this process: rootless, we could
    not setns back into the host's namespace (owned by the initial user namespace)."""
    from engine.runtime.syscalls import CLONE_NEWNET, SYSCALLS

    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    release_r, release_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(ready_r)
            os.close(release_w)
            SYSCALLS.unshare(CLONE_NEWNET)
            bring_loopback_up()
            os.write(ready_w, b"ok")
            os.read(release_r, 1)
            code = 0
        except BaseException:  # noqa: BLE001  (the parent reports it)
            pass
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(release_r)
    return pid, ready_r, release_w


def remove(cfg: EngineConfig, name: str) -> None:
    """Unmount and delete the namespace file; nothing to do when it is gone."""
    path = netns_path(cfg, name)
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
