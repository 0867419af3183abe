"""The monitor's pid as a plain number, for systemd's PIDFile= (Type=forking units).

The monitor's own `monitor.pid` holds "PID STARTTIME", which systemd cannot parse.
Written after a start when the container asked for it (--conmon-pidfile, which pod
units pass through --infra-conmon-pidfile) and, under a unit made by `generate
systemd` (PODMAN_SYSTEMD_UNIT set), as `userdata/conmon.pid` too: the path such units
name, like Podman's.
"""

from __future__ import annotations

import os
from typing import Any


def _write(path: str, pid: int) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        fh.write(f"{pid}\n")
    os.replace(tmp, path)


def userdata_pidfile(store: Any, cid: str) -> str:
    return str(store.containers.userdata(cid) / "conmon.pid")


def write_pidfiles(store: Any, c: Any, monitor_pid: int) -> None:
    paths = [userdata_pidfile(store, c.id)]
    given = (c.options or {}).get("conmon_pidfile")
    if given:
        paths.append(given)
    for path in paths:
        try:
            _write(path, monitor_pid)
        except OSError:
            pass  # a unit that needs it reports the missing file itself
