"""The Linux system calls Python's `os` module lacks, through cffi (ABI mode).

All of Hull's raw syscalls live here, behind the `Syscalls` class, so tests can
swap in `FakeSyscalls` (engine/runtime/fake_syscalls.py) and unit-test namespace
and mount logic without privileges.  Every failure raises SyscallError with the
call's name and errno, read through cffi's `ffi.errno` right after the call
(never through a later libc call that could clobber it).
"""

from __future__ import annotations

import os

from engine.errors import SyscallError


class cached_property:  # noqa: N801 - functools' (which costs `run` ~2 ms before its monitor spawn)
    """Computed on first access, then an instance attribute (functools.cached_property
    without its lock and generics)."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value

# Namespace flags (linux/sched.h)
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# mount(2) flags (linux/mount.h)
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2

# New mount API (linux/mount.h, Linux >= 5.2; overlay's "lowerdir+" needs 6.5)
FSOPEN_CLOEXEC = 1
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 1
MOUNT_ATTR_RDONLY = 1
MOVE_MOUNT_F_EMPTY_PATH = 4
MOVE_MOUNT_T_EMPTY_PATH = 0x40
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
MOUNT_ATTR_IDMAP = 0x00100000

# statfs f_type values (linux/magic.h)
PROC_SUPER_MAGIC = 0x9FA0

# openat2 resolve flags (linux/openat2.h)
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_SYSCALL_NUMBERS = {
    # name: (x86_64, aarch64)
    "openat2": (437, 437),
    "pivot_root": (155, 41),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "close_range": (436, 436),
    "pidfd_getfd": (438, 438),
    "open_tree": (428, 428),
    "mount_setattr": (442, 442),
    "fstatfs": (138, 44),
    "seccomp": (317, 277),
}

_CDEF = """
int unshare(int flags);
int setns(int fd, int nstype);
int mount(const char *source, const char *target, const char *fstype,
          unsigned long flags, const void *data);
int umount2(const char *target, int flags);
int prctl(int option, unsigned long arg2, unsigned long arg3,
          unsigned long arg4, unsigned long arg5);
long syscall(long number, ...);
int sethostname(const char *name, size_t len);
struct open_how { uint64_t flags; uint64_t mode; uint64_t resolve; };
struct __user_cap_header_struct { uint32_t version; int pid; };
struct __user_cap_data_struct { uint32_t effective; uint32_t permitted; uint32_t inheritable; };
int capset(struct __user_cap_header_struct *hdrp, const struct __user_cap_data_struct *datap);
int capget(struct __user_cap_header_struct *hdrp, struct __user_cap_data_struct *datap);
struct scmp_arg_cmp { unsigned int arg; int op; uint64_t datum_a; uint64_t datum_b; };
void *seccomp_init(uint32_t def_action);
void seccomp_release(void *ctx);
int seccomp_arch_add(void *ctx, uint32_t arch_token);
uint32_t seccomp_arch_resolve_name(const char *arch_name);
int seccomp_syscall_resolve_name(const char *name);
int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt,
                           const struct scmp_arg_cmp *arg_array);
