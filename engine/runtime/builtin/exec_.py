"""`exec`: a new process in a running container's namespaces.

The forked child opens the container's /proc/<pid>/ns/* (and its cgroup), joins
them (mount last: it also moves root and cwd into the container), forks once more
so the process is inside the pid namespace, applies the process's user, env, cwd,
capabilities, no_new_privs and seccomp, and execs.  Nothing but the pre-loaded
Python runs inside; the parent learns of success by the channel closing at exec.
"""

from __future__ import annotations

import os
import socket

from engine.errors import SyscallError
from engine.runtime.builtin import process as proc
from engine.runtime.builtin import sync
from engine.runtime.builtin.init import NS_FLAGS, NS_PROC, reset_signals, seal_imports
from engine.runtime.builtin.nsorder import owner_ino
from engine.runtime.procfs import ProcfsHandle
from engine.runtime.syscalls import CLONE_NEWNS, CLONE_NEWUSER

ORDER = ["user", "cgroup", "ipc", "uts", "network", "pid", "mount"]


def exec_child(sc, target_pid: int, spec: dict, process: dict, chan: socket.socket, *, cgroup: str,
               stdio: tuple, terminal_fd: int | None, console: bool) -> None:
    """The forked child. Never returns."""
    try:
        reset_signals()
        if cgroup:
            try:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                    f.write("0")
            except OSError:
                pass
        wanted = {ns["type"] for ns in (spec.get("linux") or {}).get("namespaces") or []}
        # our own /proc, before the container's mount namespace hides it (procfs.py)
        handle = ProcfsHandle.open() if process.get("oomScoreAdj") is not None else None
        fds = []
        try:
            for kind in ORDER:
                if kind not in wanted:
                    continue
                path = f"/proc/{target_pid}/ns/{NS_PROC[kind]}"
                if kind != "user" and os.stat(path).st_ino == os.stat(f"/proc/self/ns/{NS_PROC[kind]}").st_ino:
                    continue  # already there (setns into our own mount ns would still chroot)
                fds.append((os.open(path, os.O_RDONLY | os.O_CLOEXEC), NS_FLAGS[kind], kind))
            # namespaces the container's user namespace does not own (its netns file)
            # first, while we still hold our capabilities over their owner (nsorder.py)
            user_fd = next((fd for fd, flag, _ in fds if flag == CLONE_NEWUSER), None)
            if user_fd is not None:
                target = os.fstat(user_fd).st_ino
                early = [e for e in fds if e[1] not in (CLONE_NEWUSER, CLONE_NEWNS) and owner_ino(e[0]) != target]
                fds = early + [e for e in fds if e not in early]
            for fd, flag, kind in fds:
                if flag == CLONE_NEWUSER and os.fstat(fd).st_ino == os.stat("/proc/self/ns/user").st_ino:
                    continue
                sc.setns(fd, flag)
        finally:
            for fd, _, _ in fds:
                os.close(fd)
        if "mount" in wanted and not any(f == CLONE_NEWNS for _, f, _ in fds):
            raise SyscallError("setns", 22, "(container mount namespace)")
        seal_imports()
        pid = os.fork()
        if pid:
            sync.send(chan, {"pid": pid})
            os._exit(0)
        os.chdir("/")
        path, env = proc.become(sc, chan, process, (spec.get("linux") or {}).get("seccomp"),
                                stdio=stdio, terminal_fd=terminal_fd, console=console, proc=handle)
        try:  # mark, not close: the channel closes at exec, telling the parent it worked
            sc.close_range(3, 0xFFFFFFFF, 4)
        except SyscallError:
            pass
        os.execve(path, process["args"], env)
    except BaseException as exc:  # noqa: BLE001
        try:
            sync.send(chan, sync.error_message(exc))
        finally:
            os._exit(127 if isinstance(exc, FileNotFoundError) else 1)
