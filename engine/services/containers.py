"""Container services: the lifecycle verbs the CLI, the API and the console call.

create lives in container_create.py, ps in container_list.py, inspect in
container_inspect.py (all re-exported here); this file has start, run, stop,
kill, restart, rm, wait, rename, pause/unpause, init, exists, mount/unmount,
prune, clone and `remove_after_exit` (the monitor's --rm).  Every verb first
passes rows through container_state.reconcile, so a container whose monitor
died (SIGKILL, reboot) reads as exited and can be started again.

Rootless, every verb that mounts, signals or removes runs inside Hull's user
namespace (`enter_userns`, first thing, before any thread).
"""

from __future__ import annotations

import os
import signal as _signal
import time
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import Conflict, ContainerNotFound, HullError, InvalidArgument, NotFound, StorageError
from engine.services.common import clone_name, enter_userns, open_store
from engine.services.container_create import CreateResult, create, remove_anonymous_volumes
from engine.services.container_state import (KILLED_EXIT_CODE, container_process, exit_file, monitor_alive,
                                             monitor_pid_file, reconcile)
from engine.services.events import container_event
from engine.store.containers import Container, ContainerState
from engine.services.removal import RemovalReport
from engine.record import Factory, Record

TYPE_CHECKING = False  # typing and dataclasses cost milliseconds on every run/start
if TYPE_CHECKING:
    from typing import Any

S = ContainerState
DEFAULT_STOP_TIMEOUT = 10
WAIT_CONDITIONS = ("configured", "created", "exited", "healthy", "initialized", "paused", "removing",
                   "running", "stopped", "stopping", "unhealthy")


class StateImproper(Conflict):
    """Podman's "container state improper" (rm of a running container exits 2)."""

    exit_code = 2


# ---------------------------------------------------------------- helpers
def _get(store: Any, text: str) -> Container:
    return reconcile(store, store.containers.lookup(text))


def _stop_signal(c: Container) -> int:
    sig = (c.options or {}).get("stop_signal")
    if sig:
        return int(sig)
    return int(_signal.SIGTERM)


def _stop_timeout(c: Container, override: int | None) -> float:
    if override is not None:
        return max(0, override)
    value = (c.options or {}).get("stop_timeout")
    return DEFAULT_STOP_TIMEOUT if value is None else max(0, int(value))


def _signal_container(store: Any, c: Container, sig: int) -> bool:
    """Send `sig` to the container's init; False when it is already gone."""
    proc = container_process(store, c)
    if proc is None:
        return False
    try:
        os.kill(proc[0], sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        raise HullError(f"sending signal {sig} to container {c.id}: operation not permitted") from None


def _wait_not_active(store: Any, cid: str, timeout: float, interval: float = 0.002) -> Container | None:
    """Until the container is no longer running/paused (reconciled); None on timeout.
    Its init's pidfd is waited on first (no polling sleeps while it runs), then the
    monitor's record of the exit, which follows within milliseconds, is polled for."""
    deadline = time.monotonic() + timeout
    try:
        proc = container_process(store, store.containers.get(cid))
    except ContainerNotFound:
        return None
    if proc is not None:
        from engine.network.reap import wait_gone

        wait_gone(proc[0], timeout)
    while True:
        try:
            c = reconcile(store, store.containers.get(cid))
        except ContainerNotFound:
            return None
        if not c.state.active:
            return c
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)


def _lock(store: Any, cid: str) -> Any:
    """Serialises mounting/starting, the monitor's cleanup and removal of one container."""
    from engine.store.locks import file_lock

    return file_lock(store.cfg.locks_dir / f"container-{cid}.lock")


def _runtime(c: Container, cfg: EngineConfig) -> Any:
    from engine.runtime.base import get_runtime

    return get_runtime(c.runtime or None, cfg.runroot)


