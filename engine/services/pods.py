"""Pod services: the lifecycle verbs over a pod's containers (start, stop, restart,
kill, pause, unpause), rm, prune, exists, the pod's status and members.  Making a pod
(create, --pod new:, joining, clone) is in pod_create.py, reading (ps, inspect) in
pod_inspect.py: both re-exported here.

A pod's members are the containers whose `pod` column holds its id; the infra
container (pod_infra.py) is one of them and is started first and stopped last.
Members join the pod's shared namespaces through it: net as
`network="container", network_arg=<infra id>`, ipc/uts/pid as "container:<infra id>"
(the container: mechanism of engine/network, see docs/architecture.md).  The pod's
status is derived from its members' states, as Podman does.
"""

from __future__ import annotations

import signal as _signal

from engine.config import EngineConfig
from engine.errors import Conflict, HullError, InvalidArgument, PodNotFound
from engine.services.common import enter_userns, open_store
from engine.services.containers import StateImproper
from engine.services.removal import RemovalReport
from engine.store.containers import Container, ContainerState
from engine.store.pods import Pod

TYPE_CHECKING = False  # typing and dataclasses cost milliseconds on every pod command
if TYPE_CHECKING:
    from typing import Any

S = ContainerState


# ---------------------------------------------------------------- status
def pod_status(states: list[ContainerState]) -> str:
    """Podman's pod status from its containers' states (libpod createPodStatusResults)."""
    if not states:
        return "Created"
    running = sum(s == S.RUNNING for s in states)
    paused = sum(s == S.PAUSED for s in states)
    stopped = sum(s in (S.EXITED, S.STOPPED) for s in states)
    n = len(states)
    if running == n:
        return "Running"
    if running > 0:
        return "Degraded"
    if paused == n:
        return "Paused"
    if stopped == n:
        return "Exited"
    if stopped > 0:
        return "Stopped"
    if any(s == S.REMOVING for s in states):
        return "Error"
    return "Created"


def members(store: Any, pod: Pod) -> list[Container]:
    """The pod's containers (reconciled), infra first, then oldest first."""
    from engine.services.container_state import reconcile

    out = []
    for cid in store.pods.member_ids(pod.id):
        try:
            out.append(reconcile(store, store.containers.get(cid)))
        except HullError:
            continue
    out.sort(key=lambda c: (c.id != pod.infra_id, c.created))
    return out


def _lookup(store: Any, text: str) -> Pod:
    return store.pods.lookup(text)


def _event(cfg: EngineConfig, action: str, pod: Pod) -> None:
    from engine.services.events import emit

    emit(cfg, "pod", action, id=pod.id, name=pod.name)


# ---------------------------------------------------------------- lifecycle
def _pods(store: Any, names: list[str], all_: bool, latest: bool = False) -> list[Pod]:
    if all_:
        return store.pods.list()
    if latest:
        found = store.pods.list()
        if not found:
            raise PodNotFound("no pods to act on: no such pod")
        return found[:1]
    if not names:
        raise InvalidArgument("you must provide at least one name or id")
    return [_lookup(store, n) for n in names]


def _started_first(pod: Pod, ctrs: list[Container]) -> list[Container]:
    return sorted(ctrs, key=lambda c: (c.id != pod.infra_id, c.created))


def start(cfg: EngineConfig, names: list[str], all: bool = False, latest: bool = False) -> list[Pod]:
    from engine.services.containers import _start_one

    enter_userns(cfg)  # before any thread (_start_members)
    store = open_store(cfg)
    done = []
    for pod in _pods(store, names, all, latest):
        ctrs = members(store, pod)
        rest = [c for c in _started_first(pod, ctrs) if c.id != pod.infra_id]
        for c in ctrs:
            if c.id == pod.infra_id:
                _start_one(cfg, store, c)  # first: the members join its namespaces
        _start_members(cfg, store, rest)
        _event(cfg, "start", pod)
        done.append(pod)
    return done


