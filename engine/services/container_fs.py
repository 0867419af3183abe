"""A container's files from the host: cp (both ways), export, diff.

How we reach the container's root filesystem, never through a path the
container can redirect:
- running: `/proc/PID/root` of its init, opened through a `/proc/PID` directory
  fd whose start time we checked first (a recycled pid then fails with ESRCH
  instead of handing us the host's `/`); this view includes its volumes, as
  Podman's cp does by joining the mount namespace;
- not running (cp), under the container's lock: its overlay where it is
  mounted (created, or stopped with the mount kept), else - and always for
  export and diff - a detached overlay mount (fsopen/fsmount, attached nowhere)
  of the container's upper dir over its image's layers, read-only unless we
  write.  It lives as long as its fd: no mount point, nothing left behind if
  we crash.
Every path inside is resolved with engine/archive/inroot.py.  Rootless callers
run inside Hull's user namespace (entered first, before any thread).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from engine.archive.inroot import InRoot
from engine.config import EngineConfig
from engine.errors import HullError, StorageError, SyscallError
from engine.services.common import enter_userns, open_store
from engine.services.container_cp import CopyOptions, copy_in, copy_out

__all__ = ["CopyOptions", "copy_from_container", "copy_to_container", "export_container",
           "diff_container", "Change", "container_root", "live_proc", "lookup"]


# -- finding the container and its init process ---------------------------------------------
def lookup(cfg: EngineConfig, text: str) -> tuple[Any, Any]:
    """(store, Container record, its state reconciled) for a name, ID or ID prefix."""
    from engine.services.container_state import reconcile

    store = open_store(cfg)
    return store, reconcile(store, store.containers.lookup(text))


def _stat_starttime(proc_fd: int) -> int | None:
    try:
        fd = os.open("stat", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc_fd)
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
        fields = data.rsplit(b")", 1)[1].split()
        return None if fields[0] in (b"Z", b"X") else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def live_proc(store: Any, container: Any) -> Iterator[tuple[int, int] | None]:
    """(pid, fd of /proc/PID) of the container's init while it is alive, else None.

    The fd is opened first and the process checked after (container_state's
    pid + start time rules): once that process is gone, opens through the fd
    fail with ESRCH, even if the pid number is reused meanwhile."""
    from engine.services.container_state import container_pid_file, container_process
    from engine.store.containers import read_pid_file

    found = read_pid_file(container_pid_file(store, container.id))
    if found is None or not getattr(container.state, "active", True):
        yield None
        return
    try:
        fd = os.open(f"/proc/{found[0]}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield None
        return
    try:
        checked = container_process(store, container)
        start = _stat_starttime(fd)
        if checked is None or checked[0] != found[0] or start is None or (
                checked[1] is not None and checked[1] != start):
            yield None
        else:
            yield found[0], fd
    finally:
        os.close(fd)


# -- the root filesystem ---------------------------------------------------------------------
def _layer_dirs(store: Any, container: Any) -> list[Path]:
    """The image's layer dirs, top first."""
    if not container.image_id:
        return []
    image = store.images.get(container.image_id)
    return [store.layers.diff_path(c) for c in reversed(image.layers)]


def _detached_overlay(lowers: list[Path], upper: Path | None, work: Path | None) -> int:
    """A mount fd of an overlay nobody else sees; closing it unmounts."""
    from engine.runtime.syscalls import (FSCONFIG_CMD_CREATE, FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING,
                                         MOUNT_ATTR_RDONLY, SYSCALLS)

    try:
        fsfd = SYSCALLS.fsopen("overlay")
        try:
            for d in lowers:
                SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", str(d))
            if upper is not None:
                SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", str(upper))
                SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", str(work))
            SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr")
            SYSCALLS.fsconfig(fsfd, FSCONFIG_CMD_CREATE)
            return SYSCALLS.fsmount(fsfd, 0 if upper is not None else MOUNT_ATTR_RDONLY)
        finally:
            os.close(fsfd)
    except SyscallError as exc:
        raise StorageError(f"cannot mount the container's root filesystem: {exc}") from None