# ---------------------------------------------------------------- rootfs
def mount_rootfs(store: Any, c: Container) -> Path:
    """Mount the container's overlay (image layers, top first, + its upper dir)."""
    from engine.runtime.overlay import is_mountpoint, mount_overlay

    cs = store.containers
    cs.make_run_dir(c.id)
    target = cs.rootfs(c.id)
    if is_mountpoint(target):
        return target
    lowers: list[Path] = []
    if c.image_id:
        image = store.images.get(c.image_id)
        lowers = [store.layers.diff_path(chain) for chain in reversed(image.layers)]
    volatile = bool((c.options or {}).get("rm"))  # --rm: volatile, as Podman (engine/runtime/overlay.py)
    if not lowers:
        empty = cs.dir(c.id) / "empty"
        # a built-in pod infra (pod_infra.link_rootfs) keeps nothing in its upper dir:
        # volatile spares pod stop/rm the syncfs of a whole filesystem at unmount
        volatile = volatile or empty.is_symlink()
        empty.mkdir(mode=0o755, exist_ok=True)
        lowers = [empty]
    cs.make_dirs(c.id)
    from engine.services.container_userns import owned_lowers

    with owned_lowers(store, c, lowers) as lowers:  # --userns=auto/--uidmap: the container's owners
        mount_overlay(lowers, target, cs.upper(c.id), cs.work(c.id), volatile=volatile)
    return target


def unmount_rootfs(store: Any, c: Container) -> None:
    from engine.runtime.overlay import is_mountpoint, unmount

    target = store.containers.rootfs(c.id)
    try:
        if is_mountpoint(target):
            unmount(target)
    except HullError:
        unmount(target, lazy=True)


def _copy_up_volumes(store: Any, c: Container, rootfs: Path) -> None:
    """First use of an empty named volume: copy the image's content at its destination."""
    from engine.archive.inroot import InRoot
    from engine.store.volumes import copy_up

    nocopy = {m.get("destination") for m in (c.options or {}).get("mounts", []) if m.get("nocopy")}
    for name, dest in store.volumes.of_container(c.id):
        volume = store.volumes.get(name)
        if not volume.needs_copy_up or dest in nocopy or volume.bind_device:
            continue
        data = store.volumes.prepare_for_use(volume)
        try:
            with InRoot(str(rootfs)) as root:
                fd = root.open_dir(os.fsencode(dest), flags=os.O_RDONLY | os.O_DIRECTORY)
                try:
                    copy_up(fd, data)
                finally:
                    os.close(fd)
        except HullError:
            pass  # nothing at that path in the image: the volume starts empty
        except OSError as exc:
            raise StorageError(f"copying up image content into volume {name}: {exc.strerror}") from None
        store.volumes.mark_copied(name)


# ---------------------------------------------------------------- start
def _launch(cfg: EngineConfig, store: Any, c: Container, attach: bool = False) -> Any:
    from engine.monitor.launch import start_monitor

    return start_monitor(cfg, c.id, attach=attach)


def _start_one(cfg: EngineConfig, store: Any, c: Container, attach: bool = False) -> Container:
    _start_dependencies(cfg, store, c)
    with _lock(store, c.id):
        return _start_locked(cfg, store, reconcile(store, store.containers.get(c.id)), attach)


def _start_dependencies(cfg: EngineConfig, store: Any, c: Container) -> None:
    """Containers whose namespaces `c` joins (container:X) or that it --requires run first
    (Podman starts them)."""
    opts = c.options or {}
    deps = list(opts.get("requires") or [])
    if any(str(opts.get(k) or "").startswith("container") for k in ("network", "ipc", "uts", "pid")):
        from engine.network.lifecycle import dependencies

        deps += dependencies(opts)
    for dep in deps:
        try:
            other = store.containers.get(dep)
        except ContainerNotFound:
            continue  # setup reports it
        if not reconcile(store, other).state.active:
            _start_one(cfg, store, other)


