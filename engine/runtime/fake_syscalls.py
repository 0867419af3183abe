"""A recording stand-in for engine/runtime/syscalls.py, for unit tests without privileges.

Every call is appended to `calls` as a tuple; a mount or umount target given as
/proc/self/fd/N is recorded as the path that fd names (what the kernel would
mount on), so tests can check where a mount would really land.  `fail` maps
(call name, target or fstype) to an errno to raise, to exercise fallbacks.
"""

from __future__ import annotations

import os

from engine.errors import SyscallError


def _resolve(path: str | None) -> str | None:
    if path and path.startswith("/proc/self/fd/"):
        try:
            return os.readlink(path)
        except OSError:
            return path
    return path


class FakeSyscalls:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fail: dict[tuple[str, str], int] = {}
        self.caps = (0, 0, 0)

    def _maybe_fail(self, name: str, *keys: str | None) -> None:
        for key in keys:
            if key is not None and (name, key) in self.fail:
                raise SyscallError(name, self.fail[(name, key)], key)

    def preload(self) -> None:
        pass

    def mounts(self) -> list[tuple]:
        return [c for c in self.calls if c[0] == "mount"]

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int = 0,
              data: str | None = None) -> None:
        real = _resolve(target)
        self._maybe_fail("mount", real, fstype)
        self.calls.append(("mount", _resolve(source), real, fstype, flags, data))

    def umount2(self, target: str, flags: int = 0) -> None:
        self.calls.append(("umount2", _resolve(target), flags))

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self.calls.append(("pivot_root", new_root, put_old))

    def unshare(self, flags: int) -> None:
        self._maybe_fail("unshare", str(flags))
        self.calls.append(("unshare", flags))

    def setns(self, fd: int, nstype: int = 0) -> None:
        self.calls.append(("setns", nstype))

    def sethostname(self, name: str) -> None:
        self.calls.append(("sethostname", name))

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        self.calls.append(("prctl", option, arg2, arg3))
        return 0

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self.caps = (effective, permitted, inheritable)
        self.calls.append(("capset", effective, permitted, inheritable))

    def capget(self) -> tuple[int, int, int]:
        return self.caps

    def close_range(self, first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
        self.calls.append(("close_range", first, last, flags))

    def openat2(self, dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
        from engine.runtime.syscalls import SYSCALLS

        return SYSCALLS.openat2(dirfd, path, flags, mode, resolve)

    @property
    def has_openat2(self) -> bool:
        from engine.runtime.syscalls import SYSCALLS

        return SYSCALLS.has_openat2
