"""`hull run` / `hull start NAME`: the container's monitor spawned before argparse.

The monitor's start (a fresh interpreter, daemonizing, its create helper importing
the runtime) is on run's critical path.  Spawned first thing, from a cheap look at
argv, it overlaps the CLI's own imports (argparse, re, the services), the flag
parsing and the create work (engine/monitor/launch.py `prespawn`).  Only the plain
case takes this path: local, global flags before the command word and none after it
(they could name another store; the commands prespawn after parsing then, as before).
A wrong guess (a flag error, a name that does not resolve) costs only the spawn: the
monitor ends quietly when this process ends without handing it a container.

Imports nothing of argparse or the CLI's parser: that is the point.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Sequence

    from engine.config import EngineConfig

# Global flags that keep the invocation local (engine/cli/parser.py GLOBAL_VALUE_FLAGS).
_LOCAL_GLOBALS = ("--root", "--runroot", "--log-level", "--registries-conf", "--runtime")
# Any of these, or a global flag after the command word: no early spawn.
_NOT_HERE = _LOCAL_GLOBALS + ("--url", "--connection", "--identity", "--remote", "-h", "--help")
_REMOTE_ENV = ("CONTAINER_HOST", "CONTAINER_CONNECTION")  # as parser._REMOTE_ENV
_START_VALUE_FLAGS = ("--detach-keys", "--filter", "--pod-id-file")


def scan(argv: Sequence[str]) -> dict[str, str] | None:
    """The leading global flags when argv is `run ...` or `start` of one container
    (optionally under `container`) or `pod start` of one pod, else None."""
    flags: dict[str, str] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        flag, eq, value = argv[i].partition("=")
        if flag not in _LOCAL_GLOBALS:
            return None
        if not eq:
            if i + 1 >= len(argv):
                return None
            i += 1
            value = argv[i]
        if not value:
            return None
        flags[flag] = value
        i += 1
    rest = list(argv[i:])
    if rest[:1] == ["container"] or rest[:2] == ["pod", "start"]:
        rest = rest[1:]  # `pod start POD`: the pod's infra takes the monitor (pods.start)
    if not rest or rest[0] not in ("run", "start"):
        return None
    if any(tok.partition("=")[0] in _NOT_HERE for tok in rest[1:]):
        return None
    if rest[0] == "start" and not _one_name(rest[1:]):
        return None
    return flags


def _one_name(args: list[str]) -> bool:
    """`start` names exactly one container and no --all (the cases start.py prespawns for)."""
    names = 0
    skip = False
    for tok in args:
        if skip:
            skip = False
        elif tok == "--all":
            return False
        elif tok in _START_VALUE_FLAGS:
            skip = True
        elif not tok.startswith("-") or tok == "-":
            names += 1
    return names == 1


def prespawn_from_argv(argv: Sequence[str]) -> None:
    """Spawn the monitor now if argv is a local `run` / `start NAME` / `pod start POD`;
    never raises."""
    flags = scan(argv)
    if flags is None or any(os.environ.get(k) for k in _REMOTE_ENV):
        return
    try:
        from engine.config import EngineConfig

        # As Context.config() builds it (the launcher keys on root, runroot, rootless), with
        # str paths: pathlib (re, enum, urllib: ~7 ms) loads after the spawn.
        cfg = EngineConfig.early(flags.get("--root"), flags.get("--runroot"))
        prespawn_monitor(cfg)
        cfg = cfg.replace()  # Path fields from here on
        from engine.network.prestart import prespawn_for_run

        prespawn_for_run(cfg, argv)  # `run`'s default pasta network starts now too
        if "pod" in argv:
            from engine.services.pod_infra import prestart_network

            prestart_network(cfg, argv)  # `pod start`'s infra: the same when it has that network
    except Exception:  # any error is the command's to report, after its flags' own
        return


def prespawn_monitor(cfg: EngineConfig, remover: bool = False) -> None:
    """The container's monitor starts now (Python start-up, daemonizing, importing the
    runtime) while this process creates the container: engine/monitor/launch.py.
    `remover`: we remove the container after its exit (attached run --rm); a second
    call for the same store only updates it."""
    from engine.errors import HullError
    from engine.monitor.launch import prespawn
    from engine.services.common import enter_userns

    try:
        enter_userns(cfg)  # the monitor must start inside Hull's user namespace
    except HullError:
        return  # reported where it always was (create/start), after the flags' own errors
    prespawn(cfg, remover=remover)