def _start_locked(cfg: EngineConfig, store: Any, c: Container, attach: bool = False) -> Container:
    if c.state.active:
        return c  # Podman: starting a running container is a no-op
    if c.state == S.REMOVING:
        raise Conflict(f"container {c.id} is being removed: container state improper")
    rootfs = mount_rootfs(store, c)
    _copy_up_volumes(store, c, rootfs)
    for volume_name, _ in store.volumes.of_container(c.id):
        store.volumes.prepare_for_use(store.volumes.get(volume_name))
    run = store.containers.run_dir(c.id)
    for stale in ("exit", "pid", "monitor.pid", "attach", "ctl", "stopped-by-user"):
        try:
            (run / stale).unlink()
        except FileNotFoundError:
            pass
    started = time.time()
    store.containers.update(c.id, started_at=started, stopped_by_user=False, error="", oom_killed=False,
                            health="starting" if _has_healthcheck(c) else "")
    try:
        _network_setup(cfg, store, c)
        handle = _launch(cfg, store, c, attach)
    except HullError as err:
        store.containers.update(c.id, error=str(err))
        _network_teardown(cfg, store, c)
        raise
    # Running is recorded here, not by the monitor (one helper less per start); the
    # monitor may have recorded the end of this run already (a short command): then
    # the row stays as it left it.
    with store.db.transaction() as conn:
        conn.execute("UPDATE containers SET state = 'running', pid = ?, monitor_pid = ? WHERE id = ? AND "
                     "state IN ('created','configured','stopped','exited','running') AND finished_at < ?",
                     (handle.pid, handle.monitor_pid, c.id, started))
    if (c.options or {}).get("conmon_pidfile") or "PODMAN_SYSTEMD_UNIT" in os.environ:
        from engine.services.systemd_pidfile import write_pidfiles

        write_pidfiles(store, c, handle.monitor_pid)  # PIDFile= of generated units
    fresh = store.containers.get(c.id)
    container_event(cfg, "start", fresh)
    return fresh


def _network_setup(cfg: EngineConfig, store: Any, c: Container) -> None:
    """Namespaces that need work before the runtime (engine/network/lifecycle.py);
    none/host/private skip the import."""
    opts = c.options or {}
    if opts.get("network") in ("none", "host", "private", "ns") and not any(
            str(opts.get(k) or "").startswith("container:") for k in ("ipc", "uts", "pid")):
        return
    from engine.network.lifecycle import setup

    setup(cfg, store, c)


def _network_teardown(cfg: EngineConfig, store: Any, c: Container, wait: bool = True) -> None:
    """Best effort: a failed teardown must not hide the error being reported.  wait=False:
    the helpers' exits are waited for by _network_helpers_gone (work meanwhile)."""
    if not os.path.exists(store.containers.run_dir(c.id) / "network.json") and not os.path.lexists(
            cfg.runroot / "netns" / c.id):
        return  # nothing was set up: no import
    from engine.network.lifecycle import teardown

    try:
        teardown(cfg, store, c, wait=wait)
    except (HullError, OSError):
        pass


def _network_helpers_gone() -> None:
    import sys

    lifecycle = sys.modules.get("engine.network.lifecycle")  # not imported: nothing was torn down
    if lifecycle is not None:
        lifecycle.await_helpers()


def _has_healthcheck(c: Container) -> bool:
    hc = (c.options or {}).get("healthcheck")
    return bool(hc and hc.get("test") and hc["test"][0] != "NONE") and not (c.options or {}).get("no_healthcheck")


def start(cfg: EngineConfig, names: list[str], *, attach: bool = False) -> list[Container]:
    """Start each container (in order); the first error stops the batch.  With `attach`
    the monitor keeps output and exit until the caller connects to the attach socket
    (`attach_path`), so `start -a` loses nothing."""
    enter_userns(cfg)
    store = open_store(cfg)
    return [_start_one(cfg, store, _get(store, n), attach) for n in names]


def attach_path(cfg: EngineConfig, cid: str) -> Path:
    """The monitor's attach socket of container `cid` (full ID)."""
    return open_store(cfg).containers.run_dir(cid) / "attach"


def run(cfg: EngineConfig, opts: Any, *, runtime: str | None = None, pull_options: Any = None,
        attach: bool = False, warnings: list[str] | None = None) -> Container:
    """create + start; attaching and waiting are the caller's (engine/services/container_io.py).
    `attach` as for start(); create's warnings are appended to `warnings`."""
    result = create(cfg, opts, runtime=runtime, pull_options=pull_options)
    if warnings is not None:
        warnings.extend(result.warnings)
    store = open_store(cfg)
    try:
        return _start_one(cfg, store, store.containers.get(result.id), attach)
    except HullError:
        if opts.rm:
            try:
                remove(cfg, [result.id], RmOptions(force=True, time=0))
            except HullError:
                pass
        raise


