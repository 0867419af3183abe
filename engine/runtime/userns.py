"""Rootless Hull runs inside one user + mount namespace per user; this joins it.

`ensure_in_userns(cfg)` is called early by every rootless command that touches
storage or containers: it setns-joins the pause process (engine/runtime/pause.py),
creating it first when needed.  Afterwards the process is uid 0 in the
namespace with all capabilities there, and `_HULL_USERNS_CONFIGURED=1` tells
child processes they are inside already.  `run_in_userns(cfg, argv)` is
`hull unshare`: join, then exec a command.

Both must run while the process is single-threaded: the kernel refuses setns
into a user namespace (and into a mount namespace) from a threaded process.

    python -m engine.runtime.userns unshare [-- CMD ...]   # without the CLI
"""

from __future__ import annotations

import errno
import os
import sys

from engine.config import EngineConfig, ensure_private_dir
from engine.errors import CannotInvoke, CommandNotFound, HullError, InvalidArgument, SyscallError
from engine.runtime.idmap import is_identity_map, parse_proc_map, user_id_maps
from engine.runtime.pause import PauseError, PauseProcess, ensure_pause, read_pause

MARKER = "_HULL_USERNS_CONFIGURED"


def _identity_uid_map() -> bool:
    try:
        with open("/proc/self/uid_map") as f:
            return is_identity_map(parse_proc_map(f.read()))
    except OSError:
        return True


def in_user_namespace() -> bool:
    """True inside any user namespace but the initial one (ours or another engine's)."""
    return not _identity_uid_map()


def needs_userns() -> bool:
    """An unprivileged user in the host's namespace: Hull must join its own first."""
    return os.geteuid() != 0 and _identity_uid_map()


def _check_single_threaded() -> None:
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        return
    if threads > 1:
        raise PauseError(f"cannot join the user namespace from a process with {threads} threads")


def _warn_and_build_maps():
    maps = user_id_maps()
    if maps.warning:
        print(f"hull: warning: {maps.warning}", file=sys.stderr)
    return maps


def _join(proc: PauseProcess) -> None:
    from engine.runtime.syscalls import CLONE_NEWNS, CLONE_NEWUSER, SYSCALLS

    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None  # deleted directory: the new namespace's / will do
    user_fd = os.open(proc.ns_path("user"), os.O_RDONLY | os.O_CLOEXEC)
    try:
        mnt_fd = os.open(proc.ns_path("mnt"), os.O_RDONLY | os.O_CLOEXEC)
        try:
            # The pid could have been recycled between reading the pid file and the opens.
            if not proc.alive():
                raise SyscallError("setns", errno.ESRCH, "(pause process is gone)")
            SYSCALLS.setns(user_fd, CLONE_NEWUSER)
            SYSCALLS.setns(mnt_fd, CLONE_NEWNS)
        finally:
            os.close(mnt_fd)
    finally:
        os.close(user_fd)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    if cwd:
        try:
            os.chdir(cwd)  # setns(CLONE_NEWNS) moved us to the namespace's root
        except OSError:
            pass


def _export(cfg: EngineConfig, env: dict[str, str]) -> None:
    env[MARKER] = "1"
    # Inside, geteuid() is 0: nested hull calls must not switch to root's paths.
    env["HULL_ROOT"] = str(cfg.root)
    env["HULL_RUNROOT"] = str(cfg.runroot)


def ensure_in_userns(cfg: EngineConfig) -> None:
    """Join (or create, then join) Hull's user and mount namespace; no-op as root or inside."""
    if not needs_userns():
        return
    _check_single_threaded()
    ensure_private_dir(cfg.runroot)
    for attempt in (1, 2):
        proc, _created = ensure_pause(cfg.runroot, _warn_and_build_maps)
        try:
            _join(proc)
            break
        except (SyscallError, FileNotFoundError, ProcessLookupError) as exc:
            # The pause process died under us: once more, which creates a new one.
            if attempt == 2 or read_pause(cfg.runroot) == proc:
                raise PauseError(f"cannot join the user namespace of pause process {proc.pid}: {exc}") from None
    _export(cfg, os.environ)  # type: ignore[arg-type]


def run_in_userns(cfg: EngineConfig, argv: list[str]) -> None:
    """`hull unshare`: exec `argv` (default $SHELL) in Hull's namespace; never returns.

    Raises CommandNotFound (exit 127) or CannotInvoke (126) when exec fails.
    """
    if os.geteuid() == 0 and not in_user_namespace():
        raise InvalidArgument("please use unshare with rootless")
    ensure_in_userns(cfg)
    argv = argv or [os.environ.get("SHELL") or "/bin/sh"]
    env = dict(os.environ)
    _export(cfg, env)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        raise CommandNotFound(f"exec: {argv[0]!r}: executable file not found in $PATH") from None
    except OSError as exc:
        raise CannotInvoke(f"exec: {argv[0]!r}: {exc.strerror}") from None


def _main(args: list[str]) -> int:
    if not args or args[0] != "unshare":
        print("usage: python -m engine.runtime.userns unshare [-- CMD ...]", file=sys.stderr)
        return 125
    rest = args[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    try:
        run_in_userns(EngineConfig(), rest)
    except HullError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0  # not reached: run_in_userns execs


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
