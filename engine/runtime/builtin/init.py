"""What runs in the forked children: namespaces, then the container's first process.

Why fork and not a fresh helper interpreter: the caller (the monitor) is a small
single-threaded process, so a fork costs about a millisecond where a new Python
costs 20-30 ms, and everything the child needs (modules, cffi declarations,
libc and libseccomp) is loaded before the fork.  That last point is a security
rule: after pivot_root nothing may be imported or dlopen'ed, because it would
come from the image; `seal_imports` makes any late import fail instead.

  caller --fork--> intermediate: cgroup, setns the paths the outer user ns owns
                   (nsorder.py), user ns (+ id maps), unshare/setns the rest,
                   unshare(CLONE_NEWPID) --fork--> init (PID 1 inside);
                   the intermediate reports init's pid and exits.
  init: mounts, pivot_root, hostname, sysctl, rlimits, user, caps, seccomp, cwd,
        PATH lookup, "ready" -> waits on exec.fifo -> close fds -> execve.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import struct
import sys
from pathlib import Path

from engine.errors import SyscallError
from engine.runtime.builtin import process as proc
from engine.runtime.builtin import sync
from engine.runtime.builtin.cgroups import join as join_cgroup
from engine.runtime.builtin.mounts import RootfsBuilder, bind_console
from engine.runtime.builtin.nsorder import joined_before_user
from engine.runtime.syscalls import (CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID,
                                     CLONE_NEWUSER, CLONE_NEWUTS)

NS_FLAGS = {"mount": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC, "network": CLONE_NEWNET,
            "cgroup": CLONE_NEWCGROUP, "pid": CLONE_NEWPID, "user": CLONE_NEWUSER}
NS_PROC = {"mount": "mnt", "uts": "uts", "ipc": "ipc", "network": "net", "cgroup": "cgroup",
           "pid": "pid", "user": "user"}
CLOSE_RANGE_CLOEXEC = 4


def reset_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ; ignored signals survive execve: undo that."""
    for sig in range(1, signal.NSIG):
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def seal_imports() -> None:
    """After pivot_root, sys.path names directories of the image: import nothing."""
    sys.path[:] = []
    sys.path_hooks[:] = []
    sys.path_importer_cache.clear()
    sys.meta_path[:] = [m for m in sys.meta_path if getattr(m, "__name__", "") == "BuiltinImporter"]


def namespaces(spec: dict) -> list[dict]:
    return list((spec.get("linux") or {}).get("namespaces") or [])


def enter_namespaces(sc, nss: list[dict], skip: set[str]) -> None:
    """setns the ones with a path, unshare the others (pid: only for our children)."""
    fds = []
    try:
        for ns in nss:
            if ns["type"] in skip:
                continue
            if ns.get("path"):
                fds.append((os.open(ns["path"], os.O_RDONLY | os.O_CLOEXEC), NS_FLAGS[ns["type"]], ns["path"]))
        for fd, flag, path in fds:
            try:
                sc.setns(fd, flag)
            except SyscallError as exc:
                raise SyscallError("setns", exc.errno, path) from None
    finally:
        for fd, _, _ in fds:
            os.close(fd)
    flags = 0
    for ns in nss:
        if ns["type"] not in skip and not ns.get("path"):
            flags |= NS_FLAGS.get(ns["type"], 0)
    if flags:
        sc.unshare(flags)


def write_id_maps(pid: int, spec: dict) -> None:
    """Map the child's new user namespace: directly (we hold CAP_SETUID over the
    range), else through newuidmap/newgidmap."""
    import subprocess

    linux = spec.get("linux") or {}
    for kind, key, helper in (("uid", "uidMappings", "newuidmap"), ("gid", "gidMappings", "newgidmap")):
        maps = linux.get(key) or []
        text = "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in maps)
        try:
            if kind == "gid" and os.geteuid() != 0:
                Path(f"/proc/{pid}/setgroups").write_text("deny")
            Path(f"/proc/{pid}/{kind}_map").write_text(text)
        except OSError:
            argv = [helper, str(pid)] + [str(v) for m in maps for v in (m["containerID"], m["hostID"], m["size"])]
            result = subprocess.run(argv, capture_output=True, text=True)
            if result.returncode != 0:
                raise SyscallError(helper, errno.EPERM, result.stderr.strip().splitlines()[-1:][0]
                                   if result.stderr.strip() else "")