def init(cfg: EngineConfig, names: list[str]) -> list[Container]:
    """Mount the rootfs and prepare volumes without running anything."""
    enter_userns(cfg)
    store = open_store(cfg)
    done = []
    for n in names:
        c = _get(store, n)
        if c.state not in (S.CREATED, S.CONFIGURED, S.EXITED, S.STOPPED):
            raise Conflict(f"container {c.id} has already been created in runtime: container state improper")
        rootfs = mount_rootfs(store, c)
        _copy_up_volumes(store, c, rootfs)
        container_event(cfg, "init", c)
        done.append(c)
    return done


# ---------------------------------------------------------------- stop / kill / restart
def _mark_stopped_by_user(store: Any, c: Container) -> None:
    """The DB flag and the monitor's marker file: no restart policy after a user stop."""
    store.containers.update(c.id, stopped_by_user=True)
    try:
        (store.containers.run_dir(c.id) / "stopped-by-user").touch()
    except OSError:
        pass


def _stop_one(cfg: EngineConfig, store: Any, c: Container, timeout: int | None) -> Container:
    done = _stop_container(cfg, store, c, timeout)
    _cleanup_network(cfg, store, c.id)
    return done


def _cleanup_network(cfg: EngineConfig, store: Any, cid: str) -> None:
    """As Podman's stop does the cleanup itself: once stopped, the network is torn down
    here, so no veth, helper or netns is left when stop/kill/rm returns (the monitor's
    own cleanup, under the same lock, then finds nothing)."""
    if not os.path.exists(store.containers.run_dir(cid) / "network.json") and not os.path.lexists(
            cfg.runroot / "netns" / cid):
        return
    with _lock(store, cid):
        try:
            c = store.containers.get(cid)
        except ContainerNotFound:
            return
        if not c.state.active:  # not started again meanwhile
            _network_teardown(cfg, store, c)


def _stop_container(cfg: EngineConfig, store: Any, c: Container, timeout: int | None) -> Container:
    if c.state == S.PAUSED:
        _runtime(c, cfg).resume(c.id)
    if not c.state.active:
        return c
    _mark_stopped_by_user(store, c)
    wait = _stop_timeout(c, timeout)
    if wait > 0 and _signal_container(store, c, _stop_signal(c)):
        done = _wait_not_active(store, c.id, wait)
        if done is not None:
            container_event(cfg, "stop", done)
            return done
    _signal_container(store, c, _signal.SIGKILL)
    done = _wait_not_active(store, c.id, 10.0)
    if done is None:  # the monitor did not record it: record it ourselves
        if not monitor_alive(store, c.id) or container_process(store, c) is None:
            done = store.containers.transition(c.id, S.EXITED, exit_code=KILLED_EXIT_CODE,
                                               finished_at=time.time(), pid=0)
        else:
            raise HullError(f"container {c.id} did not stop after SIGKILL")
    container_event(cfg, "stop", done)
    return done


def stop(cfg: EngineConfig, names: list[str], timeout: int | None = None, all: bool = False,
         ignore: bool = False) -> list[Container]:
    enter_userns(cfg)
    store = open_store(cfg)
    targets = _targets(store, names, all, ignore)
    return [_stop_one(cfg, store, c, timeout) for c in targets]


def _targets(store: Any, names: list[str], all_: bool, ignore: bool) -> list[Container]:
    if all_:
        return [reconcile(store, c) for c in store.containers.list()]
    out = []
    for n in names:
        try:
            out.append(_get(store, n))
        except ContainerNotFound:
            if not ignore:
                raise
    return out


