"""systemd socket activation into a container, as Podman: when `hull run`/`start` is
started with LISTEN_FDS=N (systemd, systemd-socket-activate), its fds 3..3+N-1 go to
the monitor (over the sync socket, with the config), from it to the create helper,
and the runtime gives them to the container's process as 3..3+N-1 (builtin: placed
before exec; crun/runc: `--preserve-fds N`).  config.json's env gets LISTEN_FDS=N,
LISTEN_PID=1 (the container's process is pid 1 of its pid namespace; Podman sets the
same) and the caller's LISTEN_FDNAMES.

Nothing of this runs when LISTEN_FDS is unset, except one stat for the marker file
that says an earlier start put LISTEN_* into config.json (removed again then).
"""

from __future__ import annotations

import os

MARK = "listen-env"  # in userdata: config.json carries our LISTEN_* entries
MAX_FDS = 64
_KEYS = ("LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=")


def inherited() -> tuple[list[int], str]:
    """(fds 3..3+N-1, LISTEN_FDNAMES) when LISTEN_FDS=N and LISTEN_PID is this process
    (as sd_listen_fds and the API service check), the variables then taken out of our
    environment (nothing started later sees them again); else ([], "")."""
    text = os.environ.get("LISTEN_FDS")
    if not text or os.environ.get("LISTEN_PID", str(os.getpid())) != str(os.getpid()):
        return [], ""
    names = os.environ.get("LISTEN_FDNAMES", "")
    for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        os.environ.pop(key, None)
    try:
        n = int(text)
    except ValueError:
        return [], ""
    if not 0 < n <= MAX_FDS:
        return [], ""
    fds = list(range(3, 3 + n))
    for fd in fds:
        try:
            os.fstat(fd)
        except OSError:
            return [], ""
    return fds, names


def prepare_spec(userdata: str, spec_path: str, n: int, names: str = "") -> None:
    """config.json's process.env for this start: LISTEN_* set (n > 0) or taken out
    again (n == 0 after a socket-activated start)."""
    mark = os.path.join(userdata, MARK)
    if not n and not os.path.exists(mark):
        return
    import json

    with open(spec_path, "rb") as fh:
        spec = json.loads(fh.read())
    process = spec.setdefault("process", {})
    env = [e for e in process.get("env") or [] if not e.startswith(_KEYS)]
    if n:
        env += [f"LISTEN_FDS={n}", "LISTEN_PID=1"]
        if names:
            env.append(f"LISTEN_FDNAMES={names}")
    process["env"] = env
    tmp = spec_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    os.replace(tmp, spec_path)
    if n:
        with open(mark, "w"):
            pass
    else:
        os.unlink(mark)


def place(fds: list[int] | tuple[int, ...]) -> None:
    """In a child about to exec: fds[i] becomes fd 3+i, inheritable (sources first
    moved above the targets: a source may sit on a target number)."""
    import fcntl

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3 + len(fds) + 16) for fd in fds]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i)  # inheritable
        os.close(fd)
