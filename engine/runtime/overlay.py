"""Kernel overlayfs mounts of layer stacks (image mount, container root filesystems).

Always with `userxattr`: layers are unpacked with `user.overlay.opaque`
(docs/architecture.md), which overlayfs reads only in that mode.  Checked on
Linux 6.18: `userxattr` mounts as real root too, and without it root's overlay
ignores `user.overlay.opaque` - so one layer format serves root and rootless.
Whiteouts (0/0 character devices) work in both modes.

mount(2) takes at most one page of options, which a deep stack of absolute
layer paths overflows.  Then, as Podman does, the lower dirs are given
relative to their common parent with the working directory there; when even
that is too long, the new mount API adds one `lowerdir+` per fsconfig call
(Linux >= 6.5), which has no length limit and needs no escaping.
Overlayfs itself stacks at most 500 lower layers.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from engine.errors import InvalidArgument, StorageError, SyscallError

MAX_LOWER_LAYERS = 500  # OVL_MAX_STACK in fs/overlayfs
MAX_MOUNT_DATA = 4095  # a page, minus the terminating NUL


def escape_option_path(path: str) -> str:
    """Escape a path for overlay's option string: ':' splits lowerdir, ',' splits options."""
    return path.replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,")


def overlay_options(lowerdirs: list[str], upper: str | None, work: str | None,
                    volatile: bool = False) -> str:
    """The mount(2) data string for these (already absolute or cwd-relative) paths."""
    opts = ["lowerdir=" + ":".join(escape_option_path(d) for d in lowerdirs)]
    if upper is not None:
        opts += ["upperdir=" + escape_option_path(upper), "workdir=" + escape_option_path(work or "")]
        if volatile:
            opts.append("volatile")
    opts.append("userxattr")
    return ",".join(opts)


def _clear_volatile_mark(work: str) -> None:
    """A `volatile` mount leaves work/incompat/volatile behind and overlayfs refuses
    any later mount of that upper dir while it exists.  Only --rm containers mount
    volatile, and their upper dir is thrown away with them: a remount (restart before
    removal) may use it as it is."""
    mark = os.path.join(work, "work", "incompat", "volatile")
    try:
        for name in os.listdir(mark):  # the kernel's "dirty" file
            os.unlink(os.path.join(mark, name))
        os.rmdir(mark)
    except OSError:
        pass


def _is_empty_dir(path: Path) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return False


def _validate(lowerdirs: list[Path], target: Path, upper: Path | None, work: Path | None) -> None:
    if not lowerdirs:
        raise InvalidArgument("an overlay mount needs at least one lower layer")
    if len(lowerdirs) > MAX_LOWER_LAYERS:
        raise InvalidArgument(f"{len(lowerdirs)} layers: overlayfs stacks at most {MAX_LOWER_LAYERS}")
    if (upper is None) != (work is None):
        raise InvalidArgument("overlay upper and work directories go together")
    for d in [*lowerdirs, target, *([upper, work] if upper else [])]:
        if not d.is_dir():
            raise StorageError(f"overlay: {d} is not a directory")


