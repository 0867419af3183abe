"""Pod services: create, list, inspect, the lifecycle verbs over a pod's containers,
rm, prune, exists, clone, and how a container joins a pod (`join_options`).

A pod's members are the containers whose `pod` column holds its id; the infra
container (pod_infra.py) is one of them and is started first and stopped last.
Members join the pod's shared namespaces through it: net as
`network="container", network_arg=<infra id>`, ipc/uts/pid as "container:<infra id>"
(the container: mechanism of engine/network, see docs/architecture.md).  The pod's
status is derived from its members' states, as Podman does.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.errors import Conflict, HullError, InvalidArgument, PodNotFound
from engine.services.common import clone_name, enter_userns, open_store
from engine.services.containers import StateImproper
from engine.services.removal import RemovalReport
from engine.store.containers import Container, ContainerState
from engine.store.pods import DEFAULT_SHARE, NAMESPACES, Pod

S = ContainerState


@dataclass
class PodCreateOptions:
    name: str = ""
    infra: bool = True
    infra_image: str = ""
    infra_command: list[str] = field(default_factory=list)
    infra_name: str = ""
    share: list[str] | None = None            # None = ipc,net,uts
    share_parent: bool = True
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exit_policy: str = "continue"
    cgroup_parent: str = ""
    replace: bool = False
    pod_id_file: str = ""
    create_command: list[str] = field(default_factory=list)
    infra_conmon_pidfile: str = ""            # the infra's monitor pid (systemd PIDFile=)
    # what the infra container carries (ContainerOptions' fields of the same names)
    network: str = ""
    network_arg: str = ""
    networks: dict[str, Any] = field(default_factory=dict)
    publish: list[Any] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)
    no_hosts: bool = False


def parse_share(text: str | None) -> list[str]:
    """--share: "ipc,net" (replace the default), "+pid" (add to it), "" (nothing)."""
    if text is None:
        return list(DEFAULT_SHARE)
    words = [w.strip() for w in text.split(",") if w.strip()]
    extend = bool(words) and words[0].startswith("+")
    out = list(DEFAULT_SHARE) if extend else []
    for w in words:
        w = w.removeprefix("+")
        if w == "none":
            continue
        if w not in NAMESPACES:
            raise InvalidArgument(f'invalid kernel namespace to share: {w}. Options are: cgroup, ipc, net, pid, uts '
                                  'or none')
        if w not in out:
            out.append(w)
    return out


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


# ---------------------------------------------------------------- create
def create(cfg: EngineConfig, opts: PodCreateOptions) -> Pod:
    """Record the pod and create its infra container (not started, as Podman)."""
    enter_userns(cfg)
    store = open_store(cfg)
    shared = parse_share(None) if opts.share is None else list(opts.share)
    if not opts.infra:
        if opts.share is not None and shared:
            raise InvalidArgument("you must have an infra container to share namespaces")
        shared = []
        for flag, given in (("-p", opts.publish), ("--network", opts.network), ("--dns", opts.dns),
                            ("--add-host", opts.add_hosts), ("--infra-image", opts.infra_image),
                            ("--infra-command", opts.infra_command), ("--infra-name", opts.infra_name)):
            if given:
                raise InvalidArgument(f"cannot set {flag} without an infra container")
    elif opts.publish and "net" not in shared:
        raise InvalidArgument("cannot add ports to a pod that does not share its network namespace")
    if opts.replace and opts.name and store.pods.exists(opts.name):
        old = store.pods.lookup(opts.name)
        if old.name == opts.name:
            remove(cfg, [old.id], force=True, timeout=0)
    id_fd = _open_id_file(opts.pod_id_file)
    options = {
        "network": opts.network, "network_arg": opts.network_arg,
        "networks": {k: _plain(v) for k, v in opts.networks.items()},
        "publish": [_plain(p) for p in opts.publish], "dns": list(opts.dns), "dns_search": list(opts.dns_search),
        "dns_options": list(opts.dns_options), "add_hosts": list(opts.add_hosts), "no_hosts": opts.no_hosts,
        "infra_image": opts.infra_image, "infra_command": list(opts.infra_command),
        "infra_name": opts.infra_name, "infra": opts.infra, "create_command": list(opts.create_command),
        "hostname_given": opts.hostname,
    }
    pod = None
    try:
        pod = store.pods.create(opts.name or None, shared=shared, share_parent=opts.share_parent,
                                labels=opts.labels, hostname=opts.hostname, exit_policy=opts.exit_policy,
                                cgroup_parent=opts.cgroup_parent, options=options)
        if not pod.hostname and "uts" in shared:
            # Podman: members sharing the pod's UTS namespace are called after the pod
            with store.db.transaction() as conn:
                conn.execute("UPDATE pods SET hostname = ? WHERE id = ?", (pod.name, pod.id))
            pod = store.pods.get(pod.id)
        if opts.infra:
            from engine.services.pod_infra import create_infra

            pod = store.pods.set_infra(pod.id, create_infra(cfg, store, pod, opts))
        if id_fd is not None:
            os.write(id_fd, pod.id.encode())
    except BaseException:
        if pod is not None:
            _undo(cfg, store, pod)
        if id_fd is not None:
            os.close(id_fd)
            id_fd = None
            try:
                os.unlink(opts.pod_id_file)
            except OSError:
                pass
        raise
    finally:
        if id_fd is not None:
            os.close(id_fd)
    _event(cfg, "create", pod)
    return pod


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def _open_id_file(path: str) -> int | None:
    if not path:
        return None
    from engine.errors import StorageError

    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise Conflict(f"pod id file exists. Ensure another pod is not using it or delete {path}") from None
    except OSError as exc:
        raise StorageError(f"opening pod-id-file: open {path}: {(exc.strerror or str(exc)).lower()}") from None


def _undo(cfg: EngineConfig, store: Any, pod: Pod) -> None:
    from engine.services.containers import RmOptions, remove as rm_containers

    ids = store.pods.member_ids(pod.id)
    store.pods.delete(pod.id)  # first: the infra container is then an ordinary one to rm
    if ids:
        try:
            rm_containers(cfg, ids, RmOptions(force=True, time=0))
        except HullError:
            pass


# ---------------------------------------------------------------- joining a pod
def join_options(cfg: EngineConfig, opts: Any, pod: Pod, given: dict[str, bool] | None = None) -> Any:
    """`opts` (ContainerOptions) for a member of `pod`: Podman's refusals for what the pod
    owns, then the shared namespaces through the infra container.  `given` says which of
    hostname/network/publish the user set explicitly (defaults fill some of them)."""
    given = given or {}
    shares_net = "net" in pod.shared and pod.infra_id
    if shares_net and (opts.publish or opts.publish_all or opts.expose and given.get("expose")):
        raise InvalidArgument("invalid config provided: published or exposed ports must be defined when the pod "
                              "is created: network cannot be configured when it is shared with a pod")
    if shares_net and given.get("network"):
        raise InvalidArgument("invalid config provided: networks must be defined when the pod is created: "
                              "network cannot be configured when it is shared with a pod")
    if "uts" in pod.shared and pod.infra_id and opts.hostname:
        raise InvalidArgument("invalid config provided: cannot set hostname when joining the pod UTS namespace: "
                              "invalid configuration")
    opts.pod = pod.id
    if not pod.infra_id:
        return opts
    target = f"container:{pod.infra_id}"
    if shares_net:
        opts.network, opts.network_arg, opts.networks = "container", pod.infra_id, {}
        # the pod's /etc/hosts and resolv.conf entries come with its network
        opts.dns = list(pod.options.get("dns") or []) + [d for d in opts.dns if d not in (pod.options.get("dns") or [])]
        opts.add_hosts = list(pod.options.get("add_hosts") or []) + list(opts.add_hosts)
    if "ipc" in pod.shared:
        opts.ipc = target
    if "uts" in pod.shared:
        opts.uts = target
        opts.hostname = pod.hostname
    if "pid" in pod.shared:
        opts.pid = target
    return opts


def new_pod_for(cfg: EngineConfig, name: str, opts: Any) -> Pod:
    """--pod new:NAME: a pod with defaults; the container's -p, --network, --dns and
    --add-host go to the pod's infra (Podman moves them there)."""
    pod_opts = PodCreateOptions(name=name, publish=list(opts.publish), dns=list(opts.dns),
                                add_hosts=list(opts.add_hosts))
    if opts.network not in ("", "private"):
        pod_opts.network, pod_opts.network_arg = opts.network, opts.network_arg
        pod_opts.networks = dict(opts.networks)
    opts.publish, opts.dns, opts.add_hosts = [], [], []
    opts.network, opts.network_arg, opts.networks = "", "", {}
    return create(cfg, pod_opts)


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

    enter_userns(cfg)
    store = open_store(cfg)
    done = []
    for pod in _pods(store, names, all, latest):
        ctrs = members(store, pod)
        for c in _started_first(pod, ctrs):
            _start_one(cfg, store, c)
        _event(cfg, "start", pod)
        done.append(pod)
    return done


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
    from engine.services.containers import _destroy, _stop_one

    ctrs = members(store, pod)
    active = [c for c in ctrs if c.state.active and c.id != pod.infra_id]
    if active and not force:
        raise StateImproper(f"pod {pod.id} has containers that are not ready to be removed: cannot remove container "
                            f"{active[0].id} as it is {active[0].state.value} - running or paused containers cannot "
                            "be removed without force: container state improper")
    # members first, the infra (holding the namespaces) last
    for c in reversed(_started_first(pod, ctrs)):
        if c.state.active:
            c = _stop_one(cfg, store, c, 0 if timeout is None else timeout)
        _destroy(cfg, store, c, volumes=False)
    store.pods.delete(pod.id)
    _event(cfg, "remove", pod)


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