def _start_members(cfg: EngineConfig, store: Any, ctrs: list[Container]) -> None:
    """The members at the same time (each start mostly waits for its monitor), each
    thread with its own Store (an SQLite connection is per thread); one needed by
    another (--requires, container:X) is started once, under its lock, by whichever
    comes first.  The first member's error (in start order) is raised once all have
    finished."""
    from engine.services.containers import _start_one

    if len(ctrs) < 2:
        for c in ctrs:
            _start_one(cfg, store, c)
        return
    import threading

    errors: dict[int, BaseException] = {}

    def run(i: int, c: Container) -> None:
        try:
            _start_one(cfg, open_store(cfg), c)
        except BaseException as exc:  # noqa: BLE001  (re-raised below, in the caller's thread)
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(ctrs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[min(errors)]


def stop(cfg: EngineConfig, names: list[str], timeout: int | None = None, all: bool = False,
         latest: bool = False, ignore: bool = False) -> list[Pod]:
    enter_userns(cfg)
    store = open_store(cfg)
    done = []
    for pod in _targets(store, names, all, latest, ignore):
        _stop_members(cfg, store, pod, timeout)
        _event(cfg, "stop", pod)
        done.append(pod)
    return done


def _targets(store: Any, names: list[str], all_: bool, latest: bool, ignore: bool) -> list[Pod]:
    if not ignore or all_ or latest:
        return _pods(store, names, all_, latest)
    out = []
    for n in names:
        try:
            out.append(_lookup(store, n))
        except PodNotFound:
            continue
    return out


def _stop_members(cfg: EngineConfig, store: Any, pod: Pod, timeout: int | None) -> None:
    """Members first (in parallel would be faster; in order keeps it simple), infra last."""
    from engine.services.containers import _stop_one

    ctrs = members(store, pod)
    for c in reversed(_started_first(pod, ctrs)):
        if c.state.active:
            _stop_one(cfg, store, c, timeout)


def restart(cfg: EngineConfig, names: list[str], all: bool = False, latest: bool = False,
            timeout: int | None = None) -> list[Pod]:
    from engine.services.containers import _start_one

    enter_userns(cfg)
    store = open_store(cfg)
    done = []
    for pod in _pods(store, names, all, latest):
        _stop_members(cfg, store, pod, timeout)
        for c in _started_first(pod, members(store, pod)):
            _start_one(cfg, store, store.containers.get(c.id))
        _event(cfg, "restart", pod)
        done.append(pod)
    return done


def kill(cfg: EngineConfig, names: list[str], signal: int | str = "KILL", all: bool = False,
         latest: bool = False) -> list[Pod]:
    from engine.services.containers import _mark_stopped_by_user, _signal_container
    from engine.spec.parse import parse_signal

    sig = parse_signal(signal)
    enter_userns(cfg)
    store = open_store(cfg)
    done = []
    for pod in _pods(store, names, all, latest):
        running = [c for c in members(store, pod) if c.state.active]
        if not running:
            if all:
                continue
            raise Conflict(f"pod {pod.id} has no running containers: container state improper")
        for c in reversed(_started_first(pod, running)):
            _mark_stopped_by_user(store, c)
            _signal_container(store, c, sig)
        _event(cfg, "kill", pod)
        done.append(pod)
    return done


def pause(cfg: EngineConfig, names: list[str], all: bool = False, latest: bool = False) -> list[Pod]:
    return _pause_resume(cfg, names, all, latest, pause=True)


def unpause(cfg: EngineConfig, names: list[str], all: bool = False, latest: bool = False) -> list[Pod]:
    return _pause_resume(cfg, names, all, latest, pause=False)


def _pause_resume(cfg: EngineConfig, names: list[str], all_: bool, latest: bool, pause: bool) -> list[Pod]:
    from engine.services.containers import _runtime
    from engine.services.events import container_event

    enter_userns(cfg)
    store = open_store(cfg)
    want, to = (S.RUNNING, S.PAUSED) if pause else (S.PAUSED, S.RUNNING)
    done = []
    for pod in _pods(store, names, all_, latest):
        ctrs = [c for c in members(store, pod) if c.state == want]
        if not ctrs and not all_:
            verb = "pause" if pause else "unpause"
            raise Conflict(f"pod {pod.id} has no {want.value} containers to {verb}: container state improper")
        for c in ctrs:
            runtime = _runtime(c, cfg)
            runtime.pause(c.id) if pause else runtime.resume(c.id)
            c = store.containers.transition(c.id, to, expect={want})
            container_event(cfg, "pause" if pause else "unpause", c)
        if ctrs:
            _event(cfg, "pause" if pause else "unpause", pod)
            done.append(pod)
    return done


# ---------------------------------------------------------------- rm / prune / exists
class PodRmReport(RemovalReport):
    """Podman's pod rm: 1 when every failure is an unknown pod, 2 when a pod has running
    containers (without --force), else 125."""

    NOT_FOUND = PodNotFound
    IN_USE = (StateImproper,)


def remove(cfg: EngineConfig, names: list[str], force: bool = False, all: bool = False, ignore: bool = False,
           timeout: int | None = None) -> PodRmReport:
    if all and names:
        raise InvalidArgument("when using the --all switch, you may not pass any pods names or IDs")
    enter_userns(cfg)
    store = open_store(cfg)

    def remove_one(text: str) -> str:
        pod = _lookup(store, text)
        _remove_one(cfg, store, pod, force, timeout)
        return pod.id

    targets = [p.id for p in store.pods.list()] if all else list(names)
    return PodRmReport().remove_each(targets, remove_one, ignore)


def _remove_one(cfg: EngineConfig, store: Any, pod: Pod, force: bool, timeout: int | None) -> None:
    from engine.services.containers import _destroy, _stop_container

    ctrs = members(store, pod)
    active = [c for c in ctrs if c.state.active and c.id != pod.infra_id]
    if active and not force:
        raise StateImproper(f"pod {pod.id} has containers that are not ready to be removed: cannot remove container "
                            f"{active[0].id} as it is {active[0].state.value} - running or paused containers cannot "
                            "be removed without force: container state improper")
    order = list(reversed(_started_first(pod, ctrs)))  # members first, the infra (the namespaces) last
    if not timeout:
        _kill_all(store, order)  # they all die at once; the stops below only collect them
    for c in order:
        if c.state.active:  # its network goes in _destroy (once, overlapping the rest)
            c = _stop_container(cfg, store, c, 0 if timeout is None else timeout)
        _destroy(cfg, store, c, volumes=False)
    store.pods.delete(pod.id)
    _event(cfg, "remove", pod)


def _kill_all(store: Any, ctrs: list[Container]) -> None:
    """SIGKILL every running member now (rm -f without a stop timeout, as Podman); a
    paused one is left to _stop_container, which resumes it first."""
    from engine.services.containers import _mark_stopped_by_user, _signal_container

    for c in ctrs:
        if c.state == S.RUNNING:
            _mark_stopped_by_user(store, c)
            _signal_container(store, c, _signal.SIGKILL)


def prune(cfg: EngineConfig) -> list[str]:
    """Remove every pod none of whose containers is running or paused."""
    enter_userns(cfg)
    store = open_store(cfg)
    removed = []
    for pod in store.pods.list():
        if any(c.state.active for c in members(store, pod)):
            continue
        try:
            _remove_one(cfg, store, pod, True, 0)
            removed.append(pod.id)
        except HullError:
            continue
    return removed


def exists(cfg: EngineConfig, text: str) -> bool:
    return open_store(cfg).pods.exists(text)


def infra_guard(store: Any, c: Container) -> None:
    """`hull rm` of an infra container is refused while its pod exists."""
    if not c.pod:
        return
    pod = store.pods.infra_of(c.id)
    if pod is not None:
        raise Conflict(f"container {c.id} is the infra container of pod {pod.id} and cannot be removed without "
                       "removing the pod")


def member_exited(cfg: EngineConfig, store: Any, c: Container) -> None:
    """Exit policy stop: once the last member (not the infra) has exited, stop the infra.
    Called by the services' after-exit cleanup (the monitor) and safe to call again."""
    if not c.pod:
        return
    try:
        pod = store.pods.get(c.pod)
    except PodNotFound:
        return
    if pod.exit_policy != "stop" or not pod.infra_id or c.id == pod.infra_id:
        return
    ctrs = members(store, pod)
    if any(m.state.active for m in ctrs if m.id != pod.infra_id):
        return
    infra = next((m for m in ctrs if m.id == pod.infra_id), None)
    if infra is not None and infra.state.active:
        from engine.services.containers import _stop_one

        _stop_one(cfg, store, infra, None)
        _event(cfg, "stop", pod)


# ---------------------------------------------------------------- re-exports
_CREATE_NAMES = ("PodCreateOptions", "parse_share", "create", "join_options", "new_pod_for", "prepare_member",
                 "clone")


def __getattr__(name: str) -> Any:
    if name in ("list_pods", "inspect", "PodSummary", "matches"):
        from engine.services import pod_inspect

        return getattr(pod_inspect, name)
    if name in _CREATE_NAMES:
        from engine.services import pod_create

        return getattr(pod_create, name)
    raise AttributeError(name)
