"""ContainerOptions: every `run`/`create` flag in typed form.

The CLI, the REST API and the console all build one of these; the services store it
in the state DB as JSON (`to_json`) and the monitor reads it back (`from_json`) to
apply the restart policy and healthchecks.  Text parsing lives in `parse.py`; this
module is pure data plus a small, generic JSON round trip over the dataclasses
(unknown keys are ignored and missing keys take defaults, so rows written by an
older Hull still load).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

MOUNT_TYPES = ("bind", "volume", "tmpfs", "devpts")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
HEALTH_ON_FAILURE = ("none", "kill", "restart", "stop")


@dataclass
class MountSpec:
    """One -v, --mount or --tmpfs.  `source` is a host path (bind), a volume name
    (volume; "" = anonymous volume) or unused (tmpfs)."""

    type: str
    destination: str
    source: str = ""
    readonly: bool = False
    options: list[str] = field(default_factory=list)  # nosuid noexec nodev suid exec dev
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


@dataclass
class PortMapping:
    """One -p [ip:][hostPort:]containerPort[/proto] (a range is `range` > 1 consecutive
    ports starting at host_port/container_port).  host_port 0 = pick a free port at
    start (recorded in the container's network state, shown by `hull port`)."""

    container_port: int
    host_port: int = 0
    host_ip: str = ""            # "" = all addresses
    protocol: str = "tcp"        # tcp, udp, sctp
    range: int = 1


@dataclass
class NetworkAttachment:
    """One named network a container joins (--network NAME[:alias=a,ip=..,mac=..],
    --network-alias, --ip, --mac-address)."""

    aliases: list[str] = field(default_factory=list)
    ip: str = ""                 # static IPv4 ("" = from IPAM)
    ip6: str = ""
    mac: str = ""
    interface_name: str = ""     # "" = eth0, eth1, ... in order


@dataclass
class RestartPolicy:
    name: str = "no"
    max_retries: int = 0        # on-failure only; 0 = unlimited


@dataclass
class HealthConfig:
    """--health-*; `test` is in image-config form: ["CMD-SHELL", cmd], ["CMD", ...] or
    ["NONE"].  Durations are seconds."""

    test: list[str] = field(default_factory=list)
    interval: float = 30.0
    timeout: float = 30.0
    start_period: float = 0.0
    retries: int = 3
    on_failure: str = "none"


@dataclass
class Ulimit:
    name: str          # "nofile", as written after --ulimit (no RLIMIT_ prefix)
    soft: int          # -1 = unlimited
    hard: int


@dataclass
class Resources:
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


@dataclass
class IDMapping:
    container_id: int
    host_id: int
    size: int


@dataclass
class DeviceSpec:
    """--device host[:container[:perms]]."""

    host_path: str
    container_path: str
    permissions: str = "rwm"


@dataclass
class SecretSpec:
    """--secret name[,type=mount|env,target=,uid=,gid=,mode=]."""

    name: str
    type: str = "mount"
    target: str = ""            # file name under /run/secrets, an absolute path, or the env name
    uid: int = 0
    gid: int = 0
    mode: int = 0o444


@dataclass
class SecurityOptions:
    """--security-opt and --privileged-adjacent switches."""

    no_new_privileges: bool = False
    seccomp_profile: str = ""        # "" = default profile, "unconfined", or a host path
    mask: list[str] = field(default_factory=list)     # extra masked paths
    unmask: list[str] = field(default_factory=list)   # paths (or "ALL") no longer masked
    label_disable: bool = False
    labels: list[str] = field(default_factory=list)   # other label=... options, kept verbatim
    apparmor: str = ""
    proc_opts: list[str] = field(default_factory=list)


@dataclass
class ContainerOptions:
    image: str = ""
    name: str = ""
    command: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None      # None = the image's; [] = cleared
    env: dict[str, str] = field(default_factory=dict)       # -e (last one wins)
    env_file: dict[str, str] = field(default_factory=dict)  # --env-file, already parsed
    env_host: bool = False
    unset_env: list[str] = field(default_factory=list)
    unset_env_all: bool = False
    workdir: str = ""
    user: str = ""
    group_add: list[str] = field(default_factory=list)
    hostname: str = ""
    init: bool = False
    init_path: str = ""
    tty: bool = False
    interactive: bool = False
    detach: bool = False
    rm: bool = False
    attach: list[str] = field(default_factory=list)
    sig_proxy: bool = True
    detach_keys: str = "ctrl-p,ctrl-q"
    mounts: list[MountSpec] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)
    read_only: bool = False
    read_only_tmpfs: bool = True
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    security: SecurityOptions = field(default_factory=SecurityOptions)
    ulimits: list[Ulimit] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    shm_size: int | None = None
    oom_score_adj: int | None = None
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    healthcheck: HealthConfig | None = None
    no_healthcheck: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    stop_signal: int | None = None
    stop_timeout: int | None = None
    userns: str = ""                  # "", host, keep-id[:uid=,gid=], auto[:size=], nomap
    uidmap: list[IDMapping] = field(default_factory=list)
    gidmap: list[IDMapping] = field(default_factory=list)
    pull: str = "missing"
    replace: bool = False
    cidfile: str = ""
    log_driver: str = "k8s-file"
    log_opts: dict[str, str] = field(default_factory=dict)
    devices: list[DeviceSpec] = field(default_factory=list)
    device_cgroup_rules: list[str] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    timezone: str = ""
    secrets: list[SecretSpec] = field(default_factory=list)
    # Networking (issue 4; contract in docs/architecture.md "Networking and pods").
    # network: the mode.  "" = the user's default (rootless: pasta, else slirp4netns;
    # root: bridge on the default network "hull"); none, host, private (a new netns with
    # loopback only: what issue 3 gave), bridge (named networks in `networks`), pasta,
    # slirp4netns, container (network_arg = container name/ID), ns (network_arg = path).
    network: str = ""
    network_arg: str = ""             # container:X -> X, ns:PATH -> PATH, pasta:OPTS/slirp4netns:OPTS
    networks: dict[str, NetworkAttachment] = field(default_factory=dict)
    publish: list[PortMapping] = field(default_factory=list)
    publish_all: bool = False
    expose: list[str] = field(default_factory=list)   # "80/tcp" (added to the image's)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)
    no_hosts: bool = False
    # Other shared namespaces: "" (private), host, container:X, ns:PATH; pods fill these.
    ipc: str = ""
    uts: str = ""
    pid: str = ""
    pod: str = ""                     # pod ID when the container belongs to a pod

    # -- JSON round trip ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ContainerOptions":
        return _load(cls, data)

    @classmethod
    def from_json(cls, text: str | bytes) -> "ContainerOptions":
        return cls.from_dict(json.loads(text))


def _load(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` from what `dataclasses.asdict` + json produced."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _load(args[0], value) if len(args) == 1 else value
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kwargs = {f.name: _load(hints[f.name], value[f.name])
                  for f in dataclasses.fields(tp) if f.init and f.name in value}
        return tp(**kwargs)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_load(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp)
        return {str(k): _load(item, v) for k, v in value.items()}
    if tp is float and isinstance(value, int):
        return float(value)
    return value