def bring_loopback_up() -> None:
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def intermediate(sc, spec: dict, chan: socket.socket, cgroup: Path | None, init_args: dict) -> None:
    """First child: enter/create namespaces, fork init, report its pid. Never returns."""
    code = 1
    try:
        reset_signals()
        join_cgroup(cgroup)
        nss = namespaces(spec)
        user = next((ns for ns in nss if ns["type"] == "user"), None)
        if user is not None:
            # existing namespaces the outer user namespace owns (the netns file of pasta
            # or a bridge) first: inside the new one we hold no capability over them
            target = os.stat(user["path"]).st_ino if user.get("path") else None
            early = [ns for ns in nss if ns["type"] != "user" and ns.get("path")
                     and joined_before_user(ns["path"], target)]
            enter_namespaces(sc, early, set())
            nss = [ns for ns in nss if not any(ns is e for e in early)]
            if user.get("path"):
                enter_namespaces(sc, [user], set())
            else:
                sc.unshare(CLONE_NEWUSER)
                sync.send(chan, {"map": os.getpid()})
                reply = sync.Reader(chan).next()
                if not reply or not reply.get("mapped"):
                    os._exit(1)
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        enter_namespaces(sc, nss, {"user"})
        pid = os.fork()
        if pid == 0:
            container_init(sc, spec, chan, **init_args)  # never returns
        sync.send(chan, {"pid": pid})
        code = 0
    except BaseException as exc:  # noqa: BLE001  (report anything, then exit)
        try:
            sync.send(chan, sync.error_message(exc))
        except OSError:
            pass
    finally:
        os._exit(code)


def container_init(sc, spec: dict, chan: socket.socket, *, fifo_fd: int, stdio: tuple, terminal_fd: int | None,
                   console: bool, in_userns: bool, extra_fds: tuple[int, ...] = ()) -> None:
    """The container's process until exec. Never returns."""
    process = spec.get("process") or {}
    linux = spec.get("linux") or {}
    try:
        # fifo_fd: exec.fifo opened O_RDWR by the caller; `start` writes the byte we wait for
        nstypes = {ns["type"] for ns in namespaces(spec)}
        builder = RootfsBuilder(sc, spec, in_userns or "user" in nstypes)
        builder.prepare()
        builder.finish()
        seal_imports()
        if "uts" in nstypes and spec.get("hostname"):
            sc.sethostname(spec["hostname"])
        if "network" in nstypes and not any(ns.get("path") for ns in namespaces(spec) if ns["type"] == "network"):
            try:
                bring_loopback_up()
            except OSError:
                pass
        path, _env = proc.become(sc, chan, process, linux.get("seccomp"), stdio=stdio,
                                terminal_fd=terminal_fd, console=console,
                                bind_console=lambda slave: bind_console(sc, slave))
        sync.send(chan, {"ready": True})
    except BaseException as exc:  # noqa: BLE001
        try:
            sync.send(chan, sync.error_message(exc))
        finally:
            os._exit(1)
    try:  # the creator saved its state (it can kill us now); its end instead: nobody will start us
        saved = sync.Reader(chan).next()
    except BaseException:  # noqa: BLE001
        saved = None
    if not saved or not saved.get("saved"):
        os._exit(1)
    chan.close()
    wait_and_exec(sc, fifo_fd, path, process, extra_fds)


def wait_and_exec(sc, fifo_fd: int | None, path: str, process: dict, extra_fds: tuple[int, ...] = ()) -> None:
    if fifo_fd is not None:
        try:
            got = os.read(fifo_fd, 1)
        except OSError:
            got = b""
        os.close(fifo_fd)
        if not got:
            os._exit(1)
    exec_program(sc, path, process, extra_fds)


def exec_program(sc, path: str, process: dict, extra_fds: tuple[int, ...] = ()) -> None:
    """close every fd >= 3 (but `extra_fds`, placed at 3.. first: socket activation) and
    execve; a failure exits 127/126 with runc's message on stderr."""
    if extra_fds:  # sources moved above the targets first: one may sit on a target number
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3 + len(extra_fds) + 16) for fd in extra_fds]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)  # inheritable
            os.close(fd)
    first = 3 + len(extra_fds)
    try:
        sc.close_range(first, 0xFFFFFFFF, 0)
    except SyscallError:
        os.closerange(first, 1 << 20)
    args = process.get("args") or []
    try:
        os.execve(path, args, proc.env_dict(process))
    except OSError as exc:
        code = 127 if exc.errno == errno.ENOENT else 126
        try:
            os.write(2, f"exec {args[0] if args else path}: {exc.strerror}\n".encode())
        finally:
            os._exit(code)
    os._exit(127)


__all__ = ["intermediate", "container_init", "exec_program"]
