"""The container's filesystem: spec mounts, /dev, masked and read-only paths, pivot_root.

Runs in the container's first process, inside its new mount namespace, before
pivot_root.  Every destination is resolved inside the rootfs (engine/archive/inroot.py:
openat2 RESOLVE_IN_ROOT, or an O_PATH walk) and mounted through /proc/self/fd/N,
so a symlink in the image (`/data -> /tmp/outside`) lands inside the rootfs, never
on the host.  `sc` is the syscall layer (engine/runtime/syscalls.py or its fake).
"""

from __future__ import annotations

import errno
import os
import stat

from engine.archive.inroot import InRoot
from engine.errors import HullError, SyscallError
from engine.record import Factory, Record
from engine.runtime.procfs import NotProcfs, ProcfsHandle, is_procfs
from engine.runtime.syscalls import (AT_FDCWD, AT_RECURSIVE, MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID,
                                     MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SLAVE,
                                     OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MS_UNBINDABLE = 1 << 17
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
MS_SYNCHRONOUS, MS_DIRSYNC, MS_MANDLOCK = 16, 128, 64

_FLAGS = {  # option: (set, clear)
    "ro": (MS_RDONLY, 0), "rw": (0, MS_RDONLY), "nosuid": (MS_NOSUID, 0), "suid": (0, MS_NOSUID),
    "nodev": (MS_NODEV, 0), "dev": (0, MS_NODEV), "noexec": (MS_NOEXEC, 0), "exec": (0, MS_NOEXEC),
    "sync": (MS_SYNCHRONOUS, 0), "async": (0, MS_SYNCHRONOUS), "dirsync": (MS_DIRSYNC, 0),
    "remount": (MS_REMOUNT, 0), "mand": (MS_MANDLOCK, 0), "nomand": (0, MS_MANDLOCK),
    "atime": (0, MS_NOATIME), "noatime": (MS_NOATIME, 0), "diratime": (0, MS_NODIRATIME),
    "nodiratime": (MS_NODIRATIME, 0), "relatime": (MS_RELATIME, 0), "norelatime": (0, MS_RELATIME),
    "strictatime": (MS_STRICTATIME, 0), "nostrictatime": (0, MS_STRICTATIME),
}
_PROPAGATION = {"private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC, "shared": MS_SHARED,
                "rshared": MS_SHARED | MS_REC, "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC,
                "unbindable": MS_UNBINDABLE, "runbindable": MS_UNBINDABLE | MS_REC}
_IGNORED = {"bind", "rbind", "z", "Z", "U", "idmap", "ridmap", "copy", "nocopy", "notmpcopyup", "tmpcopyup"}

# statvfs f_flag bits that a user namespace may not clear on a bind remount (they are
# "locked" when the mount came from a more privileged namespace): keep them as they are.
_LOCKED = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME

DEFAULT_DEVICES = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
                   ("urandom", 1, 9), ("tty", 5, 0)]
DEV_SYMLINKS = [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                ("stderr", "/proc/self/fd/2"), ("core", "/proc/kcore")]
# What may be bound under /proc (runc's checkProcMount): lxcfs's files, nothing else.
PROC_BIND_ALLOWED = {"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
                     "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"}


class MountOptions(Record):
    flags: int = 0
    propagation: int = 0
    data: list[str] = Factory(list)
    bind: bool = False
    recursive: bool = False

    @property
    def data_str(self) -> str | None:
        return ",".join(self.data) or None


def parse_options(options: list[str] | None) -> MountOptions:
    out = MountOptions()
    for opt in options or []:
        if opt in ("bind", "rbind"):
            out.bind = True
            out.recursive = out.recursive or opt == "rbind"
        elif opt in _FLAGS:
            set_, clear = _FLAGS[opt]
            out.flags = (out.flags | set_) & ~clear
        elif opt in _PROPAGATION:
            out.propagation = _PROPAGATION[opt]
        elif opt in _IGNORED:
            continue
        else:
            out.data.append(opt)
    return out


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


# In-memory spec key (never written): {mount index: detached clone fd} of the bind
# sources, opened by the runtime before the container's user namespace exists.
PREOPENED = "hull.preopened"