def kill(cfg: EngineConfig, names: list[str], signal: int | str = "KILL", all: bool = False) -> list[Container]:
    from engine.spec.parse import parse_signal

    sig = parse_signal(signal)
    enter_userns(cfg)
    store = open_store(cfg)
    done = []
    for c in _targets(store, names, all, False):
        if not c.state.active:
            if all:
                continue
            raise Conflict(f"can only kill running containers. {c.id} is in state "
                                f"{c.state.value}: container state improper")
        _mark_stopped_by_user(store, c)  # Podman: a killed container is not restarted by its policy
        _signal_container(store, c, sig)
        container_event(cfg, "kill", c)
        done.append(c)
    if sig == _signal.SIGKILL:  # it cannot survive: its network is gone when kill returns
        for c in done:
            if _wait_not_active(store, c.id, 10.0) is not None:
                _cleanup_network(cfg, store, c.id)
    return done


def restart(cfg: EngineConfig, names: list[str], timeout: int | None = None, all: bool = False,
            running: bool = False) -> list[Container]:
    enter_userns(cfg)
    store = open_store(cfg)
    out = []
    for c in _targets(store, names, all, False):
        if running and not c.state.active:
            continue
        c = _stop_one(cfg, store, c, timeout)
        out.append(_start_one(cfg, store, store.containers.get(c.id)))
        container_event(cfg, "restart", out[-1])
        from engine.services.container_rejoin import rejoin

        rejoin(cfg, store, c.id, timeout)  # as Podman: container:X dependents re-join X
    return out


def pause(cfg: EngineConfig, names: list[str], all: bool = False) -> list[Container]:
    return _pause_resume(cfg, names, all, pause=True)


def unpause(cfg: EngineConfig, names: list[str], all: bool = False) -> list[Container]:
    return _pause_resume(cfg, names, all, pause=False)


def _pause_resume(cfg: EngineConfig, names: list[str], all_: bool, pause: bool) -> list[Container]:
    enter_userns(cfg)
    store = open_store(cfg)
    want, to = (S.RUNNING, S.PAUSED) if pause else (S.PAUSED, S.RUNNING)
    out = []
    for c in _targets(store, names, all_, False):
        if c.state != want:
            if all_:
                continue
            verb = "pause" if pause else "unpause"
            raise Conflict(f"\"{c.name}\" is not {want.value}, can't {verb}: container state improper")
        runtime = _runtime(c, cfg)
        runtime.pause(c.id) if pause else runtime.resume(c.id)
        c = store.containers.transition(c.id, to, expect={want})
        container_event(cfg, "pause" if pause else "unpause", c)
        out.append(c)
    return out


# ---------------------------------------------------------------- rm
class RmOptions(Record):
    force: bool = False
    volumes: bool = False
    all: bool = False
    ignore: bool = False
    time: int | None = None  # stop timeout for --force (Podman: the container's, -t overrides)
    depend: bool = False


class RmReport(RemovalReport):
    """Podman's rm: 1 no such container, 2 running/paused without --force, else 125."""

    NOT_FOUND = ContainerNotFound
    IN_USE = (StateImproper,)


def remove(cfg: EngineConfig, names: list[str], opts: RmOptions | None = None) -> RmReport:
    opts = opts or RmOptions()
    if opts.all and names:
        raise InvalidArgument("--all and container names cannot be used together")
    enter_userns(cfg)
    store = open_store(cfg)
    report = RmReport()
    targets: list[str] = [c.id for c in store.containers.list()] if opts.all else list(names)
    if opts.all:  # a pod's infra container goes with its pod (pod rm), never alone
        targets = [t for t in targets if store.pods.infra_of(t) is None]
    for text in targets:
        try:
            c = _get(store, text)
            _remove_one(cfg, store, c, opts)
            report.removed.append(c.id if opts.all else text)  # Podman prints what was typed (RawInput)
        except ContainerNotFound as err:
            if not opts.ignore:
                report.errors.append(err)
        except HullError as err:
            report.errors.append(err)
    return report


