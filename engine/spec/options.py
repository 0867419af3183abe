"""ContainerOptions: every `run`/`create` flag in typed form.

The CLI, the REST API and the console all build one of these; the services store it
in the state DB as JSON (`to_json`) and the monitor reads it back (`from_json`) to
apply the restart policy and healthchecks.  Text parsing lives in `parse.py`; this
module is pure data plus a small, generic JSON round trip over the records
(unknown keys are ignored and missing keys take defaults, so rows written by an
older Hull still load).
"""

from __future__ import annotations

import json

from engine.record import DataRecord, Factory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MOUNT_TYPES = ("bind", "volume", "tmpfs", "devpts")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
HEALTH_ON_FAILURE = ("none", "kill", "restart", "stop")


class _Option(DataRecord):
    """Records rather than dataclasses: `dataclasses` and the ~80 generated methods of
    these classes cost ~25 ms on every `run`/`create` (see engine/record.py).  The
    dataclasses API still works on them (DataRecord)."""


class MountSpec(_Option):
    """One -v, --mount or --tmpfs.  `source` is a host path (bind), a volume name
    (volume; "" = anonymous volume) or unused (tmpfs)."""

    type: str
    destination: str
    source: str = ""
    readonly: bool = False
    options: list[str] = Factory(list)  # nosuid noexec nodev suid exec dev
    propagation: str = ""        # "", private/rprivate, shared/rshared, slave/rslave, unbindable
    recursive: bool = True       # rbind (Podman's default for -v) vs bind
    relabel: str = ""            # "", "z" or "Z" (SELinux: accepted, no-op without SELinux)
    chown: bool = False          # U: chown the source to the container's root user
    overlay: bool = False        # O: overlay over the source, changes thrown away
    tmpfs_size: int | None = None    # bytes
    tmpfs_mode: int | None = None    # permission bits
    nocopy: bool = False         # volume: no copy-up of image content
    subpath: str = ""            # volume/bind: mount only this sub-directory
    idmap: bool = False

    @property
    def anonymous(self) -> bool:
        return self.type == "volume" and not self.source


class PortMapping(_Option):
    """One -p [ip:][hostPort:]containerPort[/proto] (a range is `range` > 1 consecutive
    ports starting at host_port/container_port).  host_port 0 = pick a free port at
    start (recorded in the container's network state, shown by `hull port`)."""

    container_port: int
    host_port: int = 0
    host_ip: str = ""            # "" = all addresses
    protocol: str = "tcp"        # tcp, udp, sctp
    range: int = 1


class NetworkAttachment(_Option):
    """One named network a container joins (--network NAME[:alias=a,ip=..,mac=..],
    --network-alias, --ip, --mac-address)."""

    aliases: list[str] = Factory(list)
    ip: str = ""                 # static IPv4 ("" = from IPAM)
    ip6: str = ""
    mac: str = ""
    interface_name: str = ""     # "" = eth0, eth1, ... in order


class RestartPolicy(_Option):
    name: str = "no"
    max_retries: int = 0        # on-failure only; 0 = unlimited


class HealthConfig(_Option):
    """--health-*; `test` is in image-config form: ["CMD-SHELL", cmd], ["CMD", ...] or
    ["NONE"].  Durations are seconds."""

    test: list[str] = Factory(list)
    interval: float = 30.0
    timeout: float = 30.0
    start_period: float = 0.0
    retries: int = 3
    on_failure: str = "none"


class Ulimit(_Option):
    name: str          # "nofile", as written after --ulimit (no RLIMIT_ prefix)
    soft: int          # -1 = unlimited
    hard: int


class Resources(_Option):
    memory: int | None = None               # bytes (-m)
    memory_reservation: int | None = None
    memory_swap: int | None = None          # -1 = unlimited
    cpus: float | None = None               # --cpus -> quota/period
    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    pids_limit: int | None = None           # -1 / 0 = unlimited
    oom_kill_disable: bool = False


class IDMapping(_Option):
    container_id: int
    host_id: int
    size: int


class DeviceSpec(_Option):
    """--device host[:container[:perms]]."""

    host_path: str
    container_path: str
    permissions: str = "rwm"


class SecretSpec(_Option):
    """--secret name[,type=mount|env,target=,uid=,gid=,mode=]."""

    name: str
    type: str = "mount"
    target: str = ""            # file name under /run/secrets, an absolute path, or the env name
    uid: int = 0
    gid: int = 0
    mode: int = 0o444


class SecurityOptions(_Option):
    """--security-opt and --privileged-adjacent switches."""

    no_new_privileges: bool = False
    seccomp_profile: str = ""        # "" = default profile, "unconfined", or a host path
    mask: list[str] = Factory(list)     # extra masked paths
    unmask: list[str] = Factory(list)   # paths (or "ALL") no longer masked
    label_disable: bool = False
    labels: list[str] = Factory(list)   # other label=... options, kept verbatim
    apparmor: str = ""
    proc_opts: list[str] = Factory(list)


