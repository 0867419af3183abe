"""pasta started before its container exists: `hull run` with the default rootless network.

pasta needs ~30 ms of CPU and 50-100 ms of wall time to configure a namespace (it
probes the host's routes and addresses, opens its tap device, fills its socket and
pipe pools, then daemonises).  On `run`'s critical path that was most of what the
default network cost.  engine/cli/early.py calls `prespawn_for_run` right after the
monitor's prespawn, from a cheap look at argv (rootless, pasta installed, no flag
that could change the network): a namespace file and its pasta start while the CLI
parses its flags, creates the container and mounts its rootfs.  lifecycle's setup
then `adopt`s it if the container's pasta would get exactly the same arguments
(no ports, no pasta options, same store); the readiness check is unchanged (pasta's
first process exits once the namespace is configured, before the runtime runs), it
has only finished by then.  A wrong guess costs the spawn: main() calls
`discard_all` at the end of the command.

Files in {runroot}/netns: `netns-<32 hex>` (the namespace, named as Podman names
its own; pasta quits when that file is deleted), `<name>.pid` (pasta's pid) and
`<name>.owner` (this process's pid and start time; removed at adoption).  A CLI
killed before adopting leaves an owner file whose process is gone: the next
prespawn sweeps it.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Sequence

    from engine.network.pasta import Spawned

    from engine.config import EngineConfig

PREFIX = "netns-"
# Any of these in argv: the network may not be the default pasta one, do not guess.
_NETWORK_FLAGS = ("--network", "--net", "--pod", "--pod-id-file", "-p", "--publish", "-P", "--publish-all",
                  "--expose", "--rootfs")


class Early:
    """A pasta spawned for a container not created yet."""

    def __init__(self, key: tuple, name: str, path: Path, proc: Spawned) -> None:
        self.key = key    # store (root, runroot, rootless) + pasta's ports and extra options
        self.name = name  # file name in {runroot}/netns
        self.path = path
        self.proc = proc

    @property
    def pid_file(self) -> Path:
        return self.path.with_name(self.name + ".pid")

    @property
    def owner_file(self) -> Path:
        return self.path.with_name(self.name + ".owner")

    def wait(self) -> int:
        """pasta's pid once the namespace is configured (pasta.wait).  Called once the
        container's network.json names the namespace: the owner file goes (no sweep)."""
        from engine.network import pasta

        try:
            return pasta.wait(self.proc, [], self.pid_file)
        finally:
            _unlink(self.pid_file)
            _unlink(self.owner_file)


_early: list[Early] = []


def _key(cfg: EngineConfig, ports: list[dict], extra: Sequence[str]) -> tuple:
    return (str(cfg.root), str(cfg.runroot), bool(cfg.rootless), repr(ports), tuple(extra))


def wanted(argv: Sequence[str]) -> bool:
    """argv (global value flags, then the command, as engine/cli/early.py scanned it) is
    `run` with no flag that could change the network.  A cheap guess: the container's
    own command words count too, which only makes it guess less often."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 1 if "=" in argv[i] else 2
    rest = list(argv[i + 1:] if argv[i:i + 1] == ["container"] else argv[i:])
    if rest[:1] != ["run"]:
        return False
    return not any(tok.partition("=")[0] in _NETWORK_FLAGS or (tok.startswith("-") and not tok.startswith("--")
                                                               and "p" in tok.lower()) for tok in rest[1:])


def prespawn_for_run(cfg: EngineConfig, argv: Sequence[str], sure: bool = False) -> None:
    """Start pasta for the container `run` is about to create; never raises.  Call it
    inside Hull's user namespace (as the monitor's prespawn).  `sure`: the caller knows
    the container wants the default network without ports (`pod start`'s infra,
    pod_infra.prestart_network), argv is not looked at."""
    try:
        if not cfg.rootless or not (sure or wanted(argv)):
            return  # before any import: `run --network none` pays nothing
        from engine.network import pasta
        from engine.network.lifecycle import default_mode
        from engine.runtime.userns import needs_userns

        if needs_userns() or default_mode(cfg) != "pasta":
            return  # not in the user namespace (it failed: create reports it), or another mode
        _sweep(cfg)
        from engine.network import netns

        name = PREFIX + os.urandom(16).hex()
        path = netns.create(cfg, name)
        _write_owner(path.with_name(name + ".owner"))
        early = Early(_key(cfg, [], []), name, path, None)  # type: ignore[arg-type]
        try:
            early.proc = pasta.spawn(str(path), [], [], early.pid_file, cfg.rootless)
        except Exception:
            _remove_files(cfg, name)
            raise
        _early.append(early)
    except Exception:  # noqa: BLE001  (a missed head start only: setup starts pasta as always)
        return


def adopt(cfg: EngineConfig, ports: list[dict], extra: Sequence[str]) -> Early | None:
    """The prestarted pasta when it is what the container needs (same store, ports and
    options): this process no longer owns it, the caller's network state does."""
    key = _key(cfg, ports, extra)
    for i, early in enumerate(_early):
        if early.key == key:
            del _early[i]
            return early
    return None  # a wrong guess holds no port: it is dropped at exit, off the critical path


def discard(early: Early) -> None:
    """Stop a pasta nobody adopted and remove its namespace (no waiting for its death:
    it has no published port)."""
    import signal

    early.proc.finish()  # it daemonises once configured; then its pid file is there
    _kill_pid_file(early.pid_file, signal.SIGKILL)
    _remove_files(None, early.name, early.path)


def discard_all() -> None:
    """At the end of the command (engine/cli/main.py): what no container adopted."""
    while _early:
        try:
            discard(_early.pop())
        except Exception:  # noqa: BLE001  (at exit: the next sweep gets what is left)
            pass


def _sweep(cfg: EngineConfig) -> None:
    """Prestarted namespaces whose CLI died before adopting them: pasta killed, files gone."""
    import signal

    from engine.network.netns import netns_dir

    directory = netns_dir(cfg)
    try:
        names = [n[:-len(".owner")] for n in os.listdir(directory) if n.endswith(".owner")]
    except OSError:
        return
    for name in names:
        path = directory / name
        if _owner_alive(path.with_name(name + ".owner")):
            continue
        _kill_pid_file(path.with_name(name + ".pid"), signal.SIGKILL)
        _remove_files(cfg, name, path)


def _write_owner(path: Path) -> None:
    with open(path, "w") as f:
        f.write(f"{os.getpid()} {_start_time(os.getpid())}\n")


def _owner_alive(owner: Path) -> bool:
    try:
        pid, start = owner.read_text().split()
        return _start_time(int(pid)) == start
    except (OSError, ValueError):
        return False


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _kill_pid_file(pid_file: Path, sig: int) -> None:
    """Kill the pid in pasta's pid file if it still is a pasta (a recycled pid is left alone)."""
    try:
        pid = int(pid_file.read_text().split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if os.path.basename(f.read().split(b"\0", 1)[0]) != b"pasta":
                return
        os.kill(pid, sig)
    except (OSError, ValueError, IndexError):
        pass


def _remove_files(cfg: EngineConfig | None, name: str, path: Path | None = None) -> None:
    from engine.errors import HullError
    from engine.network import netns

    path = path or netns.netns_path(cfg, name)  # type: ignore[arg-type]
    try:
        netns.remove_path(path)
    except (HullError, OSError):
        pass
    for suffix in (".pid", ".owner"):
        _unlink(path.with_name(name + suffix))


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