def _remove_one(cfg: EngineConfig, store: Any, c: Container, opts: RmOptions) -> None:
    from engine.network.lifecycle import check_removable
    if c.pod:  # an infra container goes only with its pod
        from engine.services.pods import infra_guard

        infra_guard(store, c)
    check_removable(store, c)
    if c.state.active:
        if not opts.force:
            raise StateImproper(f"cannot remove container {c.id} as it is {c.state.value} - running or paused "
                                "containers cannot be removed without force: container state improper")
        c = _stop_one(cfg, store, c, 0 if opts.time is None else opts.time)
    if c.mounted and not opts.force:
        raise StateImproper(f"container {c.id} is mounted and cannot be removed without using force: "
                            "container state improper")
    for _attempt in range(3):
        try:
            _destroy(cfg, store, c, opts.volumes)
            return
        except Conflict:
            # A concurrent `start` won the container's lock after the checks above:
            # with force, stop it again and retry; without, the conflict stands.
            fresh = reconcile(store, store.containers.get(c.id))
            if not (opts.force and fresh.state.active):
                raise
            c = _stop_one(cfg, store, fresh, 0 if opts.time is None else opts.time)
    _destroy(cfg, store, c, opts.volumes)


def _destroy(cfg: EngineConfig, store: Any, c: Container, volumes: bool) -> None:
    from engine.store.locks import remove_lock_file

    with _lock(store, c.id):
        _destroy_locked(cfg, store, c, volumes)
        remove_lock_file(store.cfg.locks_dir / f"container-{c.id}.lock")


def _destroy_locked(cfg: EngineConfig, store: Any, c: Container, volumes: bool) -> None:
    from engine.store.rmtree import remove_tree

    try:
        store.containers.transition(c.id, S.REMOVING)
    except ContainerNotFound:
        return
    _network_teardown(cfg, store, c, wait=False)  # pasta's exit (~50 ms) overlaps the rest
    unmount_rootfs(store, c)
    _delete_runtime_state(cfg, c)
    used = [name for name, _ in store.volumes.of_container(c.id)]
    if not cfg.rootless:  # host-wide address leases (engine/network/leases.py)
        store.networks.release_leases(c.id)
    store.containers.delete(c.id)  # its id_ranges row (--userns=auto block) goes with it
    if cfg.rootless:
        from engine.services.container_userns import prune_copies

        prune_copies(store)  # chowned layer copies (--userns=auto/--uidmap) no container uses
    for path in (store.containers.dir(c.id), store.containers.run_dir(c.id)):
        try:
            remove_tree(path)
        except FileNotFoundError:
            pass
    if volumes:
        remove_anonymous_volumes(store, used)
    _network_helpers_gone()  # its published ports are closed when rm returns
    container_event(cfg, "remove", c)


def _delete_runtime_state(cfg: EngineConfig, c: Container) -> None:
    """An external runtime keeps its own state per container: drop it (best effort)."""
    if not c.runtime or c.runtime in ("builtin", "hull"):
        return
    try:
        _runtime(c, cfg).delete(c.id, force=True)
    except HullError:
        pass


def remove_after_exit(cfg: EngineConfig, cid: str) -> None:
    """The monitor's --rm: the container has exited; remove it and its anonymous
    volumes, keeping its exit code for a concurrent `wait`."""
    store = open_store(cfg)
    try:
        c = store.containers.get(cid)
    except ContainerNotFound:
        return
    _remember_exit(cfg, c)
    _destroy(cfg, store, c, volumes=True)
    if c.pod:
        _pod_member_exited(cfg, store, c)


def cleanup_after_exit(cfg: EngineConfig, cid: str) -> None:
    """The monitor, after the container's final exit: unmount its rootfs (as Podman's
    cleanup), unless it was started again meanwhile or `hull mount` holds it."""
    store = open_store(cfg)
    try:
        with _lock(store, cid):
            c = store.containers.get(cid)
            if not c.state.active and c.state != S.REMOVING and not c.mounted:
                unmount_rootfs(store, c)
            if not c.state.active:
                _network_teardown(cfg, store, c)
                from engine.services.container_create import reset_overlay_mounts

                reset_overlay_mounts(store, cid)
    except (ContainerNotFound, HullError):
        return
    container_event(cfg, "cleanup", c)
    if c.pod:
        _pod_member_exited(cfg, store, c)


