"""Making pods: `pod create`'s options and the pod with its infra container
(pod_infra.py), --pod new:NAME, how a container joins a pod (`join_options`,
`prepare_member` for container_create), and `pod clone`.  The lifecycle verbs over
an existing pod are in pods.py (which re-exports these names).

`create` is a DB write plus the infra container's create, as Podman's: no network,
helper or runtime work happens before `pod start`.
"""

from __future__ import annotations

import os

from engine.config import EngineConfig
from engine.errors import Conflict, HullError, InvalidArgument
from engine.record import Factory, Record
from engine.services.common import clone_name, enter_userns, open_store
from engine.store.pods import DEFAULT_SHARE, NAMESPACES, Pod

TYPE_CHECKING = False  # typing and dataclasses cost milliseconds on every pod command
if TYPE_CHECKING:
    from typing import Any


class PodCreateOptions(Record):
    name: str = ""
    infra: bool = True
    infra_image: str = ""
    infra_command: list[str] = Factory(list)
    infra_name: str = ""
    share: list[str] | None = None            # None = ipc,net,uts
    share_parent: bool = True
    hostname: str = ""
    labels: dict[str, str] = Factory(dict)
    exit_policy: str = "continue"
    cgroup_parent: str = ""
    replace: bool = False
    pod_id_file: str = ""
    create_command: list[str] = Factory(list)
    infra_conmon_pidfile: str = ""            # the infra's monitor pid (systemd PIDFile=)
    # what the infra container carries (ContainerOptions' fields of the same names)
    network: str = ""
    network_arg: str = ""
    networks: dict[str, Any] = Factory(dict)
    publish: list[Any] = Factory(list)
    dns: list[str] = Factory(list)
    dns_search: list[str] = Factory(list)
    dns_options: list[str] = Factory(list)
    add_hosts: list[str] = Factory(list)
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
            from engine.services.pods import remove

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


def _event(cfg: EngineConfig, action: str, pod: Pod) -> None:
    from engine.services.events import emit

    emit(cfg, "pod", action, id=pod.id, name=pod.name)


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    return value


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


# ---------------------------------------------------------------- clone
def clone(cfg: EngineConfig, text: str, name: str | None = None, destroy: bool = False,
          start_it: bool = False) -> Pod:
    """A new pod with the options of `text` (Podman: `<name>-clone`), without its members."""
    from engine.spec.options import NetworkAttachment, PortMapping

    from engine.services.pods import remove, start

    store = open_store(cfg)
    old = store.pods.lookup(text)
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