def needs_preopen(spec: dict) -> bool:
    """A new user namespace that does not map our own uid 0 (--userns=auto, --uidmap):
    its root cannot traverse the engine's 0700 directories to reach the rootfs and the
    bind sources, so they are opened before it exists (as crun does)."""
    linux = spec.get("linux") or {}
    user = next((ns for ns in linux.get("namespaces") or [] if ns.get("type") == "user"), None)
    maps = linux.get("uidMappings") or []
    if user is None or user.get("path") or not maps:
        return False
    return not any(m["hostID"] <= 0 < m["hostID"] + m["size"] for m in maps) and \
        os.path.ismount(spec["root"]["path"])


def preopen(sc, spec: dict) -> list[int]:
    """Caller, before the fork: a detached clone (open_tree OPEN_TREE_CLONE) of each
    bind source, recorded in the spec for the builder; returns the fds (the caller
    closes its copies after the fork).  Nothing when `needs_preopen` is False."""
    if not needs_preopen(spec):
        return []
    fds: dict[int, int] = {}
    try:
        for i, m in enumerate(spec.get("mounts") or []):
            opts = parse_options(m.get("options"))
            if (m.get("type") == "bind" or opts.bind) and m.get("source"):
                flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (AT_RECURSIVE if opts.recursive else 0)
                fds[i] = sc.open_tree(AT_FDCWD, m["source"], flags)
    except BaseException:
        for fd in fds.values():
            os.close(fd)
        raise
    spec[PREOPENED] = fds
    return list(fds.values())


def enter_rootfs(spec: dict) -> None:
    """The forked child, before its user namespace: the rootfs (a mount point) becomes
    its cwd, which unshare(CLONE_NEWNS) carries into the copy: the builder reaches it
    as "." without walking the 0700 directories above it."""
    if PREOPENED in spec:
        os.chdir(spec["root"]["path"])


