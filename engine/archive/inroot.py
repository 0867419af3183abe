"""Resolve paths inside a root directory as if it were `/`, never leaving it.

The kernel does it for us with openat2(RESOLVE_IN_ROOT): absolute symlinks
restart at the root, `..` stops at the root.  Where openat2 is missing, or the
name is not UTF-8 (the cffi binding takes str), or missing directories must be
created on the way, `_walk` does the same thing by hand, one component at a time
with O_PATH|O_NOFOLLOW, reading each symlink and splicing its target into the
remaining path.  `..` pops a stack of directory fds we walked through, so it can
never climb above the root even if a directory is renamed meanwhile.

Callers never follow the last component of an entry's name: they open its parent
here and then act on the name with dir_fd= and follow_symlinks=False.
All failures are SyscallError with the errno of the cause.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from engine.errors import SyscallError
from engine.runtime.syscalls import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, SYSCALLS

MAX_SYMLINKS = 40  # the kernel's own limit (ELOOP)
_DIR_PATH = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_COMPONENT = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


def split_path(path: bytes) -> list[bytes]:
    """Components of a path, without empty ones and `.`; `..` is kept for the resolver."""
    return [c for c in path.split(b"/") if c and c != b"."]


class InRoot:
    """A directory fd and the in-root resolution of names beneath it."""

    def __init__(self, root: str | os.PathLike | int, *, use_openat2: bool | None = None) -> None:
        if isinstance(root, int):
            self.fd = os.open(".", _DIR_PATH, dir_fd=root)
        else:
            self.fd = os.open(os.fspath(Path(root)), _DIR_PATH)
        self._openat2 = SYSCALLS.has_openat2 if use_openat2 is None else use_openat2

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "InRoot":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------------
    def open(self, path: bytes, flags: int = os.O_RDONLY) -> int:
        """Open an existing `path`, every component (the last too) resolved in the root."""
        parts = split_path(path)
        if self._openat2:
            fd = self._try_openat2(b"/".join(parts) or b".", flags, 0)
            if fd is not None:
                return fd
        try:
            fd = self._walk(parts, create=False, follow_last=True, want_dir=False)
        except OSError as exc:
            raise SyscallError("open", exc.errno or errno.EIO, os.fsdecode(path)) from None
        if flags & os.O_PATH:
            return fd
        try:  # reopen the O_PATH fd through its magic link: no name to race on
            return os.open(f"/proc/self/fd/{fd}", flags | os.O_CLOEXEC)
        except OSError as exc:
            raise SyscallError("open", exc.errno or errno.EIO, os.fsdecode(path)) from None
        finally:
            os.close(fd)

    def open_dir(self, path: bytes, *, create: bool = False, flags: int = os.O_PATH) -> int:
        """An fd of the directory `path` (symlinks followed in-root); `create` makes
        missing directories (mode 0755), also where a symlink inside the root dangles."""
        parts = split_path(path)
        if self._openat2 and not (flags & ~os.O_PATH & ~os.O_RDONLY):
            fd = self._try_openat2(b"/".join(parts) or b".", flags | os.O_DIRECTORY, 0)
            if fd is not None:
                return fd
        try:
            fd = self._walk(parts, create=create, follow_last=True, want_dir=True)
        except OSError as exc:
            raise SyscallError("open", exc.errno or errno.EIO, os.fsdecode(path)) from None
        if flags & os.O_PATH:
            return fd
        try:  # reopen the O_PATH fd for real I/O (fchmod, fsetxattr, listdir)
            return os.open(".", flags | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
        finally:
            os.close(fd)

    def open_parent(self, path: bytes, *, create: bool = False) -> tuple[int, bytes | None]:
        """(O_PATH fd of the parent directory, last component) of `path`.

        The last component is None when `path` names the root itself.  A `..`
        as last component is resolved into the parent (it names a directory).
        """
        parts = split_path(path)
        if parts and parts[-1] == b"..":  # names a directory: resolve it whole
            return self.open_dir(path, create=create), None
        if not parts:
            return os.open(".", _DIR_PATH, dir_fd=self.fd), None
        return self.open_dir(b"/".join(parts[:-1]), create=create), parts[-1]

    # -- openat2 ---------------------------------------------------------------------
    def _try_openat2(self, path: bytes, flags: int, mode: int) -> int | None:
        """The kernel's answer, or None when the slow walk must decide (missing
        component to create, a name cffi cannot pass, a rename race)."""
        try:
            text = path.decode()
        except UnicodeDecodeError:
            return None
        try:
            return SYSCALLS.openat2(self.fd, text, flags, mode,
                                    resolve=RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        except SyscallError as exc:
            if exc.errno in (errno.ENOENT, errno.EAGAIN, errno.ENOSYS, errno.EXDEV):
                return None
            raise

    # -- the hand-made resolver -------------------------------------------------------
    def _walk(self, parts: list[bytes], *, create: bool, follow_last: bool, want_dir: bool) -> int:
        """O_PATH fd of `parts` resolved in the root; raises OSError."""
        todo = list(reversed(parts))          # a stack: symlink targets get pushed on top
        stack: list[int] = []                  # fds of the directories above `cur`
        cur = os.open(".", _DIR_PATH, dir_fd=self.fd)
        links = 0
        try:
            while todo:
                comp = todo.pop()
                if comp == b"." or not comp:
                    continue
                if comp == b"..":
                    if stack:                  # at the root `..` is the root itself
                        os.close(cur)
                        cur = stack.pop()
                    continue
                last = not todo
                try:
                    fd = os.open(comp, _COMPONENT, dir_fd=cur)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(comp, 0o755, dir_fd=cur)
                    except FileExistsError:
                        pass                   # made meanwhile, or a dangling symlink: look again
                    fd = os.open(comp, _COMPONENT, dir_fd=cur)
                st = os.fstat(fd)
                if stat.S_ISLNK(st.st_mode) and (follow_last or not last):
                    links += 1
                    if links > MAX_SYMLINKS:
                        os.close(fd)
                        raise OSError(errno.ELOOP, "too many levels of symbolic links")
                    target = os.readlink(b"", dir_fd=fd)  # readlinkat(fd, ""): no name to race on
                    os.close(fd)
                    if target.startswith(b"/"):  # absolute: restart at the root
                        while stack:
                            os.close(cur)
                            cur = stack.pop()
                    todo.extend(reversed(split_path(target)))
                    continue
                if stat.S_ISDIR(st.st_mode):
                    stack.append(cur)
                    cur = fd
                    continue
                if not last or want_dir:
                    os.close(fd)
                    raise OSError(errno.ENOTDIR, "not a directory")
                stack.append(cur)
                cur = fd
            return os.dup(cur)
        finally:
            os.close(cur)
            for fd in stack:
                os.close(fd)