@contextlib.contextmanager
def image_view(store: Any, container: Any, *, with_upper: bool, writable: bool = False) -> Iterator[int]:
    """An fd of the container's files from storage (upper over the image's layers),
    or of the image's layers alone (`with_upper=False`, for diff)."""
    from engine.services.container_userns import owned_lowers

    upper_dir = store.containers.upper(container.id)
    # --userns=auto/--uidmap: the layers as the container sees them (a copy-up keeps its ids)
    with owned_lowers(store, container, _layer_dirs(store, container)) as lowers:
        if writable:
            if not lowers:
                fd = os.open(upper_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            else:
                fd = _detached_overlay(lowers, upper_dir, store.containers.work(container.id))
        else:
            stack = ([upper_dir] if with_upper else []) + lowers
            if not stack:
                raise StorageError(f"container {container.id[:12]} has no root filesystem")
            if len(stack) == 1:  # overlayfs needs two lowers without an upper dir
                fd = os.open(stack[0], os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            else:
                fd = _detached_overlay(stack, None, None)
    try:
        yield fd
    finally:
        os.close(fd)


def _live_root(store: Any, container: Any) -> int | None:
    """O_PATH fd of the running container's `/` (its init's /proc/PID/root), else None."""
    with live_proc(store, container) as live:
        if live is None:
            return None
        try:
            return os.open("root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=live[1])
        except OSError:
            return None  # it ended just now: storage's view then


def _mounted_rootfs(store: Any, container: Any) -> int | None:
    """O_PATH fd of the container's overlay when it is mounted already (create mounts
    it; a stopped container may keep it): a second overlay on the same upper dir is
    undefined behaviour in overlayfs (files written through one go missing in the other)."""
    from engine.runtime.overlay import is_mountpoint

    target = store.containers.rootfs(container.id)
    if not is_mountpoint(target):
        return None
    try:
        return os.open(target, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None


@contextlib.contextmanager
def _as_root(fd: int) -> Iterator[InRoot]:
    try:
        with InRoot(fd) as root:
            yield root
    finally:
        os.close(fd)


@contextlib.contextmanager
def container_root(store: Any, container: Any, *, writable: bool) -> Iterator[InRoot]:
    """The container's `/` as an InRoot: its live view while it runs, else storage's.

    Storage's view is used under the container's lock (the one start, cleanup and rm
    take), re-checked once held: a `start` racing a cp waits until the copy is done,
    and a cp that lost the race copies into the now running container."""
    fd = _live_root(store, container)
    if fd is not None:
        with _as_root(fd) as root:
            yield root
        return
    from engine.services.container_state import reconcile
    from engine.services.containers import _lock

    with _lock(store, container.id):
        fresh = reconcile(store, store.containers.get(container.id))
        fd = _live_root(store, fresh)
        if fd is None:
            fd = _mounted_rootfs(store, fresh)
        if fd is not None:
            with _as_root(fd) as root:
                yield root
            return
        with image_view(store, fresh, with_upper=True, writable=writable) as fd, InRoot(fd) as root:
            yield root


def _where(container: Any) -> str:
    return f"container {container.id[:12]}"


# -- cp ------------------------------------------------------------------------------------
def copy_from_container(cfg: EngineConfig, name: str, src: str, dest: "str | BinaryIO",
                        opts: CopyOptions = CopyOptions()) -> None:
    """`hull cp CTR:SRC DEST`; DEST "-" or a binary stream: a tar to stdout (or that stream)."""
    enter_userns(cfg)
    store, container = lookup(cfg, name)
    if dest == "-":
        import sys

        dest = sys.stdout.buffer
    with container_root(store, container, writable=False) as root:
        copy_out(root, src, dest, opts, f"container {name}")  # Podman names it as typed


def copy_to_container(cfg: EngineConfig, name: str, src: "str | BinaryIO", dest: str,
                      opts: CopyOptions = CopyOptions()) -> None:
    """`hull cp SRC CTR:DEST`; SRC "-" or a binary stream: a (compressed) tar from stdin."""
    enter_userns(cfg)
    store, container = lookup(cfg, name)
    if src == "-":
        import sys

        src = sys.stdin.buffer
    from engine.services.container_userns import root_ids, shift

    with container_root(store, container, writable=True) as root:  # own maps: ids shifted through them
        copy_in(root, src, dest, opts, f"container {name}", root_ids(store, container.id),
                shift(store, container.id))


# -- export ----------------------------------------------------------------------------------
def export_container(cfg: EngineConfig, name: str, out: "str | os.PathLike | BinaryIO") -> None:
    """The container's root filesystem (no volumes, no /proc) as one tar."""
    from engine.archive.tarwriter import write_tar
    from engine.services.container_userns import unshift

    enter_userns(cfg)
    store, container = lookup(cfg, name)
    id_map = unshift(store, container.id)  # --userns=auto/--uidmap: the container's ids, not the host's
    with image_view(store, container, with_upper=True) as fd:
        root = f"/proc/self/fd/{fd}"
        if not isinstance(out, (str, os.PathLike)):
            write_tar(root, out, id_map=id_map)
            return
        target = Path(out)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            with open(tmp, "wb") as f:
                write_tar(root, f, id_map=id_map)
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StorageError(f"cannot write {out}: {exc.strerror}") from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


# -- diff ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    kind: str   # "A" added, "C" changed, "D" deleted (Podman's letters)
    path: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


_OPAQUE = "user.overlay.opaque"
# Mount points the engine and runtime make in every container: not the user's
# changes, so Podman's diff leaves them out (libpod's initInodes).
INIT_PATHS = frozenset(("/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/proc", "/run",
                        "/run/notify", "/run/.containerenv", "/run/secrets", "/sys", "/etc/mtab"))


def diff_container(cfg: EngineConfig, name: str) -> list[Change]:
    """Changes of the container against its image, from its upper dir, sorted by path."""
    enter_userns(cfg)
    store, container = lookup(cfg, name)
    upper = store.containers.upper(container.id)
    changes: list[Change] = []
    try:
        ufd = os.open(upper, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot read the changes of {_where(container)}: {exc.strerror}") from None
    try:
        if _layer_dirs(store, container):
            with image_view(store, container, with_upper=False) as lfd, InRoot(lfd) as lower:
                _walk_upper(ufd, b"", lower, changes)
        else:
            _walk_upper(ufd, b"", None, changes)
    except OSError as exc:
        raise StorageError(f"cannot read the changes of {_where(container)}: {exc.strerror}") from None
    finally:
        os.close(ufd)
    return sorted((c for c in changes if c.path not in INIT_PATHS), key=lambda c: c.path)


def _in_lower(lower: InRoot | None, path: bytes) -> os.stat_result | None:
    if lower is None:
        return None
    try:
        pfd, name = lower.open_parent(path)
    except HullError:
        return None
    try:
        return os.lstat(name, dir_fd=pfd) if name is not None else os.fstat(pfd)
    except OSError:
        return None
    finally:
        os.close(pfd)


def _walk_upper(dfd: int, prefix: bytes, lower: InRoot | None, out: list[Change]) -> None:
    for raw in sorted(os.listdir(dfd)):
        name = os.fsencode(raw)
        path = prefix + b"/" + name
        st = os.lstat(name, dir_fd=dfd)
        shown = os.fsdecode(path)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:  # overlay whiteout
            if _in_lower(lower, path) is not None:
                out.append(Change("D", shown))
            continue
        below = _in_lower(lower, path)
        out.append(Change("A" if below is None else "C", shown))
        if stat.S_ISDIR(st.st_mode):
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            try:
                if below is not None and stat.S_ISDIR(below.st_mode) and _opaque(fd):
                    _deleted_below(lower, path, set(os.listdir(fd)), out)
                _walk_upper(fd, path, lower, out)
            finally:
                os.close(fd)


def _opaque(fd: int) -> bool:
    try:
        return os.getxattr(fd, _OPAQUE) == b"y"
    except OSError:
        return False


def _deleted_below(lower: InRoot | None, path: bytes, kept: set[str], out: list[Change]) -> None:
    """An opaque directory hides everything the image had there."""
    if lower is None:
        return
    try:
        fd = lower.open_dir(path, flags=os.O_RDONLY)
    except HullError:
        return
    try:
        for raw in os.listdir(fd):
            if raw not in kept:
                out.append(Change("D", os.fsdecode(path + b"/" + os.fsencode(raw))))
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
    finally:
        os.close(fd)