class RootfsBuilder:
    """Builds the container's view of the filesystem, then pivots into it."""

    def __init__(self, sc, spec: dict, in_userns: bool, *, host_dev: str = "/dev") -> None:
        self.sc = sc
        self.spec = spec
        self.linux = spec.get("linux") or {}
        self.preopened: dict[int, int] | None = spec.get(PREOPENED)
        # preopened: the rootfs is our cwd (enter_rootfs), its path may not be walkable
        self.rootfs = os.readlink("/proc/self/cwd") if self.preopened is not None else \
            os.path.realpath(spec["root"]["path"])
        self.in_userns = in_userns
        self.host_dev = host_dev
        self.root: InRoot | None = None
        self.warnings: list[str] = []
        # the runtime's private procfs handle (engine/runtime/procfs.py) while preparing:
        # sysctls go through it, never through the container's /proc
        self.proc: ProcfsHandle | None = None

    # -- the whole sequence -----------------------------------------------------------
    def prepare(self) -> None:
        """Everything up to (not including) pivot_root."""
        self.proc = ProcfsHandle.open()  # before any mount of the container exists
        try:
            self._check_proc_self_fd()
            self._prepare()
        finally:
            self.proc.close()
            self.proc = None

    def _prepare(self) -> None:
        prop = _PROPAGATION.get(self.linux.get("rootfsPropagation") or "", MS_PRIVATE | MS_REC)
        self.sc.mount(None, "/", None, MS_REC | (prop & ~MS_REC or MS_PRIVATE))
        if self.preopened is not None:  # the rootfs mount is our cwd (enter_rootfs)
            self.root = self._bind_cwd()
        else:
            self.sc.mount(self.rootfs, self.rootfs, None, MS_BIND | MS_REC)
            self.root = InRoot(self.rootfs)
        mounted_dev = False
        for i, m in enumerate(self.spec.get("mounts") or []):
            self.mount_one(m, index=i)
            mounted_dev = mounted_dev or os.path.normpath(m.get("destination", "")) == "/dev"
        self.make_devices(mounted_dev)
        self.write_sysctls()  # before /proc/sys turns read-only
        for path in self.linux.get("maskedPaths") or []:
            self.mask(path)
        for path in self.linux.get("readonlyPaths") or []:
            self.make_readonly(path)

    def _bind_cwd(self) -> InRoot:
        """Bind the cwd's mount onto itself and return an fd of the new mount's root: a
        mount copied into our namespace is locked to its parent and pivot_root refuses
        it; a fresh clone is not (the path-based self-bind, without walking the path)."""
        clone = self.sc.open_tree(AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)
        try:
            here = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                self.sc.move_mount_onto_fd(clone, here)
            finally:
                os.close(here)
            return InRoot(clone)
        finally:
            os.close(clone)

    def finish(self) -> None:
        """pivot_root into the rootfs, detach the old root, apply root.readonly."""
        assert self.root is not None
        os.fchdir(self.root.fd)
        self.sc.pivot_root(".", ".")
        # The old root is stacked under "."; keep its unmount from propagating to the host.
        self.sc.mount(None, ".", None, MS_SLAVE | MS_REC)
        self.sc.umount2(".", MNT_DETACH)
        os.chdir("/")
        self.root.close()
        self.root = None
        if self.spec.get("root", {}).get("readonly"):
            self.remount("/", MS_RDONLY)
        prop = self.linux.get("rootfsPropagation")
        if prop in _PROPAGATION:
            self.sc.mount(None, "/", None, _PROPAGATION[prop])

    def _check_proc_self_fd(self) -> None:
        """Every mount here goes through /proc/self/fd/N of our own /proc: it must be procfs."""
        fd = os.open("/proc/self/fd", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if not is_procfs(fd):
                raise NotProcfs("open", errno.EXDEV, "/proc/self/fd is not on procfs")
        finally:
            os.close(fd)

    # -- one spec mount -----------------------------------------------------------------
    def mount_one(self, m: dict, index: int | None = None) -> None:
        dest = m["destination"]
        mtype = m.get("type") or ""
        opts = parse_options(m.get("options"))
        source = m.get("source") or mtype
        self._refuse_symlinked_pseudo_fs(dest, mtype)
        if mtype == "bind" or opts.bind:
            pre = (self.preopened or {}).get(index) if index is not None else None
            if pre is not None:
                self._attach(pre, dest, opts)
            else:
                self._bind(source, dest, opts)
            return
        if mtype == "cgroup":
            self._mount_cgroup(dest, opts)
            return
        fd = self.open_target(dest, directory=True)
        try:
            self._check_proc_target(fd, dest, mtype)
            try:
                self.sc.mount(source, fd_path(fd), mtype, opts.flags, opts.data_str)
            except SyscallError as exc:
                if not self._fallback(mtype, exc, fd, opts):
                    raise
        finally:
            os.close(fd)
        if opts.propagation:
            self._at(dest, lambda p: self.sc.mount(None, p, None, opts.propagation))

    def _mount_cgroup(self, dest: str, opts: MountOptions) -> None:
        """The spec's `cgroup` mount, as runc and crun read it: the host's cgroup
        hierarchy as seen from the container.  A unified host gets a fresh cgroup2
        mount (scoped by the cgroup namespace); a v1 or hybrid host, where a bare
        `cgroup` mount is EINVAL, a read-only bind of the host's /sys/fs/cgroup."""
        fd = self.open_target(dest, directory=True)
        try:
            flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            try:
                if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
                    self.sc.mount("cgroup2", fd_path(fd), "cgroup2", opts.flags | flags)
                else:
                    self.sc.mount("/sys/fs/cgroup", fd_path(fd), None, MS_BIND | MS_REC)
                    self._remount_tree_fd(fd, flags)
            except SyscallError as exc:
                self.warnings.append(f"cgroup not mounted: {exc}")
        finally:
            os.close(fd)

    def _fallback(self, mtype: str, exc: SyscallError, fd: int, opts: MountOptions) -> bool:
        """Rootless stand-ins when the kernel refuses a fresh filesystem here."""
        if exc.errno not in (errno.EPERM, errno.EACCES, errno.EBUSY, errno.ENODEV):
            return False
        if mtype == "sysfs":  # the netns is not ours (host network): the host's /sys, read-only
            self.sc.mount("/sys", fd_path(fd), None, MS_BIND | MS_REC)
            self._remount_tree_fd(fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
            return True
        if mtype == "proc":  # the pid namespace is not ours: the host's /proc
            self.sc.mount("/proc", fd_path(fd), None, MS_BIND | MS_REC)
            return True
        if mtype in ("cgroup", "cgroup2", "mqueue"):
            self.warnings.append(f"{mtype} not mounted: {exc}")
            return True
        return False

    def _bind(self, source: str, dest: str, opts: MountOptions) -> None:
        src_fd = os.open(source, os.O_PATH | os.O_CLOEXEC)  # host side: the engine chose it
        flags = MS_BIND | (MS_REC if opts.recursive else 0)
        self._place(src_fd, dest, opts, lambda fd: self.sc.mount(fd_path(src_fd), fd_path(fd), None, flags))

    def _attach(self, mnt_fd: int, dest: str, opts: MountOptions) -> None:
        """A bind whose source the caller cloned before our user namespace existed."""
        self._place(mnt_fd, dest, opts, lambda fd: self.sc.move_mount_onto_fd(mnt_fd, fd))

    def _place(self, src_fd: int, dest: str, opts: MountOptions, put: Callable[[int], None]) -> None:
        """put(target fd) onto `dest` opened in the rootfs (a directory or a file, as the
        source is), refusing /proc targets; then the remount flags and propagation.
        Closes src_fd."""
        try:
            is_dir = stat.S_ISDIR(os.fstat(src_fd).st_mode)
            fd = self.open_target(dest, directory=is_dir)
            try:
                self._check_proc_target(fd, dest, "bind")
                put(fd)
            finally:
                os.close(fd)
        finally:
            os.close(src_fd)
        extra = opts.flags & ~MS_REMOUNT
        if extra:
            self._at(dest, lambda p: self.remount(p, extra))
        if opts.propagation:
            self._at(dest, lambda p: self.sc.mount(None, p, None, opts.propagation))

    # -- /proc and /sys (CVE-2019-19921, CVE-2023-27561, CVE-2023-28642) -----------------------
    def _refuse_symlinked_pseudo_fs(self, dest: str, mtype: str) -> None:
        """An image whose /proc or /sys is a symlink (or a file) would move procfs where
        the LSM profiles and masks do not expect it: refuse, as runc does."""
        norm = os.path.normpath("/" + dest.lstrip("/"))
        if norm not in ("/proc", "/sys"):
            return
        assert self.root is not None
        try:
            parent, name = self.root.open_parent(os.fsencode(norm), create=False)
        except (SyscallError, OSError):
            return  # nothing there yet: it is created as a directory
        try:
            if name is None:
                return
            try:
                st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return
            if not stat.S_ISDIR(st.st_mode):
                kind = mtype if mtype in ("proc", "sysfs") else ("proc" if norm == "/proc" else "sysfs")
                raise HullError(f'filesystem "{kind}" must be mounted on ordinary directory')
        finally:
            os.close(parent)

    def _check_proc_target(self, fd: int, dest: str, mtype: str) -> None:
        """Only procfs itself goes on /proc, and only lxcfs's files are bound under it
        (runc's checkProcMount), judged on where the destination really resolved."""
        where = os.readlink(fd_path(fd))
        rel = "/" + os.path.relpath(where, self.rootfs) if where != self.rootfs else "/"
        if rel == "/proc":
            if mtype == "proc":
                return
            raise HullError(f'"{dest}" cannot be mounted because it is not of type proc')
        if rel.startswith("/proc/") and not (mtype == "bind" and rel in PROC_BIND_ALLOWED):
            raise HullError(f'"{dest}" cannot be mounted because it is inside /proc')

    # -- resolution inside the rootfs ------------------------------------------------------
    def open_target(self, dest: str, *, directory: bool = True, create: bool = True) -> int:
        """O_PATH fd of `dest` resolved in the rootfs; missing mount points are created there."""
        assert self.root is not None
        raw = os.fsencode(dest)
        if directory:
            fd = self.root.open_dir(raw, create=create)
        else:
            parent, name = self.root.open_parent(raw, create=create)
            try:
                if name is None:
                    return parent
                try:
                    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                     0o644, dir_fd=parent))
                    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                if stat.S_ISLNK(os.fstat(fd).st_mode):  # a dangling in-root symlink: never mount on it
                    os.close(fd)
                    raise SyscallError("open", errno.ELOOP, dest)
            finally:
                if name is not None:
                    os.close(parent)
        self._check_inside(fd, dest)
        return fd

    def _check_inside(self, fd: int, dest: str) -> None:
        where = os.readlink(fd_path(fd))
        if where != self.rootfs and not where.startswith(self.rootfs.rstrip("/") + "/"):
            os.close(fd)
            raise SyscallError("mount", errno.EXDEV, f"{dest} (resolves outside the rootfs: {where})")

    def _at(self, dest: str, action) -> None:
        """Run `action(path)` on the mount now at `dest` (re-resolved: the old fd is below it)."""
        fd = self.open_target(dest, directory=True, create=False) if self._is_dir(dest) else \
            self.open_target(dest, directory=False, create=False)
        try:
            action(fd_path(fd))
        finally:
            os.close(fd)

    def _is_dir(self, dest: str) -> bool:
        assert self.root is not None
        try:
            fd = self.root.open_dir(os.fsencode(dest))
        except SyscallError:
            return False
        os.close(fd)
        return True

    # -- remounts ----------------------------------------------------------------------------
    def remount(self, path: str, flags: int) -> None:
        try:
            self.sc.mount(None, path, None, MS_REMOUNT | MS_BIND | flags)
        except SyscallError as exc:
            if exc.errno != errno.EPERM:
                raise
            # In a user namespace the host's nosuid/nodev/... are locked: keep them.
            locked = os.statvfs(path).f_flag & _LOCKED
            self.sc.mount(None, path, None, MS_REMOUNT | MS_BIND | flags | locked)

    def _remount_fd(self, fd: int, flags: int) -> None:
        # fd is the mount point under the new mount: re-resolve through its path
        self._remount_at(os.readlink(fd_path(fd)), flags)

    def _remount_at(self, point: str, flags: int) -> None:
        """Remount the mount at `point` (a path under the rootfs); preopened, its host
        path is not walkable by us: re-resolved inside the rootfs instead."""
        if self.preopened is None:
            self.remount(point, flags)
            return
        rel = "/" + os.path.relpath(point, self.rootfs) if point != self.rootfs else "/"
        self._at(rel, lambda p: self.remount(p, flags))

    def _remount_tree_fd(self, fd: int, flags: int) -> None:
        """Remount a recursive bind and every mount under it with `flags`: a bind
        remount changes one mount only, and the host's submounts (each cgroup v1
        hierarchy under /sys/fs/cgroup) would stay writable from the container."""
        top = os.readlink(fd_path(fd))
        prefix = top.rstrip("/") + "/"
        points = [top]
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
                point = point.replace("\\134", "\\")
                if point.startswith(prefix):
                    points.append(point)
        for point in sorted(set(points), key=len):  # parents first
            self._remount_at(point, flags)

    # -- /dev ------------------------------------------------------------------------------
    def make_devices(self, mounted_dev: bool) -> None:
        assert self.root is not None
        devices = [(f"/dev/{name}", "c", major, minor, 0o666, 0, 0) for name, major, minor in DEFAULT_DEVICES]
        for d in self.linux.get("devices") or []:
            devices.append((d["path"], d.get("type", "c"), d.get("major", 0), d.get("minor", 0),
                            d.get("fileMode", 0o666), d.get("uid", 0), d.get("gid", 0)))
        seen: set[str] = set()
        for path, kind, major, minor, mode, uid, gid in devices:
            if path in seen:
                continue
            seen.add(path)
            self.make_device(path, kind, major, minor, mode, uid, gid)
        dev_fd = self.root.open_dir(b"/dev", create=True)
        try:
            for name, target in DEV_SYMLINKS:
                if name == "core" and not os.path.exists("/proc/kcore"):
                    continue
                try:
                    os.symlink(target, name, dir_fd=dev_fd)
                except FileExistsError:
                    pass
            try:
                os.unlink("ptmx", dir_fd=dev_fd)
            except FileNotFoundError:
                pass
            os.symlink("pts/ptmx", "ptmx", dir_fd=dev_fd)
        finally:
            os.close(dev_fd)

    def make_device(self, path: str, kind: str, major: int, minor: int, mode: int, uid: int, gid: int) -> None:
        assert self.root is not None
        parent, name = self.root.open_parent(os.fsencode(path), create=True)
        if name is None:
            os.close(parent)
            return
        try:
            try:  # whatever the image has there goes (a symlink must not redirect the node)
                os.unlink(name, dir_fd=parent)
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                return
            if self.in_userns or kind not in ("c", "u", "b"):
                if kind == "p":
                    os.mkfifo(name, mode & 0o7777, dir_fd=parent)
                    return
                # mknod is refused in a user namespace: bind the host's node instead.
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                 0o000, dir_fd=parent))
                fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                try:
                    self._check_inside(fd, path)
                    src = self.open_host_device(os.path.basename(path), kind, major, minor)
                    try:
                        self.sc.mount(fd_path(src), fd_path(fd), None, MS_BIND)
                    finally:
                        os.close(src)
                finally:
                    os.close(fd)
                return
            ftype = stat.S_IFBLK if kind == "b" else stat.S_IFCHR
            os.mknod(name, ftype | (mode & 0o7777), os.makedev(major, minor), dir_fd=parent)
            os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
            os.chmod(name, mode & 0o7777, dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(parent)

    def write_sysctls(self) -> None:
        """linux.sysctl through the private procfs handle, not the container's /proc (a
        bind or symlink there could redirect the write, CVE-2025-52881); the values
        follow our namespaces (net, ipc, uts), whichever procfs instance opens them.
        Dots become slashes, so a key has no `..`; the handle refuses leaving procfs."""
        sysctls = self.linux.get("sysctl") or {}
        if not sysctls:
            return
        proc = self.proc or ProcfsHandle.open()
        try:
            for key, value in sysctls.items():
                proc.write("sys/" + key.replace(".", "/"), str(value))
        finally:
            if proc is not self.proc:
                proc.close()

    # -- masked and read-only paths -----------------------------------------------------
    def mask(self, path: str) -> None:
        """Hide `path`: /dev/null over a file, an empty read-only tmpfs over a directory."""
        assert self.root is not None
        try:
            fd = self.open_target(path, directory=False, create=False)
        except (SyscallError, FileNotFoundError, NotADirectoryError) as exc:
            if isinstance(exc, SyscallError) and exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise
            return  # nothing there: nothing to hide
        try:
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                self.sc.mount("tmpfs", fd_path(fd), "tmpfs", MS_RDONLY, "size=0k")
            else:
                null = self.open_host_device("null", "c", 1, 3)
                try:
                    self.sc.mount(fd_path(null), fd_path(fd), None, MS_BIND)
                finally:
                    os.close(null)
        finally:
            os.close(fd)

    def open_host_device(self, name: str, kind: str, major: int, minor: int) -> int:
        """O_PATH fd of the host's device node `name`, checked to be that very device.
        The bind goes through this fd, so a /dev/null swapped for a symlink or another
        file between the check and the mount cannot become a read-write bind of
        something else (CVE-2025-31133)."""
        path = os.path.join(self.host_dev, name)
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        st = os.fstat(fd)
        want = stat.S_ISBLK if kind == "b" else stat.S_ISCHR
        if not want(st.st_mode) or st.st_rdev != os.makedev(major, minor):
            os.close(fd)
            raise HullError(f"{path} is not the device {major}:{minor}: refusing to bind it into the container")
        return fd

    def make_readonly(self, path: str) -> None:
        try:
            fd = self.open_target(path, directory=False, create=False)
        except (SyscallError, FileNotFoundError, NotADirectoryError) as exc:
            if isinstance(exc, SyscallError) and exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise
            return
        try:
            self.sc.mount(fd_path(fd), fd_path(fd), None, MS_BIND | MS_REC)
        finally:
            os.close(fd)
        self._at(path, lambda p: self.remount(p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))


def bind_console(sc, slave: int) -> None:
    """/dev/console is the container's own pty, as runc and crun make it for a
    terminal: the slave is bound through its already open fd (a /dev/pts/N name
    could be swapped, CVE-2025-52565).  Runs after pivot_root, before anything of
    the image runs: the mount point is made (or found) without following symlinks."""
    dev = os.open("/dev", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            fd = os.open("console", os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dev)
        except FileNotFoundError:
            os.close(os.open("console", os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o600, dir_fd=dev))
            fd = os.open("console", os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dev)
    finally:
        os.close(dev)
    try:
        if stat.S_ISLNK(os.fstat(fd).st_mode) or stat.S_ISDIR(os.fstat(fd).st_mode):
            raise SyscallError("mount", errno.ELOOP, "/dev/console (not a file)")
        sc.mount(fd_path(slave), fd_path(fd), None, MS_BIND)
    finally:
        os.close(fd)
