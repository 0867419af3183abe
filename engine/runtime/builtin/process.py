"""The container process's own settings, applied just before exec: rlimits,
oom_score_adj, user and groups, capabilities, no_new_privs, seccomp, cwd,
terminal, and the PATH lookup of the program (inside the container's root).

Shared by create (the container's first process) and exec (a process joining it).
"""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import stat
import struct
import termios

from engine.errors import CannotInvoke, CommandNotFound, SyscallError
from engine.runtime import capabilities, seccomp_load
from engine.runtime.builtin import sync
from engine.runtime.procfs import NotProcfs, ProcfsHandle
from engine.runtime.syscalls import PR_SET_NO_NEW_PRIVS

RLIMITS = {name: getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430


def apply_rlimits(process: dict) -> None:
    """setrlimit each limit, clamped to the hard limit we have (raising it needs CAP_SYS_RESOURCE
    in the initial namespace: clamp, never fail)."""
    for rl in process.get("rlimits") or []:
        res = RLIMITS.get(rl.get("type", ""))
        if res is None:
            continue
        soft, hard = int(rl.get("soft", 0)), int(rl.get("hard", 0))
        try:
            resource.setrlimit(res, (soft, hard))
            continue
        except (ValueError, OSError):
            pass
        cur_hard = resource.getrlimit(res)[1]
        cap = lambda v: v if cur_hard == resource.RLIM_INFINITY else min(v, cur_hard)  # noqa: E731
        try:
            resource.setrlimit(res, (cap(min(soft, hard)), cap(hard)))
        except (ValueError, OSError):
            pass


def apply_oom_score_adj(process: dict, proc=None) -> None:
    """Through `proc`, the runtime's private procfs handle taken before the container's
    mounts were visible (engine/runtime/procfs.py): the container's own /proc could send
    the write elsewhere (CVE-2025-52881).  Without one, the /proc we see now is used, verified."""
    adj = process.get("oomScoreAdj")
    if adj is None:
        return
    handle = proc
    try:
        if handle is None:
            handle = ProcfsHandle.open()
        handle.write("self/oom_score_adj", str(int(adj)))
    except NotProcfs:
        raise
    except (OSError, SyscallError):
        pass  # lowering it needs CAP_SYS_RESOURCE in the initial namespace: best effort
    finally:
        if handle is not None and handle is not proc:
            handle.close()


def lookup_executable(args: list[str], env: dict[str, str], cwd: str) -> str:
    """The program's path inside the (already pivoted) root, as execvp would find it."""
    if not args:
        raise CommandNotFound("no command specified")
    prog = args[0]
    if "/" in prog:
        candidates = [prog if prog.startswith("/") else os.path.join(cwd, prog)]
    else:
        candidates = [os.path.join(d or ".", prog) for d in env.get("PATH", DEFAULT_PATH).split(":")]
    denied = None
    for path in candidates:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            denied = path
            continue
        if os.access(path, os.X_OK):
            return path
        denied = path
    if denied is not None:
        raise CannotInvoke(f"{prog}: permission denied: OCI permission denied")
    if "/" in prog:
        raise CommandNotFound(f"{prog}: no such file or directory: OCI runtime attempted to invoke a "
                              f"command that was not found")
    raise CommandNotFound(f"{prog}: executable file not found in $PATH: No such file or directory: "
                          f"OCI runtime attempted to invoke a command that was not found")


def env_dict(process: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in process.get("env") or []:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def set_user(process: dict) -> None:
    user = process.get("user") or {}
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    groups = [int(g) for g in user.get("additionalGids") or []]
    try:
        os.setgroups(groups)
    except PermissionError:
        if groups:  # setgroups denied in this user namespace (single-id map)
            raise
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if user.get("umask") is not None:
        os.umask(int(user["umask"]))


def set_cwd(process: dict) -> None:
    cwd = process.get("cwd") or "/"
    os.chdir(cwd)
    # CVE-2024-21626: a cwd reached through a leaked fd is outside the root: getcwd says so.
    try:
        where = os.getcwd()
    except FileNotFoundError:
        raise SyscallError("chdir", errno.ENOENT, f"{cwd} (current working directory is outside of container mount namespace root)") from None
    if not where.startswith("/"):
        raise SyscallError("chdir", errno.ENOENT, f"{cwd} (outside of the container root)")


def apply_security(sc, process: dict, seccomp: dict | None) -> None:
    """User, capabilities, no_new_privs, seccomp: runc's order."""
    sets = capabilities.CapSets.from_spec(process.get("capabilities"))
    nnp = bool(process.get("noNewPrivileges"))
    if seccomp and not nnp:  # without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it first
        seccomp_load.load(seccomp, False, sc)
    capabilities.drop_bounding(sc, sets)
    capabilities.keep_caps(sc, True)
    set_user(process)
    capabilities.keep_caps(sc, False)
    capabilities.apply_sets(sc, sets)
    if nnp:
        sc.prctl(PR_SET_NO_NEW_PRIVS, 1)
    if seccomp and nnp:  # as late as possible: the filter may forbid what set-up needs
        seccomp_load.load(seccomp, True, sc)


def open_pty_inside(uid: int) -> tuple[int, int]:
    """(master, slave) of a new pty from the container's own /dev/ptmx (so `tty` says /dev/pts/0)."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, TIOCSPTLCK, b"\0\0\0\0")
    number = int.from_bytes(fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"), "little")
    slave = os.open(f"/dev/pts/{number}", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    if uid:
        try:
            os.fchown(slave, uid, -1)
        except OSError:
            pass
    return master, slave


def set_console_size(master: int, size: dict | None) -> None:
    """process.consoleSize on the new pty, as crun does: the first prompt already has
    the client's terminal size (a later resize may come after it)."""
    if not isinstance(size, dict):
        return
    rows, cols = int(size.get("height") or 0), int(size.get("width") or 0)
    if rows > 0 and cols > 0:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def take_terminal(slave: int) -> None:
    """New session with `slave` as controlling terminal on 0, 1, 2."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for n in (0, 1, 2):
        os.dup2(slave, n)
    if slave > 2:
        os.close(slave)


def set_stdio(fds: tuple[int | None, int | None, int | None]) -> None:
    """dup2 the given fds onto 0, 1, 2 (None: keep what is there)."""
    # dup everything first: a target number may be one of the sources
    tmp = [os.dup(fd) if fd is not None else None for fd in fds]
    for n, fd in enumerate(tmp):
        if fd is not None:
            os.dup2(fd, n)
            os.close(fd)


def become(sc, chan, process: dict, seccomp: dict | None, *, stdio: tuple, terminal_fd: int | None,
           console: bool, bind_console=None, proc=None) -> tuple[str, dict[str, str]]:
    """Turn the calling child into the container's process, in the order both the
    first process (create) and exec need: stdio or terminal, rlimits, oom score,
    security (user, capabilities, no_new_privs, seccomp), cwd; then the program's
    path inside the container.  Returns (path, env) for execve.

    console: make a pty inside the container and send its master over `chan`;
    bind_console(slave), when given, is called with the slave first (/dev/console);
    proc: the runtime's private procfs handle (engine/runtime/procfs.py), closed here."""
    if console:
        master, slave = open_pty_inside(int((process.get("user") or {}).get("uid", 0)))
        set_console_size(master, process.get("consoleSize"))
        if bind_console is not None:
            bind_console(slave)
        sync.send(chan, {"console": True}, [master])
        os.close(master)
        take_terminal(slave)
    elif terminal_fd is not None:
        take_terminal(terminal_fd)
    else:
        set_stdio(stdio)
    apply_rlimits(process)
    try:
        apply_oom_score_adj(process, proc)
    finally:
        if proc is not None:
            proc.close()  # nothing of the container's may inherit it
    apply_security(sc, process, seccomp)
    set_cwd(process)
    env = env_dict(process)
    return lookup_executable(process.get("args") or [], env, os.getcwd()), env


def close_fds(sc, keep_from: int = 3) -> None:
    try:
        sc.close_range(keep_from)
    except SyscallError:
        os.closerange(keep_from, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