def _pod_member_exited(cfg: EngineConfig, store: Any, c: Container) -> None:
    """A pod's exit policy (stop: the infra goes down with the last member)."""
    from engine.services.pods import member_exited

    try:
        member_exited(cfg, store, c)
    except HullError:
        pass


def _exits_dir(cfg: EngineConfig) -> Path:
    return cfg.runroot / "exits"


def _remember_exit(cfg: EngineConfig, c: Container) -> None:
    d = _exits_dir(cfg)
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        (d / c.id).write_text(f"{c.exit_code}\n")
        (d / f"name-{c.name}").write_text(c.id)
    except OSError:
        pass


def _remembered_exit(cfg: EngineConfig, text: str) -> int | None:
    d = _exits_dir(cfg)
    for candidate in (text, _read(d / f"name-{text}")):
        if candidate and len(candidate) == 64:
            code = _read(d / candidate)
            if code is not None:
                return int(code)
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


# ---------------------------------------------------------------- wait
def wait(cfg: EngineConfig, names: list[str], conditions: list[str] | None = None,
         interval: float = 0.25, ignore: bool = False) -> list[int]:
    """Block until each container meets one of `conditions` (default: stopped/exited);
    returns the exit code (for state conditions other than stop, -1 as Podman)."""
    conditions = [c.lower() for c in (conditions or ["stopped"])]
    for cond in conditions:
        if cond not in WAIT_CONDITIONS:
            raise InvalidArgument(f"invalid condition {cond!r}: unknown state")
    store = open_store(cfg)
    codes = []
    for text in names:
        try:
            cid = store.containers.lookup(text).id
        except ContainerNotFound:
            remembered = _remembered_exit(cfg, text)
            if remembered is not None:
                codes.append(remembered)
                continue
            if ignore:
                codes.append(-1)
                continue
            raise
        codes.append(_wait_one(cfg, store, cid, conditions, interval))
    return codes


def _meets(c: Container, cond: str, seen_active: bool) -> bool:
    state = c.state
    if cond in ("stopped", "exited"):
        return state in (S.EXITED, S.STOPPED) or (state == S.CREATED and not seen_active and cond == "stopped"
                                                   and c.finished_at > 0)
    if cond in ("healthy", "unhealthy"):
        return c.health == cond
    if cond == "initialized":
        return state == S.CREATED
    if cond == "stopping":
        return state == S.STOPPED
    return state.value == cond


def _wait_one(cfg: EngineConfig, store: Any, cid: str, conditions: list[str], interval: float) -> int:
    seen_active = False
    while True:
        try:
            c = reconcile(store, store.containers.get(cid))
        except ContainerNotFound:
            remembered = _remembered_exit(cfg, cid)
            if remembered is not None:
                return remembered
            raise ContainerNotFound(f'no container with name or ID "{cid}" found: no such container') from None
        seen_active = seen_active or c.state.active
        for cond in conditions:
            if _meets(c, cond, seen_active):
                return c.exit_code if cond in ("stopped", "exited") else -1
        time.sleep(interval)


# ---------------------------------------------------------------- rename / exists / mount / prune / clone
def rename(cfg: EngineConfig, text: str, new_name: str) -> Container:
    store = open_store(cfg)
    c = _get(store, text)
    renamed = store.containers.rename(c.id, new_name)
    container_event(cfg, "rename", renamed)
    return renamed


def exists(cfg: EngineConfig, text: str) -> bool:
    return open_store(cfg).containers.exists(text)


def mount(cfg: EngineConfig, names: list[str]) -> list[tuple[str, str]]:
    """(id, merged rootfs path) for each; rootless only inside `hull unshare`."""
    _require_unshare(cfg, "mount")
    store = open_store(cfg)
    out = []
    for n in names:
        c = _get(store, n)
        path = mount_rootfs(store, c)
        store.containers.increment(c.id, "mounted")
        container_event(cfg, "mount", c)
        out.append((c.id, str(path)))
    return out