# ---------------------------------------------------------------- clone
def clone(cfg: EngineConfig, text: str, name: str | None = None, destroy: bool = False,
          start_it: bool = False) -> Pod:
    """A new pod with the options of `text` (Podman: `<name>-clone`), without its members."""
    from engine.spec.options import NetworkAttachment, PortMapping

    store = open_store(cfg)
    old = _lookup(store, text)
    o = old.options
    new_name = name or clone_name(old.name, store.pods.exists)
    opts = PodCreateOptions(
        name=new_name, infra=bool(o.get("infra", True)), infra_image=o.get("infra_image", ""),
        infra_command=list(o.get("infra_command") or []), infra_name="",
        share=list(old.shared), share_parent=old.share_parent, hostname=o.get("hostname_given", ""),
        labels=dict(old.labels), exit_policy=old.exit_policy, cgroup_parent=old.cgroup_parent,
        network=o.get("network", ""), network_arg=o.get("network_arg", ""),
        networks={k: NetworkAttachment(**v) for k, v in (o.get("networks") or {}).items()},
        publish=[PortMapping(**p) for p in o.get("publish") or []],
        dns=list(o.get("dns") or []), dns_search=list(o.get("dns_search") or []),
        dns_options=list(o.get("dns_options") or []), add_hosts=list(o.get("add_hosts") or []),
        no_hosts=bool(o.get("no_hosts")), create_command=list(o.get("create_command") or []))
    if destroy:
        remove(cfg, [old.id], force=True)
    pod = create(cfg, opts)
    if start_it:
        start(cfg, [pod.id])
    return pod


# ---------------------------------------------------------------- reading (ps, inspect)
def __getattr__(name: str) -> Any:
    if name in ("list_pods", "inspect", "PodSummary", "matches"):
        from engine.services import pod_inspect

        return getattr(pod_inspect, name)
    raise AttributeError(name)



def prepare_member(cfg: EngineConfig, store: Any, opts: Any) -> Any:
    """container_create's step for `opts.pod` (a pod name/ID or "new:NAME"): make the
    new pod if asked, then join it.  The infra container itself passes through (its pod
    has no infra id yet)."""
    text = opts.pod
    if text.startswith("new:"):
        name = text[4:]
        if not name:
            raise InvalidArgument("new pod name must be at least one character")
        pod = new_pod_for(cfg, name, opts)
    else:
        pod = store.pods.lookup(text)
        if not pod.infra_id:
            opts.pod = pod.id
            return opts
    given = {"network": opts.network not in ("", "private") or bool(opts.networks)}
    return join_options(cfg, opts, pod, given)