int seccomp_attr_set(void *ctx, int attr, uint32_t value);
int seccomp_load(void *ctx);
int seccomp_export_bpf(void *ctx, int fd);
"""


def _syscall_number(name: str) -> int:
    machine = os.uname().machine  # platform.machine(), without importing platform
    index = {"x86_64": 0, "aarch64": 1}.get(machine)
    if index is None:
        raise SyscallError(name, 38, f"(unsupported architecture {machine})")
    return _SYSCALL_NUMBERS[name][index]


class Syscalls:
    """Real syscalls.  One instance (`SYSCALLS`) is shared by the process."""

    @cached_property
    def _ffi(self):
        try:  # pre-parsed declarations (engine/runtime/libc_build.py): ~2 ms
            from engine.runtime._libc_cffi import ffi
        except ImportError:  # stale or missing: parse them now (~30 ms)
            from cffi import FFI

            ffi = FFI()
            ffi.cdef(_CDEF)
        return ffi

    @cached_property
    def _libc(self):
        return self._ffi.dlopen(None)

    def preload(self) -> None:
        """Parse the declarations and open libc now (before a fork, off a hot path)."""
        self._libc

    def _check(self, name: str, result: int, detail: str = "") -> int:
        if result < 0:
            raise SyscallError(name, self._ffi.errno, detail)
        return result

    def unshare(self, flags: int) -> None:
        self._check("unshare", self._libc.unshare(flags))

    def setns(self, fd: int, nstype: int = 0) -> None:
        self._check("setns", self._libc.setns(fd, nstype))

    def mount(self, source: str | None, target: str, fstype: str | None,
              flags: int = 0, data: str | None = None) -> None:
        ffi = self._ffi
        enc = lambda s: ffi.NULL if s is None else s.encode()  # noqa: E731
        self._check("mount", self._libc.mount(enc(source), target.encode(), enc(fstype),
                                              flags, enc(data)), target)

    def umount2(self, target: str, flags: int = 0) -> None:
        self._check("umount2", self._libc.umount2(target.encode(), flags), target)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("pivot_root"))
        self._check("pivot_root", self._libc.syscall(nr, ffi.new("char[]", new_root.encode()),
                                                     ffi.new("char[]", put_old.encode())), new_root)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return self._check("prctl", self._libc.prctl(option, arg2, arg3, arg4, arg5))

    def fsopen(self, fstype: str) -> int:
        """fsopen(2): a filesystem context fd (close-on-exec) to configure with fsconfig."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("fsopen"))
        return self._check("fsopen", self._libc.syscall(nr, ffi.new("char[]", fstype.encode()),
                                                       ffi.cast("unsigned int", FSOPEN_CLOEXEC)), fstype)

    def fsconfig(self, fsfd: int, cmd: int, key: str | None = None, value: str | None = None) -> None:
        """fsconfig(2): one parameter per call, so values need no escaping and no page limit."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("fsconfig"))
        ckey = ffi.NULL if key is None else ffi.new("char[]", key.encode())
        cvalue = ffi.NULL if value is None else ffi.new("char[]", value.encode())
        self._check("fsconfig", self._libc.syscall(nr, ffi.cast("int", fsfd), ffi.cast("unsigned int", cmd),
                                                   ckey, cvalue, ffi.cast("int", 0)), key or "")

    def fsmount(self, fsfd: int, attr_flags: int = 0) -> int:
        """fsmount(2): a detached mount fd (close-on-exec) from a created context."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("fsmount"))
        return self._check("fsmount", self._libc.syscall(nr, ffi.cast("int", fsfd),
                                                        ffi.cast("unsigned int", FSMOUNT_CLOEXEC),
                                                        ffi.cast("unsigned int", attr_flags)))

    def move_mount_fd(self, mntfd: int, target: str) -> None:
        """move_mount(2) of a detached mount fd onto `target`."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("move_mount"))
        self._check("move_mount", self._libc.syscall(nr, ffi.cast("int", mntfd), ffi.new("char[]", b""),
                                                    ffi.cast("int", AT_FDCWD), ffi.new("char[]", target.encode()),
                                                    ffi.cast("unsigned int", MOVE_MOUNT_F_EMPTY_PATH)), target)

    def move_mount_onto_fd(self, mntfd: int, target_fd: int) -> None:
        """move_mount(2) of a detached mount fd onto the file or directory open at
        `target_fd` (an O_PATH fd; a /proc/self/fd path would name the magic link)."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("move_mount"))
        empty = ffi.new("char[]", b"")
        self._check("move_mount", self._libc.syscall(nr, ffi.cast("int", mntfd), empty, ffi.cast("int", target_fd),
                                                    empty, ffi.cast("unsigned int", MOVE_MOUNT_F_EMPTY_PATH |
                                                                    MOVE_MOUNT_T_EMPTY_PATH)), f"fd {target_fd}")

    def open_tree(self, dirfd: int, path: str, flags: int) -> int:
        """open_tree(2): an O_PATH fd of `path`, or with OPEN_TREE_CLONE a detached copy of
        its mount (with AT_RECURSIVE its submounts too) that nobody can mount over."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("open_tree"))
        return self._check("open_tree", self._libc.syscall(nr, ffi.cast("int", dirfd),
                                                          ffi.new("char[]", path.encode()),
                                                          ffi.cast("unsigned int", flags)), path)

    def mount_setattr(self, dirfd: int, path: str, flags: int, attr_set: int = 0, attr_clr: int = 0,
                      propagation: int = 0, userns_fd: int = 0) -> None:
        """mount_setattr(2) with a struct mount_attr (e.g. MOUNT_ATTR_IDMAP and a user
        namespace fd, on a detached mount from open_tree(OPEN_TREE_CLONE))."""
        import struct

        ffi = self._ffi
        raw = struct.pack("=QQQQ", attr_set, attr_clr, propagation, userns_fd)
        buf = ffi.new("char[]", raw)
        nr = ffi.cast("long", _syscall_number("mount_setattr"))
        self._check("mount_setattr", self._libc.syscall(nr, ffi.cast("int", dirfd), ffi.new("char[]", path.encode()),
                                                       ffi.cast("unsigned int", flags), buf,
                                                       ffi.cast("size_t", len(raw))), path)

    def fstatfs_type(self, fd: int) -> int:
        """f_type of fstatfs(2) (the first field of struct statfs, a native long)."""
        ffi = self._ffi
        buf = ffi.new("char[]", 256)  # struct statfs is 120 bytes on x86_64 and aarch64
        nr = ffi.cast("long", _syscall_number("fstatfs"))
        self._check("fstatfs", self._libc.syscall(nr, ffi.cast("int", fd), buf))
        return ffi.cast("long *", buf)[0] & 0xFFFFFFFF

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        self._check("sethostname", self._libc.sethostname(raw, len(raw)))

    def openat2(self, dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = 0) -> int:
        """openat2(2): the kernel resolves `path` under `dirfd` as `resolve` says."""
        ffi = self._ffi
        how = ffi.new("struct open_how *", {"flags": flags | os.O_CLOEXEC, "mode": mode, "resolve": resolve})
        nr = ffi.cast("long", _syscall_number("openat2"))
        fd = self._libc.syscall(nr, ffi.cast("int", dirfd), ffi.new("char[]", path.encode()),
                                how, ffi.cast("size_t", ffi.sizeof("struct open_how")))
        return self._check("openat2", fd, path)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """capset(2) of this thread's three 64-bit sets (capability version 3)."""
        ffi = self._ffi
        hdr = ffi.new("struct __user_cap_header_struct *", {"version": _LINUX_CAPABILITY_VERSION_3, "pid": 0})
        data = ffi.new("struct __user_cap_data_struct[2]")
        for i in (0, 1):
            shift = 32 * i
            data[i].effective = (effective >> shift) & 0xFFFFFFFF
            data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
            data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
        self._check("capset", self._libc.capset(hdr, data))

    def capget(self) -> tuple[int, int, int]:
        """(effective, permitted, inheritable) of this thread."""
        ffi = self._ffi
        hdr = ffi.new("struct __user_cap_header_struct *", {"version": _LINUX_CAPABILITY_VERSION_3, "pid": 0})
        data = ffi.new("struct __user_cap_data_struct[2]")
        self._check("capget", self._libc.capget(hdr, data))
        return tuple(getattr(data[0], k) | (getattr(data[1], k) << 32)  # type: ignore[return-value]
                     for k in ("effective", "permitted", "inheritable"))

    def close_range(self, first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
        """close_range(2): closes every fd in [first, last] (Linux >= 5.9)."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("close_range"))
        self._check("close_range", self._libc.syscall(nr, ffi.cast("unsigned int", first),
                                                     ffi.cast("unsigned int", last), ffi.cast("unsigned int", flags)))

    def pidfd_getfd(self, pidfd: int, targetfd: int) -> int:
        """pidfd_getfd(2): a duplicate of another process's fd (close-on-exec; Linux >= 5.6)."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("pidfd_getfd"))
        return self._check("pidfd_getfd", self._libc.syscall(nr, ffi.cast("int", pidfd), ffi.cast("int", targetfd),
                                                            ffi.cast("unsigned int", 0)))

    def seccomp_filter(self, fprog, flags: int = 0) -> None:
        """seccomp(2) SECCOMP_SET_MODE_FILTER with a struct sock_fprog the caller packed."""
        ffi = self._ffi
        nr = ffi.cast("long", _syscall_number("seccomp"))
        self._check("seccomp", self._libc.syscall(nr, ffi.cast("unsigned int", 1),
                                                 ffi.cast("unsigned int", flags), fprog))

    @cached_property
    def seccomp_lib(self):
        """libseccomp (its declarations are pre-parsed with libc's)."""
        try:
            return self._ffi.dlopen("libseccomp.so.2")
        except OSError as exc:
            raise SyscallError("dlopen", 2, f"libseccomp.so.2 ({exc})") from None

    @cached_property
    def has_openat2(self) -> bool:
        """openat2 exists since Linux 5.6; seccomp filters may still deny it."""
        root = os.open("/", os.O_PATH | os.O_CLOEXEC)
        try:
            os.close(self.openat2(root, ".", os.O_PATH, resolve=RESOLVE_IN_ROOT))
            return True
        except SyscallError:
            return False
        finally:
            os.close(root)


SYSCALLS = Syscalls()