def mount_overlay(lowerdirs: list[Path], target: Path, upper: Path | None = None,
                  work: Path | None = None, readonly: bool = False, volatile: bool = False) -> None:
    """Mount `lowerdirs` (top layer first) on `target`, writable through `upper` if given.

    `volatile` (as Podman mounts --rm containers): overlayfs never syncs the upper
    file system, so unmounting does not flush the whole host file system under it
    (milliseconds on every `run --rm`); a crash may lose the upper dir's content.

    Without an upper dir overlayfs wants two lowers; for a single-layer image the
    (empty) mount point itself serves as the empty bottom layer, so whiteouts
    stay hidden as they would in any stack.
    """
    from engine.runtime.syscalls import MS_RDONLY, SYSCALLS

    lowerdirs = [Path(os.path.abspath(d)) for d in lowerdirs]
    target = Path(os.path.abspath(target))
    upper = Path(os.path.abspath(upper)) if upper else None
    work = Path(os.path.abspath(work)) if work else None
    _validate(lowerdirs, target, upper, work)
    if upper is None and len(lowerdirs) == 1:
        if not _is_empty_dir(target):
            raise InvalidArgument(f"overlay: mount point {target} is not empty")
        lowerdirs = [*lowerdirs, target]
    flags = MS_RDONLY if readonly else 0
    lowers = [str(d) for d in lowerdirs]
    up = str(upper) if upper else None
    wk = str(work) if work else None
    if wk is not None:
        _clear_volatile_mark(wk)
    volatile = volatile and up is not None
    try:
        data = overlay_options(lowers, up, wk, volatile)
        if len(data) <= MAX_MOUNT_DATA:
            SYSCALLS.mount("overlay", str(target), "overlay", flags, data)
            return
        parent = os.path.commonpath(lowers)
        relative = [os.path.relpath(d, parent) for d in lowers]
        data = overlay_options(relative, up, wk, volatile)
        if len(data) <= MAX_MOUNT_DATA:
            _mount_in_dir(parent, str(target), flags, data)
            return
        _mount_new_api(lowers, str(target), up, wk, readonly, volatile)
    except SyscallError as exc:
        raise StorageError(f"cannot mount overlay on {target}: {os.strerror(exc.errno)}") from None


def _mount_in_dir(directory: str, target: str, flags: int, data: str) -> None:
    """mount(2) with relative lower dirs, resolved by the kernel against the cwd."""
    from engine.runtime.syscalls import SYSCALLS

    saved = os.open(".", os.O_PATH | os.O_CLOEXEC)
    try:
        os.chdir(directory)
        SYSCALLS.mount("overlay", target, "overlay", flags, data)
    finally:
        os.fchdir(saved)
        os.close(saved)


def _mount_new_api(lowers: list[str], target: str, upper: str | None, work: str | None,
                   readonly: bool, volatile: bool = False) -> None:
    from engine.runtime.syscalls import (FSCONFIG_CMD_CREATE, FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING,
                                         MOUNT_ATTR_RDONLY, SYSCALLS)

    fsfd = SYSCALLS.fsopen("overlay")
    try:
        for d in lowers:
            SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", d)
        if upper is not None:
            SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper)
            SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work)
            if volatile:
                SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile")
        SYSCALLS.fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr")
        SYSCALLS.fsconfig(fsfd, FSCONFIG_CMD_CREATE)
        mntfd = SYSCALLS.fsmount(fsfd, MOUNT_ATTR_RDONLY if readonly else 0)
        try:
            SYSCALLS.move_mount_fd(mntfd, target)
        finally:
            os.close(mntfd)
    finally:
        os.close(fsfd)


def is_mountpoint(path: Path) -> bool:
    """True when something is mounted on `path` (works for overlay on the same fs)."""
    try:
        with open("/proc/self/mountinfo") as f:
            wanted = _mountinfo_escape(os.path.abspath(path))
            return any(line.split(" ", 5)[4] == wanted for line in f)
    except OSError:
        return False


def _mountinfo_escape(path: str) -> str:
    return path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")


def unmount(target: Path, lazy: bool = False) -> None:
    """Unmount `target`; `lazy` detaches it even while in use."""
    from engine.runtime.syscalls import MNT_DETACH, SYSCALLS

    try:
        SYSCALLS.umount2(os.path.abspath(target), MNT_DETACH if lazy else 0)
    except SyscallError as exc:
        if exc.errno == errno.EINVAL:
            raise StorageError(f"{target} is not mounted") from None
        if exc.errno == errno.EBUSY:
            raise StorageError(f"{target} is busy") from None
        raise StorageError(f"cannot unmount {target}: {os.strerror(exc.errno)}") from None
