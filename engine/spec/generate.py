"""Image config + ContainerOptions -> OCI runtime config.json, as Podman generates it.

Pure computation over its inputs plus a few reads of the host (rlimits, device
nodes, zoneinfo, the image's passwd/group inside the rootfs): the services decide
paths, volumes, secrets and id maps and pass them in a SpecContext.  The result
validates against the OCI runtime schema (tests check every case).
"""

from __future__ import annotations

import os
import posixpath
import stat

from engine.errors import InvalidArgument
from engine.record import DataRecord, Factory  # not dataclasses: ms on every run
from engine.spec import defaults
from engine.spec.options import ContainerOptions, IDMapping, MountSpec
from engine.spec.parse import CAPABILITIES, ULIMIT_NAMES, parse_signal
from engine.spec.seccomp import seccomp_for
from engine.spec.users import ImageAccounts, ResolvedUser

OCI_VERSION = "1.1.0"
NO_COMMAND = "no command or entrypoint provided, and no CMD or ENTRYPOINT from image"
CPU_PERIOD = 100000
ANNOTATION_PREFIX = "io.podman.annotations."


class SpecContext(DataRecord):
    """What the services know about this container and its host."""

    container_id: str
    rootfs: str                                   # mounted rootfs (root.path)
    rootless: bool = False
    single_id_map: bool = False                   # rootless without a subuid range
    host_uid: int = 0                             # the real user (keep-id)
    host_gid: int = 0
    ns_uid_size: int = 65537                      # ids in Hull's rootless namespace
    ns_gid_size: int = 65537
    uid_maps: list[IDMapping] | None = None       # ready maps (--userns=auto as root...)
    gid_maps: list[IDMapping] | None = None
    hostname_path: str | None = None              # userdata files bind-mounted in
    hosts_path: str | None = None
    resolv_conf_path: str | None = None
    containerenv_path: str | None = None          # /run/.containerenv
    volume_sources: dict[str, str] = Factory(dict)     # destination -> host dir
    overlay_options: dict[str, list[str]] = Factory(dict)  # dest -> overlay opts (O)
    secret_paths: dict[str, str] = Factory(dict)       # secret name -> host file
    secret_env: dict[str, str] = Factory(dict)         # secret name -> value
    init_path: str = "/usr/libexec/podman/catatonit"
    host_env: dict[str, str] | None = None        # for --env-host (default os.environ)
    zoneinfo_dir: str = "/usr/share/zoneinfo"
    cgroups_available: bool = True                # False: limits dropped with a warning
    cgroup_mount: bool = True                     # mount /sys/fs/cgroup (ro) as Podman
    cgroups_path: str | None = None
    accounts: ImageAccounts | None = None         # preloaded passwd/group (tests)
    host_capabilities: frozenset[str] | None = None   # our bounding set (None: read it)
    warnings: list[str] = Factory(list)


# --------------------------------------------------------------------------- process

def command_args(image_config: dict, opts: ContainerOptions) -> list[str]:
    """Docker's rules: --entrypoint replaces the image's and drops its Cmd."""
    cfg = image_config.get("config") or image_config
    if opts.entrypoint is not None:
        args = list(opts.entrypoint) + list(opts.command)
    else:
        entry = list(cfg.get("Entrypoint") or [])
        args = entry + (list(opts.command) if opts.command else list(cfg.get("Cmd") or []))
    if opts.init and args:
        args = ["/run/podman-init", "--"] + args
    if not args:
        raise InvalidArgument(NO_COMMAND)
    return args