def mounted(cfg: EngineConfig) -> list[tuple[str, str]]:
    store = open_store(cfg)
    from engine.runtime.overlay import is_mountpoint

    return [(c.id, str(store.containers.rootfs(c.id))) for c in store.containers.list()
            if c.mounted and is_mountpoint(store.containers.rootfs(c.id))]


def unmount(cfg: EngineConfig, names: list[str], all: bool = False, force: bool = False) -> list[str]:
    _require_unshare(cfg, "unmount")
    store = open_store(cfg)
    out = []
    targets = [c for c in store.containers.list() if c.mounted] if all else [_get(store, n) for n in names]
    for c in targets:
        left = 0 if force else store.containers.increment(c.id, "mounted", -1)
        if force:
            store.containers.update(c.id, mounted=0)
        if left == 0 and not c.state.active:
            unmount_rootfs(store, c)
        container_event(cfg, "unmount", c)
        out.append(c.id)
    return out


def _require_unshare(cfg: EngineConfig, command: str) -> None:
    if cfg.rootless and os.environ.get("_HULL_USERNS_CONFIGURED") != "1":
        raise InvalidArgument(f"cannot run command \"hull {command}\" in rootless mode, must execute "
                              "`hull unshare` first")
    enter_userns(cfg)


class PruneReport(Record):
    removed: list[str] = Factory(list)
    sizes: list[int] = Factory(list)     # bytes freed, one per removed container
    reclaimed: int = 0
    errors: list[HullError] = Factory(list)


def prune(cfg: EngineConfig, filters: dict[str, list[str]] | None = None) -> PruneReport:
    """Remove every container that is not running or paused (filters: label, until)."""
    from engine.services.container_list import matches_prune_filters, upper_size

    enter_userns(cfg)
    store = open_store(cfg)
    report = PruneReport()
    for c in store.containers.list():
        c = reconcile(store, c)
        if c.state.active or not matches_prune_filters(c, filters or {}):
            continue
        if c.pod and store.pods.infra_of(c.id) is not None:
            continue  # Podman: infra containers go with their pod
        size = upper_size(store, c)
        try:
            _destroy(cfg, store, c, volumes=False)
        except HullError as err:
            report.errors.append(err)
            continue
        report.removed.append(c.id)
        report.sizes.append(size)
        report.reclaimed += size
    return report


def clone(cfg: EngineConfig, text: str, name: str | None = None, destroy: bool = False, run_it: bool = False,
          image: str | None = None) -> CreateResult:
    """A new container with the options of `text` (Podman: `<name>-clone`)."""
    from engine.spec.options import ContainerOptions

    store = open_store(cfg)
    c = _get(store, text)
    opts = ContainerOptions.from_dict(c.options)
    opts.name = name or clone_name(c.name, store.containers.exists)
    opts.image = image or c.image_id or opts.image
    opts.pull = "never" if not image else opts.pull
    opts.cidfile = ""
    opts.replace = False
    opts.mounts = [m for m in opts.mounts if not m.anonymous]
    if destroy:
        remove(cfg, [c.id], RmOptions(force=True))
    result = create(cfg, opts, runtime=c.runtime or None)
    if run_it:
        start(cfg, [result.id])
    return result


# ---------------------------------------------------------------- the rest of the facade
def __getattr__(name: str) -> Any:
    if name in ("list_containers", "ListOptions", "ContainerSummary"):
        from engine.services import container_list

        return getattr(container_list, name)
    if name in ("inspect", "inspect_one"):
        from engine.services import container_inspect

        return getattr(container_inspect, name)
    if name == "healthcheck_run":
        from engine.services.container_health import healthcheck_run

        return healthcheck_run
    raise AttributeError(name)


__all__ = ["create", "start", "run", "stop", "kill", "restart", "remove", "RmOptions", "RmReport", "wait",
           "rename", "pause", "unpause", "init", "exists", "mount", "mounted", "unmount", "prune",
           "PruneReport", "clone", "remove_after_exit", "cleanup_after_exit", "mount_rootfs", "unmount_rootfs", "StateImproper",
           "CreateResult", "exit_file", "monitor_pid_file", "NotFound"]