class ContainerOptions(_Option):
    image: str = ""
    name: str = ""
    command: list[str] = Factory(list)
    entrypoint: list[str] | None = None      # None = the image's; [] = cleared
    env: dict[str, str] = Factory(dict)       # -e (last one wins)
    env_file: dict[str, str] = Factory(dict)  # --env-file, already parsed
    env_host: bool = False
    unset_env: list[str] = Factory(list)
    unset_env_all: bool = False
    workdir: str = ""
    user: str = ""
    group_add: list[str] = Factory(list)
    hostname: str = ""
    init: bool = False
    init_path: str = ""
    tty: bool = False
    console_size: list[int] = Factory(list)  # [rows, cols] of the pty from the start (Docker's ConsoleSize)
    interactive: bool = False
    detach: bool = False
    rm: bool = False
    attach: list[str] = Factory(list)
    sig_proxy: bool = True
    detach_keys: str = "ctrl-p,ctrl-q"
    mounts: list[MountSpec] = Factory(list)
    volumes_from: list[str] = Factory(list)
    read_only: bool = False
    read_only_tmpfs: bool = True
    cap_add: list[str] = Factory(list)
    cap_drop: list[str] = Factory(list)
    privileged: bool = False
    security: SecurityOptions = Factory(SecurityOptions)
    ulimits: list[Ulimit] = Factory(list)
    resources: Resources = Factory(Resources)
    shm_size: int | None = None
    oom_score_adj: int | None = None
    restart: RestartPolicy = Factory(RestartPolicy)
    healthcheck: HealthConfig | None = None
    no_healthcheck: bool = False
    labels: dict[str, str] = Factory(dict)
    annotations: dict[str, str] = Factory(dict)
    stop_signal: int | None = None
    stop_timeout: int | None = None
    userns: str = ""                  # "", host, keep-id[:uid=,gid=], auto[:size=], nomap
    uidmap: list[IDMapping] = Factory(list)
    gidmap: list[IDMapping] = Factory(list)
    pull: str = "missing"
    replace: bool = False
    cidfile: str = ""
    log_driver: str = "k8s-file"
    log_opts: dict[str, str] = Factory(dict)
    devices: list[DeviceSpec] = Factory(list)
    device_cgroup_rules: list[str] = Factory(list)
    sysctls: dict[str, str] = Factory(dict)
    timezone: str = ""
    secrets: list[SecretSpec] = Factory(list)
    # Networking (issue 4; contract in docs/architecture.md "Networking and pods").
    # network: the mode.  "" = the user's default (rootless: pasta, else slirp4netns;
    # root: bridge on the default network "hull"); none, host, private (a new netns with
    # loopback only: what issue 3 gave), bridge (named networks in `networks`), pasta,
    # slirp4netns, container (network_arg = container name/ID), ns (network_arg = path).
    network: str = ""
    network_arg: str = ""             # container:X -> X, ns:PATH -> PATH, pasta:OPTS/slirp4netns:OPTS
    networks: dict[str, NetworkAttachment] = Factory(dict)
    publish: list[PortMapping] = Factory(list)
    publish_all: bool = False
    expose: list[str] = Factory(list)   # "80/tcp" (added to the image's)
    dns: list[str] = Factory(list)
    dns_search: list[str] = Factory(list)
    dns_options: list[str] = Factory(list)
    add_hosts: list[str] = Factory(list)
    no_hosts: bool = False
    # Other shared namespaces: "" (private), host, container:X, ns:PATH; pods fill these.
    ipc: str = ""
    uts: str = ""
    pid: str = ""
    pod: str = ""                     # pod ID when the container belongs to a pod
    requires: list[str] = Factory(list)  # --requires: IDs of containers started before this one
    # systemd (issue 8): --sdnotify (""/ignore: nothing; conmon: the monitor sends READY=1 and
    # MAINPID; container: the socket goes into the container; healthy: READY once healthy),
    # --conmon-pidfile (the monitor's pid, plain, for PIDFile=), and the argv that made it
    # (CreateCommand: `generate systemd --new` rewrites it into the unit's ExecStart).
    sdnotify: str = ""
    conmon_pidfile: str = ""
    create_command: list[str] = Factory(list)

    # -- JSON round trip ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.as_dict()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ContainerOptions":
        return _load("ContainerOptions", data)

    @classmethod
    def from_json(cls, text: str | bytes) -> "ContainerOptions":
        return cls.from_dict(json.loads(text))


_HINTS: dict[type, dict[str, str]] = {}


def _hints(cls: type) -> dict[str, str]:
    """Field name -> annotation text (this module uses postponed annotations)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = {}
        for klass in reversed(cls.__mro__):
            hints.update(klass.__dict__.get("__annotations__", {}))
        hints = _HINTS[cls] = {name: str(hints[name]) for name in cls._fields}  # type: ignore[attr-defined]
    return hints


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _load(tp: str, value: Any) -> Any:
    """Rebuild a value of the annotated type `tp` (annotation text) from what
    `to_dict` + json produced."""
    if value is None:
        return None
    union = [p for p in _split_top(tp, "|") if p != "None"]
    if len(union) != 1:
        return value
    tp = union[0]
    cls = globals().get(tp)
    if isinstance(cls, type) and issubclass(cls, _Option):
        hints = _hints(cls)
        return cls(**{name: _load(hints[name], value[name]) for name in cls._fields if name in value})
    if tp.startswith("list[") and tp.endswith("]"):
        item = tp[5:-1]
        return [_load(item, v) for v in value]
    if tp.startswith("dict[") and tp.endswith("]"):
        item = _split_top(tp[5:-1], ",")[-1]
        return {str(k): _load(item, v) for k, v in value.items()}
    if tp == "float" and isinstance(value, int):
        return float(value)
    return value