def _env_list_to_dict(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if key:
            out[key] = value
    return out


def merged_env(image_config: dict, opts: ContainerOptions, ctx: SpecContext,
               hostname: str, home: str) -> dict[str, str]:
    """defaults < image Env < --env-host < --env-file < -e < secrets (type=env); HOME last."""
    cfg = image_config.get("config") or image_config
    env: dict[str, str] = {}
    if not opts.unset_env_all:
        env.update(defaults.default_env(tty=opts.tty, hostname=hostname))
        env.update(_env_list_to_dict(cfg.get("Env") or []))
        for name in opts.unset_env:
            env.pop(name, None)
    if opts.env_host:
        env.update(os.environ if ctx.host_env is None else ctx.host_env)
    env.update(opts.env_file)
    env.update(opts.env)
    for secret in opts.secrets:
        if secret.type == "env":
            if secret.name not in ctx.secret_env:
                raise InvalidArgument(f"{secret.name}: no such secret")
            env[secret.target or secret.name] = ctx.secret_env[secret.name]
    env.setdefault("HOME", home)
    return env


def host_bounding() -> frozenset[str]:
    """Capabilities in this process's bounding set: --privileged and --cap-add=ALL
    can give no more (a container engine run with some dropped, as here, would
    otherwise fail in capset)."""
    from engine.runtime.capabilities import NAMES

    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapBnd:"):
                    mask = int(line.split()[1], 16)
                    return frozenset(name for i, name in enumerate(NAMES) if mask >> i & 1)
    except (OSError, ValueError):
        pass
    return frozenset(CAPABILITIES)


def _capabilities(opts: ContainerOptions, uid: int, ctx: SpecContext) -> dict:
    everything = list(CAPABILITIES)
    if opts.privileged or "ALL" in opts.cap_add:
        held = host_bounding() if ctx.host_capabilities is None else ctx.host_capabilities
        everything = [c for c in CAPABILITIES if c in held]
    if opts.privileged:
        base = everything
    else:
        base = list(defaults.DEFAULT_CAPABILITIES)
    adds = [c for c in opts.cap_add]
    drops = [c for c in opts.cap_drop]
    if "ALL" in drops:
        caps = [c for c in CAPABILITIES if c in adds] if "ALL" not in adds else everything
    elif "ALL" in adds:
        caps = [c for c in everything if c not in drops]
    else:
        caps = [c for c in CAPABILITIES if (c in base or c in adds) and c not in drops]
    if uid == 0:
        return {"bounding": caps, "effective": caps, "permitted": caps}
    # A non-root user keeps the bounding set but holds only what --cap-add gave it
    # (Podman passes those as ambient, which needs them inheritable too).
    user_caps = [c for c in caps if "ALL" in adds or c in adds]
    return {"bounding": caps, "effective": user_caps, "permitted": user_caps,
            "inheritable": user_caps, "ambient": user_caps}


def _rlimits(opts: ContainerOptions, ctx: SpecContext) -> list[dict]:
    out: list[dict] = []
    seen: set[str] = set()
    for ul in opts.ulimits:
        rtype = ULIMIT_NAMES.get(ul.name, "RLIMIT_" + ul.name.upper())
        soft, hard = defaults.clamp_rlimit(rtype, ul.soft, ul.hard, ctx.rootless)
        if (soft, hard) != (ul.soft if ul.soft >= 0 else 2**64 - 1, ul.hard if ul.hard >= 0 else 2**64 - 1):
            ctx.warnings.append(f"--ulimit {ul.name} lowered to {soft}:{hard}: the host's limit")
        out = [r for r in out if r["type"] != rtype]
        out.append({"type": rtype, "soft": soft, "hard": hard})
        seen.add(rtype)
    return out + defaults.default_rlimits(ctx.rootless, seen)


def _oom_score_adj(value: int | None, rootless: bool) -> int | None:
    if value is None:
        return None
    if not -1000 <= value <= 1000:
        raise InvalidArgument(f"oom_score_adj must be between -1000 and 1000: {value}")
    if rootless:  # an unprivileged process can only raise it
        try:
            with open("/proc/self/oom_score_adj") as fh:
                current = int(fh.read().strip())
        except (OSError, ValueError):
            current = 0
        value = max(value, current)
    return value


# --------------------------------------------------------------------------- mounts

def _depth(dest: str) -> int:
    return len([p for p in dest.split("/") if p])


def _bind(dest: str, source: str, options: list[str]) -> dict:
    return {"destination": dest, "type": "bind", "source": source, "options": options}


def _user_mount(m: MountSpec, ctx: SpecContext) -> dict:
    flags = list(m.options)
    if m.type == "tmpfs":
        opts = ["ro" if m.readonly else "rw"]
        for fam in (("noexec", "exec"), ("nosuid", "suid"), ("nodev", "dev")):
            if not any(o == fam[0] or o == fam[1] for o in flags):
                opts.append(fam[0])
        opts += flags
        if m.tmpfs_size is not None:
            opts.append(f"size={m.tmpfs_size}")
        if m.tmpfs_mode is not None:
            opts.append(f"mode={m.tmpfs_mode:o}")
        return {"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": opts}
    if m.type == "devpts":
        return {"destination": m.destination, "type": "devpts", "source": "devpts",
                "options": flags}
    if m.overlay:
        if m.destination not in ctx.overlay_options:
            raise InvalidArgument(f"{m.destination}: overlay mount (O) was not prepared")
        return {"destination": m.destination, "type": "overlay", "source": "overlay",
                "options": list(ctx.overlay_options[m.destination])}
    opts = list(flags)
    if m.readonly:
        opts.append("ro")
    if m.type == "volume":
        source = ctx.volume_sources.get(m.destination)
        if not source:
            raise InvalidArgument(f"{m.source or 'anonymous volume'}: no volume prepared for {m.destination}")
        if m.subpath:
            parts = [p for p in m.subpath.split("/") if p and p != "."]
            if ".." in parts:
                raise InvalidArgument(f'volume subpath "{m.subpath}" must not contain ".."')
            source = os.path.join(source, *parts) if parts else source
        for fam in (("nosuid", "suid"), ("nodev", "dev")):
            if not any(o in fam for o in flags):
                opts.append(fam[0])
    else:
        source = m.source
    opts.append(m.propagation or "rprivate")
    opts.append("rbind" if m.recursive else "bind")
    return _bind(m.destination, source, opts)


def _device(dev, ctx: SpecContext) -> tuple[dict | None, dict | None, dict | None]:
    """(linux.devices entry, resources.devices rule, bind mount) for one --device."""
    try:
        st = os.stat(dev.host_path)
    except OSError as exc:
        raise InvalidArgument(f"stat {dev.host_path}: {os.strerror(exc.errno or 2).lower()}") from None
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise InvalidArgument(f"{dev.host_path} is not a device")
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    if ctx.rootless:  # no mknod in a user namespace: bind the host's node
        opts = ["bind", "rprivate", "nosuid", "noexec"]
        if "w" not in dev.permissions:
            opts.append("ro")
        return None, None, _bind(dev.container_path, dev.host_path, opts)
    entry = {"path": dev.container_path, "type": kind, "major": major, "minor": minor,
             "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    rule = {"allow": True, "type": kind, "major": major, "minor": minor, "access": dev.permissions}
    return entry, rule, None


def parse_device_cgroup_rule(text: str) -> dict:
    """`c 1:3 rwm`, `a *:* rwm` -> a resources.devices rule."""
    parts = text.split()
    if len(parts) != 3 or parts[0] not in ("a", "b", "c") or ":" not in parts[1]:
        raise InvalidArgument(f"invalid device cgroup rule requires type, major:Minor, and access rules: {text!r}")
    major_s, _, minor_s = parts[1].partition(":")
    rule: dict = {"allow": True, "type": parts[0], "access": parts[2]}
    for key, val in (("major", major_s), ("minor", minor_s)):
        if val != "*":
            if not val.isdigit():
                raise InvalidArgument(f"invalid device cgroup rule: {text!r}")
            rule[key] = int(val)
    if not parts[2] or any(c not in "rwm" for c in parts[2]):
        raise InvalidArgument(f"invalid device cgroup rule access: {text!r}")
    return rule


def _timezone_mount(tz: str, ctx: SpecContext) -> dict | None:
    if not tz:
        return None
    if tz == "local":
        source = os.path.realpath("/etc/localtime")
    else:
        parts = tz.split("/")
        if tz.startswith("/") or ".." in parts or not all(parts):
            raise InvalidArgument(f"finding timezone: unknown time zone {tz}")
        source = os.path.join(ctx.zoneinfo_dir, *parts)
    if not os.path.isfile(source):
        raise InvalidArgument(f"finding timezone: unknown time zone {tz}")
    return _bind("/etc/localtime", source, ["bind", "rprivate", "ro"])


def _secret_mounts(opts: ContainerOptions, ctx: SpecContext) -> list[dict]:
    out = []
    for secret in opts.secrets:
        if secret.type != "mount":
            continue
        source = ctx.secret_paths.get(secret.name)
        if not source:
            raise InvalidArgument(f"{secret.name}: no such secret")
        target = secret.target or secret.name
        dest = target if target.startswith("/") else posixpath.join("/run/secrets", target)
        out.append(_bind(posixpath.normpath(dest), source, ["bind", "rprivate", "ro"]))
    return out


# --------------------------------------------------------------------------- user namespace

def userns_maps(opts: ContainerOptions, ctx: SpecContext) -> tuple[list[dict], list[dict]] | None:
    """uid/gid maps of a new user namespace, or None when the container stays in Hull's."""
    def dump(maps: list[IDMapping]) -> list[dict]:
        return [{"containerID": m.container_id, "hostID": m.host_id, "size": m.size} for m in maps]

    if opts.uidmap or opts.gidmap:
        uids = opts.uidmap or opts.gidmap
        gids = opts.gidmap or opts.uidmap
        if ctx.rootless:  # our namespace maps 0 and 1.. from two host ranges
            uids, gids = _split_at(uids, 1), _split_at(gids, 1)
        return dump(uids), dump(gids)
    mode, _, extra = opts.userns.partition(":")
    if mode in ("", "host"):
        return None
    if ctx.uid_maps is not None and ctx.gid_maps is not None:
        return dump(ctx.uid_maps), dump(ctx.gid_maps)
    if mode == "keep-id":
        if not ctx.rootless:
            raise InvalidArgument("keep-id is only supported in rootless mode")
        kv = dict(p.partition("=")[::2] for p in extra.split(",") if p)
        uid = int(kv.get("uid", ctx.host_uid))
        gid = int(kv.get("gid", ctx.host_gid))
        return dump(_keep_id(uid, ctx.ns_uid_size)), dump(_keep_id(gid, ctx.ns_gid_size))
    if mode in ("auto", "nomap", "private"):
        if not ctx.rootless:
            raise InvalidArgument(f"--userns={mode}: no id range was allocated for this container")
        kv = dict(p.partition("=")[::2] for p in extra.split(",") if p)
        usize = min(int(kv.get("size", ctx.ns_uid_size - 1)), ctx.ns_uid_size - 1)
        gsize = min(int(kv.get("size", ctx.ns_gid_size - 1)), ctx.ns_gid_size - 1)
        if usize < 1 or gsize < 1:
            raise InvalidArgument(f"--userns={mode} needs a subordinate id range (/etc/subuid)")
        return dump([IDMapping(0, 1, usize)]), dump([IDMapping(0, 1, gsize)])
    raise InvalidArgument(f"unrecognized namespace mode {opts.userns} passed")


def _split_at(maps: list[IDMapping], boundary: int) -> list[IDMapping]:
    """Each extent of a child map must fall in one extent of its parent's map: split
    those that cross `boundary` (a host id where the parent's extents meet)."""
    out = []
    for m in maps:
        if m.host_id < boundary < m.host_id + m.size:
            head = boundary - m.host_id
            out += [IDMapping(m.container_id, m.host_id, head),
                    IDMapping(m.container_id + head, boundary, m.size - head)]
        else:
            out.append(m)
    return out


def _keep_id(intermediate: int, size: int) -> list[IDMapping]:
    """Podman's keep-id inside the rootless namespace: the user's own id (namespace 0)
    appears as `intermediate`, subuids fill the rest around it."""
    maps = []
    if intermediate > 0:
        maps.append(IDMapping(0, 1, min(intermediate, size - 1)))
    maps.append(IDMapping(intermediate, 0, 1))
    if size - 1 - intermediate > 0:
        maps.append(IDMapping(intermediate + 1, intermediate + 1, size - 1 - intermediate))
    return maps


def _maps_cover(maps: list[dict], cid: int) -> bool:
    return any(m["containerID"] <= cid < m["containerID"] + m["size"] for m in maps)


# --------------------------------------------------------------------------- the spec

def build_spec(image_config: dict, opts: ContainerOptions, ctx: SpecContext) -> dict:
    cfg = image_config.get("config") or image_config
    args = command_args(image_config, opts)

    # user: --user, else the image's User, else root
    user_text = opts.user or cfg.get("User") or ""
    maps = userns_maps(opts, ctx)
    if not user_text and opts.userns.startswith("keep-id") and maps is not None:
        kv = dict(p.partition("=")[::2] for p in opts.userns.partition(":")[2].split(",") if p)
        user_text = f"{kv.get('uid', ctx.host_uid)}:{kv.get('gid', ctx.host_gid)}"
    accounts = ctx.accounts or ImageAccounts.from_rootfs(ctx.rootfs)
    user: ResolvedUser = accounts.resolve(user_text, opts.group_add)

    if (opts.network == "host" or opts.uts == "host") and not opts.hostname:
        hostname = os.uname().nodename
    else:
        hostname = opts.hostname or ctx.container_id[:12]
    env = merged_env(image_config, opts, ctx, hostname, user.home)

    workdir = opts.workdir or cfg.get("WorkingDir") or "/"
    if opts.workdir and not opts.workdir.startswith("/"):
        raise InvalidArgument(f'workdir "{opts.workdir}" must be an absolute path')
    workdir = posixpath.normpath(posixpath.join("/", workdir))

    process: dict = {
        "terminal": bool(opts.tty),
        **({"consoleSize": {"height": opts.console_size[0], "width": opts.console_size[1]}}
           if opts.tty and opts.console_size else {}),
        "user": {"uid": user.uid, "gid": user.gid, "umask": 0o022},
        "args": args,
        "env": [f"{k}={v}" for k, v in env.items()],
        "cwd": workdir,
        "capabilities": _capabilities(opts, user.uid, ctx),
        "rlimits": _rlimits(opts, ctx),
        "noNewPrivileges": bool(opts.security.no_new_privileges),
    }
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    oom = _oom_score_adj(opts.oom_score_adj, ctx.rootless)
    if oom is not None:
        process["oomScoreAdj"] = oom
    if opts.security.apparmor and opts.security.apparmor != "unconfined":
        process["apparmorProfile"] = opts.security.apparmor

    # namespaces
    namespaces = _namespaces(opts)
    linux: dict = {"namespaces": namespaces}
    if maps is not None:
        namespaces.append({"type": "user"})
        linux["uidMappings"], linux["gidMappings"] = maps

    # mounts
    new_userns = maps is not None
    gid5 = _maps_cover(maps[1], 5) if maps is not None else not ctx.single_id_map
    sysfs_bind = opts.network == "host" and (ctx.rootless or new_userns)
    base = defaults.default_mounts(
        shm_size=opts.shm_size if opts.shm_size is not None else defaults.DEFAULT_SHM_SIZE,
        sysfs_bind=sysfs_bind, devpts_gid5=gid5, privileged=opts.privileged,
        cgroup=ctx.cgroup_mount)
    extra: list[dict] = []
    for dest, path in (("/etc/hostname", ctx.hostname_path), ("/etc/hosts", ctx.hosts_path),
                       ("/etc/resolv.conf", ctx.resolv_conf_path),
                       ("/run/.containerenv", ctx.containerenv_path)):
        if path:
            bopts = ["bind", "rprivate"]
            if opts.read_only:
                bopts += ["ro", "nosuid", "noexec", "nodev"]
            extra.append(_bind(dest, path, bopts))
    user_mounts = [_user_mount(m, ctx) for m in opts.mounts]
    seen: set[str] = set()
    for m in user_mounts:
        if m["destination"] in seen:
            raise InvalidArgument(f"{m['destination']}: duplicate mount destination")
        seen.add(m["destination"])
    if opts.read_only and opts.read_only_tmpfs:
        for dest in ("/tmp", "/var/tmp", "/run"):
            if dest not in seen:
                user_mounts.append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                                    "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]})
    tz = _timezone_mount(opts.timezone, ctx)
    if tz:
        extra.append(tz)
    if opts.init:
        extra.append(_bind("/run/podman-init", ctx.init_path, ["bind", "rprivate", "ro"]))
    extra += _secret_mounts(opts, ctx)

    devices, dev_rules = [], []
    for dev in opts.devices:
        entry, rule, mount = _device(dev, ctx)
        if entry:
            devices.append(entry)
        if rule:
            dev_rules.append(rule)
        if mount:
            extra.append(mount)

    overridden = seen | {m["destination"] for m in extra}
    later = sorted(extra + user_mounts, key=lambda m: _depth(m["destination"]))
    # a user mount on a default destination replaces the default one
    mounts = [m for m in base if m["destination"] not in overridden] + later

    # masked / read-only paths
    if opts.privileged:
        masked, readonly = [], []
    else:
        masked, readonly = defaults.masked_paths(), list(defaults.READONLY_PATHS)
        unmask = opts.security.unmask
        if "ALL" in unmask:
            masked, readonly = [], []
        else:
            masked = [p for p in masked if p not in unmask]
            readonly = [p for p in readonly if p not in unmask]
        masked += [p for p in opts.security.mask if p not in masked]
    linux["maskedPaths"] = masked
    linux["readonlyPaths"] = readonly
    if devices:
        linux["devices"] = devices

    resources = _resources(opts, ctx, dev_rules)
    if resources:
        linux["resources"] = resources
    if ctx.cgroups_path:
        linux["cgroupsPath"] = ctx.cgroups_path
    if opts.sysctls:
        linux["sysctl"] = dict(opts.sysctls)
    seccomp = seccomp_for(opts.security.seccomp_profile, process["capabilities"]["bounding"],
                          opts.privileged)
    if seccomp is not None:
        linux["seccomp"] = seccomp

    spec = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": ctx.rootfs, "readonly": bool(opts.read_only)},
        "hostname": hostname,
        "mounts": mounts,
        "annotations": _annotations(opts, cfg),
        "linux": linux,
    }
    if opts.uts == "host" or opts.uts.startswith(("container:", "ns:")):
        del spec["hostname"]  # not our namespace: its hostname stays as it is
    return spec


def _namespaces(opts: ContainerOptions) -> list[dict]:
    """host: not unshared; ns:PATH: joined; container:X: joined, its path (the other
    container's /proc/<pid>/ns/<type>) written at each start by engine/network/lifecycle.py."""
    modes = {"pid": opts.pid, "ipc": opts.ipc, "uts": opts.uts,
             "network": {"host": "host", "ns": f"ns:{opts.network_arg}"}.get(opts.network, "")}
    out: list[dict] = []
    for t in ("pid", "mount", "ipc", "uts", "cgroup", "network"):
        mode = modes.get(t, "")
        if mode == "host":
            continue
        out.append({"type": t, "path": mode[3:]} if mode.startswith("ns:") else {"type": t})
    return out


def _resources(opts: ContainerOptions, ctx: SpecContext, dev_rules: list[dict]) -> dict:
    r = opts.resources
    out: dict = {}
    memory: dict = {}
    if r.memory is not None:
        memory["limit"] = r.memory
        if r.memory_swap is None:
            memory["swap"] = 2 * r.memory  # Podman: swap defaults to twice the memory limit
    if r.memory_swap is not None:
        memory["swap"] = r.memory_swap
    if r.memory_reservation is not None:
        memory["reservation"] = r.memory_reservation
    if r.oom_kill_disable:
        memory["disableOOMKiller"] = True
    cpu: dict = {}
    if r.cpu_shares is not None:
        cpu["shares"] = r.cpu_shares
    if r.cpus is not None and r.cpus > 0:
        cpu["period"] = CPU_PERIOD
        cpu["quota"] = int(r.cpus * CPU_PERIOD)
    if r.cpu_period is not None:
        cpu["period"] = r.cpu_period
    if r.cpu_quota is not None:
        cpu["quota"] = r.cpu_quota
    if r.cpuset_cpus:
        cpu["cpus"] = r.cpuset_cpus
    if r.cpuset_mems:
        cpu["mems"] = r.cpuset_mems
    limits = bool(memory or cpu or (r.pids_limit is not None and r.pids_limit > 0))
    if limits and not ctx.cgroups_available:
        ctx.warnings.append("Resource limits are not supported and ignored on cgroups V1 rootless systems"
                            if ctx.rootless else "Resource limits are not supported and ignored: the built-in "
                            "runtime needs cgroup v2 controllers here (--runtime runc can use v1)")
    elif limits:
        if memory:
            out["memory"] = memory
        if cpu:
            out["cpu"] = cpu
        if r.pids_limit is not None and r.pids_limit > 0:
            out["pids"] = {"limit": r.pids_limit}
    rules = [] if opts.privileged or ctx.rootless else [{"allow": False, "access": "rwm"}]
    rules += dev_rules
    rules += [parse_device_cgroup_rule(t) for t in opts.device_cgroup_rules]
    if rules:
        out["devices"] = rules
    return out


def _annotations(opts: ContainerOptions, cfg: dict) -> dict[str, str]:
    ann = {"io.container.manager": "libpod"}
    for flag, key in ((opts.rm, "autoremove"), (opts.init, "init"),
                      (opts.privileged, "privileged")):
        if flag:
            ann[ANNOTATION_PREFIX + key] = "TRUE"
    if opts.userns:
        ann[ANNOTATION_PREFIX + "userns"] = opts.userns
    stop = opts.stop_signal
    if stop is None and cfg.get("StopSignal"):
        try:
            stop = parse_signal(cfg["StopSignal"])
        except InvalidArgument:
            stop = None
    ann["org.opencontainers.image.stopSignal"] = str(stop or 15)
    ann.update(opts.annotations)
    return ann
